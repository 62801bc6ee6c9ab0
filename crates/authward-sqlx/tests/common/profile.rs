//! The testkit's `Profile` stored in three real columns, for every backend.

use authward_sqlx::{ExtraColumn, ExtraColumns, SqlQuery};
use authward_testkit::Profile;
use sqlx::Row;

/// Maps `Profile` onto the columns `nickname`, `bio` and `age`.
pub struct ProfileColumns;

const COLUMNS: &[ExtraColumn] = &[
    ExtraColumn {
        name: "nickname",
        sql_type: "VARCHAR(100) NOT NULL DEFAULT ''",
    },
    ExtraColumn {
        name: "bio",
        sql_type: "TEXT",
    },
    ExtraColumn {
        name: "age",
        sql_type: "INTEGER NOT NULL DEFAULT 0",
    },
];

macro_rules! profile_columns {
    ($db:ty) => {
        impl ExtraColumns<$db> for ProfileColumns {
            type Value = Profile;

            fn columns() -> &'static [ExtraColumn] {
                COLUMNS
            }

            fn bind<'q>(p: &'q Profile, query: SqlQuery<'q, $db>) -> SqlQuery<'q, $db> {
                query.bind(&p.nickname).bind(&p.bio).bind(p.age)
            }

            fn decode(row: &<$db as sqlx::Database>::Row) -> Result<Profile, sqlx::Error> {
                Ok(Profile {
                    nickname: row.try_get("nickname")?,
                    bio: row.try_get("bio")?,
                    age: row.try_get("age")?,
                })
            }
        }
    };
}

#[cfg(feature = "sqlite")]
profile_columns!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
profile_columns!(sqlx::Postgres);
#[cfg(feature = "mysql")]
profile_columns!(sqlx::MySql);

/// One real column, `handle`, with a unique constraint of the application's own.
pub struct HandleColumn;

const HANDLE: &[ExtraColumn] = &[ExtraColumn {
    name: "handle",
    sql_type: "VARCHAR(100) NOT NULL UNIQUE",
}];

macro_rules! handle_column {
    ($db:ty) => {
        impl ExtraColumns<$db> for HandleColumn {
            type Value = String;

            fn columns() -> &'static [ExtraColumn] {
                HANDLE
            }

            fn bind<'q>(handle: &'q String, query: SqlQuery<'q, $db>) -> SqlQuery<'q, $db> {
                query.bind(handle)
            }

            fn decode(row: &<$db as sqlx::Database>::Row) -> Result<String, sqlx::Error> {
                row.try_get("handle")
            }
        }
    };
}

#[cfg(feature = "sqlite")]
handle_column!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
handle_column!(sqlx::Postgres);
#[cfg(feature = "mysql")]
handle_column!(sqlx::MySql);
