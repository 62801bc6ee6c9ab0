//! A PostgreSQL migration that has nothing to do is silent: no "already exists, skipping"
//! NOTICE reaches the log at INFO on the second and later starts (sqlx logs every NOTICE the
//! server sends at INFO, under the target `sqlx::postgres::notice`).
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use authward_sqlx::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use authward_sqlx::{SqlxAccessTokenDatabase, SqlxUserDatabase};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Records the PostgreSQL notices logged at INFO or above.
#[derive(Clone, Default)]
struct Notices(Arc<Mutex<Vec<String>>>);

impl<S: Subscriber> Layer<S> for Notices {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() == "sqlx::postgres::notice" && *meta.level() <= Level::INFO {
            self.0
                .lock()
                .unwrap()
                .push(format!("{} {:?}", meta.level(), event));
        }
    }
}

#[tokio::test]
async fn a_migration_with_nothing_to_do_logs_no_notice() {
    let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = format!("aw_quiet_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    authward_sqlx::sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&admin)
        .await
        .unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let users = SqlxUserDatabase::<_, uuid::Uuid>::new(pool.clone()).unwrap();
    let tokens = SqlxAccessTokenDatabase::<_, uuid::Uuid>::new(pool.clone());
    users.migrate().await.unwrap();
    tokens.migrate().await.unwrap();

    let notices = Notices::default();
    let subscriber = tracing_subscriber::registry().with(notices.clone());
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        users.migrate().await.unwrap();
        tokens.migrate().await.unwrap();
    }
    // The check can see a notice: one sent outside the migrations is recorded.
    let control = Notices::default();
    {
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(control.clone()));
        authward_sqlx::sqlx::query("CREATE TABLE IF NOT EXISTS \"user\" (id int)")
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    authward_sqlx::sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&admin)
        .await
        .unwrap();

    assert_eq!(notices.0.lock().unwrap().clone(), Vec::<String>::new());
    assert_eq!(
        control.0.lock().unwrap().len(),
        1,
        "the control NOTICE is recorded"
    );
}
