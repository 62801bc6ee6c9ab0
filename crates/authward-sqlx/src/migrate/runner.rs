//! [`SqlxRunner`]: the shared schema's statements over one sqlx connection.

use authward_sql_schema::Dialect as SchemaDialect;

/// One sqlx connection (in the migration's transaction where the database has one), running
/// the statements of [`authward_sql_schema`].
pub(crate) struct SqlxRunner<'c, C> {
    conn: &'c mut C,
    dialect: SchemaDialect,
}

impl<'c, C> SqlxRunner<'c, C> {
    /// Runs the migration on `conn`, a connection to a `dialect` database.
    pub(crate) fn new(conn: &'c mut C, dialect: SchemaDialect) -> Self {
        Self { conn, dialect }
    }
}

/// Implements [`authward_sql_schema::Runner`] for a runner over `$conn`, a connection of
/// database `$db` (the three differ only in these types).
macro_rules! sqlx_runner {
    ($db:ty, $conn:ty) => {
        #[async_trait::async_trait]
        impl authward_sql_schema::Runner for $crate::migrate::runner::SqlxRunner<'_, $conn> {
            type Error = sqlx::Error;

            fn dialect(&self) -> authward_sql_schema::Dialect {
                self.dialect
            }

            async fn execute(
                &mut self,
                sql: &str,
                params: &[authward_sql_schema::Param<'_>],
            ) -> Result<(), sqlx::Error> {
                use authward_sql_schema::Param;
                let mut query = sqlx::query::<$db>(sql);
                for param in params {
                    query = match *param {
                        Param::Text(text) => query.bind(text),
                        Param::Bytes(bytes) => query.bind(bytes),
                    };
                }
                query.execute(&mut *self.conn).await.map(drop)
            }

            async fn fetch(
                &mut self,
                sql: &str,
                params: &[authward_sql_schema::Param<'_>],
                columns: &[authward_sql_schema::Kind],
            ) -> Result<Vec<Vec<authward_sql_schema::Cell>>, sqlx::Error> {
                use authward_sql_schema::{Cell, Kind, Param};
                use sqlx::Row;
                let mut query = sqlx::query::<$db>(sql);
                for param in params {
                    query = match *param {
                        Param::Text(text) => query.bind(text),
                        Param::Bytes(bytes) => query.bind(bytes),
                    };
                }
                let rows = query.fetch_all(&mut *self.conn).await?;
                rows.iter()
                    .map(|row| {
                        columns
                            .iter()
                            .enumerate()
                            .map(|(i, kind)| {
                                Ok(match kind {
                                    Kind::Text => row
                                        .try_get::<Option<String>, _>(i)?
                                        .map_or(Cell::Null, Cell::Text),
                                    Kind::Bytes => row
                                        .try_get::<Option<Vec<u8>>, _>(i)?
                                        .map_or(Cell::Null, Cell::Bytes),
                                })
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    };
}

#[cfg(feature = "postgres")]
sqlx_runner!(sqlx::Postgres, sqlx::PgConnection);
#[cfg(feature = "mysql")]
sqlx_runner!(sqlx::MySql, sqlx::MySqlConnection);
#[cfg(feature = "sqlite")]
sqlx_runner!(sqlx::Sqlite, sqlx::SqliteConnection);
