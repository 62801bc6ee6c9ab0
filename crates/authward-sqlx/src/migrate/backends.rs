//! [`Migrate`] for each database: the connection the shared migration runs on (a transaction
//! where DDL is transactional, one pooled connection on MySQL).

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use {
    super::runner::SqlxRunner,
    super::{Migrate, MigrateError, TokenPlan, UserPlan, schema_error},
    authward_sql_schema::Dialect as SchemaDialect,
    futures::future::BoxFuture,
    sqlx::Pool,
};

/// `Migrate` for a database with transactional DDL: each migration is one transaction.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
macro_rules! transactional {
    ($db:ty, $dialect:expr) => {
        impl Migrate for $db {
            fn migrate_users<'a>(
                pool: &'a Pool<Self>,
                plan: &'a UserPlan,
            ) -> BoxFuture<'a, Result<(), MigrateError>> {
                Box::pin(async move {
                    let mut tx = pool.begin().await.map_err(schema_error)?;
                    let mut runner = SqlxRunner::new(&mut *tx, $dialect);
                    authward_sql_schema::migrate_users(&mut runner, plan).await?;
                    tx.commit().await.map_err(schema_error)
                })
            }

            fn migrate_tokens<'a>(
                pool: &'a Pool<Self>,
                plan: &'a TokenPlan,
            ) -> BoxFuture<'a, Result<(), MigrateError>> {
                Box::pin(async move {
                    let mut tx = pool.begin().await.map_err(schema_error)?;
                    let mut runner = SqlxRunner::new(&mut *tx, $dialect);
                    authward_sql_schema::migrate_tokens(&mut runner, plan).await?;
                    tx.commit().await.map_err(schema_error)
                })
            }
        }
    };
}

#[cfg(feature = "postgres")]
transactional!(sqlx::Postgres, SchemaDialect::Postgres);
#[cfg(feature = "sqlite")]
transactional!(sqlx::Sqlite, SchemaDialect::Sqlite);

/// MySQL commits DDL at once: the migration runs on one pooled connection and makes each step
/// safe to run again.
#[cfg(feature = "mysql")]
impl Migrate for sqlx::MySql {
    fn migrate_users<'a>(
        pool: &'a Pool<Self>,
        plan: &'a UserPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut conn = pool.acquire().await.map_err(schema_error)?;
            let mut runner = SqlxRunner::new(&mut *conn, SchemaDialect::MySql);
            Ok(authward_sql_schema::migrate_users(&mut runner, plan).await?)
        })
    }

    fn migrate_tokens<'a>(
        pool: &'a Pool<Self>,
        plan: &'a TokenPlan,
    ) -> BoxFuture<'a, Result<(), MigrateError>> {
        Box::pin(async move {
            let mut conn = pool.acquire().await.map_err(schema_error)?;
            let mut runner = SqlxRunner::new(&mut *conn, SchemaDialect::MySql);
            Ok(authward_sql_schema::migrate_tokens(&mut runner, plan).await?)
        })
    }
}
