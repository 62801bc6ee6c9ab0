//! The application's own user fields: real columns it declares ([`ExtraColumns`]), or one
//! JSON column for any serde type ([`JsonExtra`]).

use std::marker::PhantomData;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use sqlx::Row;

use crate::backend::{Backend, SqlQuery};
use authward_sql_schema::ExtraColumn;

/// How the application's custom user fields map onto real columns of the user table.
///
/// Implement it on a marker type of your own (so the orphan rule never gets in the way, even
/// for a value type from another crate), then use the marker as the store's third parameter:
/// `SqlxUserDatabase<Postgres, Uuid, ProfileColumns>` stores `User<Uuid, Profile>`.
///
/// ```
/// # #[cfg(feature = "postgres")] mod demo {
/// use authward_sqlx::{ExtraColumn, ExtraColumns, SqlQuery, sqlx::{self, Postgres, Row}};
///
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Profile { pub nickname: String, pub bio: Option<String>, pub age: i32 }
///
/// pub struct ProfileColumns;
///
/// impl ExtraColumns<Postgres> for ProfileColumns {
///     type Value = Profile;
///
///     fn columns() -> &'static [ExtraColumn] {
///         &[
///             ExtraColumn { name: "nickname", sql_type: "VARCHAR(100) NOT NULL DEFAULT ''" },
///             ExtraColumn { name: "bio", sql_type: "TEXT" },
///             ExtraColumn { name: "age", sql_type: "INTEGER NOT NULL DEFAULT 0" },
///         ]
///     }
///
///     // Bind in the order of `columns()`.
///     fn bind<'q>(p: &'q Profile, query: SqlQuery<'q, Postgres>) -> SqlQuery<'q, Postgres> {
///         query.bind(&p.nickname).bind(&p.bio).bind(p.age)
///     }
///
///     fn decode(row: &sqlx::postgres::PgRow) -> Result<Profile, sqlx::Error> {
///         Ok(Profile {
///             nickname: row.try_get("nickname")?,
///             bio: row.try_get("bio")?,
///             age: row.try_get("age")?,
///         })
///     }
/// }
/// # }
/// ```
pub trait ExtraColumns<DB: Backend>: Send + Sync + 'static {
    /// The custom fields, `X` in `User<ID, X>`.
    type Value: Clone + Send + Sync + 'static;

    /// The columns, in binding order. Names must not clash with authward's own columns
    /// (`id`, `email`, `email_key`, `hashed_password`, `is_active`, `is_superuser`,
    /// `is_verified`).
    fn columns() -> &'static [ExtraColumn];

    /// Binds one value per column, in the order of [`ExtraColumns::columns`].
    fn bind<'q>(value: &'q Self::Value, query: SqlQuery<'q, DB>) -> SqlQuery<'q, DB>;

    /// Reads the fields back from a user row (which holds every declared column by name).
    fn decode(row: &DB::Row) -> Result<Self::Value, sqlx::Error>;
}

/// No custom fields: `User<ID, ()>`.
impl<DB: Backend> ExtraColumns<DB> for () {
    type Value = ();

    fn columns() -> &'static [ExtraColumn] {
        &[]
    }

    fn bind<'q>(_value: &'q (), query: SqlQuery<'q, DB>) -> SqlQuery<'q, DB> {
        query
    }

    fn decode(_row: &DB::Row) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Zero-code custom fields: any serde type `X`, stored in one JSON column named `extra`
/// (`JSONB` on PostgreSQL, `JSON` on MySQL/MariaDB, `TEXT` on SQLite).
///
/// Rows without a value (users created before the column existed) read as `X::default()`.
pub struct JsonExtra<X>(PhantomData<fn() -> X>);

/// The column [`JsonExtra`] uses.
pub const JSON_EXTRA_COLUMN: &str = "extra";

macro_rules! json_extra {
    ($db:ty, $feature:literal, $sql_type:literal) => {
        #[cfg(feature = $feature)]
        impl<X> ExtraColumns<$db> for JsonExtra<X>
        where
            X: serde::Serialize
                + serde::de::DeserializeOwned
                + Default
                + Clone
                + Send
                + Sync
                + 'static,
        {
            type Value = X;

            fn columns() -> &'static [ExtraColumn] {
                &[ExtraColumn {
                    name: JSON_EXTRA_COLUMN,
                    sql_type: $sql_type,
                }]
            }

            fn bind<'q>(value: &'q X, query: SqlQuery<'q, $db>) -> SqlQuery<'q, $db> {
                query.bind(sqlx::types::Json(value))
            }

            fn decode(row: &<$db as sqlx::Database>::Row) -> Result<X, sqlx::Error> {
                let stored: Option<sqlx::types::Json<X>> = row.try_get(JSON_EXTRA_COLUMN)?;
                Ok(stored.map(|json| json.0).unwrap_or_default())
            }
        }
    };
}

json_extra!(sqlx::Postgres, "postgres", "JSONB");
json_extra!(sqlx::MySql, "mysql", "JSON");
json_extra!(sqlx::Sqlite, "sqlite", "TEXT");
