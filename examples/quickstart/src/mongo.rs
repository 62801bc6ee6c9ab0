//! `DATABASE_URL=mongodb://...`: users, database-strategy tokens and JWT revocations in
//! MongoDB, laid out as FastAPI Users' Beanie adapter lays them out (collections `User` and
//! `AccessToken`, ObjectId IDs), so a Beanie application's database can be served as it is.
//!
//! The database is the URL's path (`mongodb://host/app`), `authward` without one. The
//! strategies, settings and routes are the same as with SQL; JWT revocations go to the
//! collection `JwtRevocation` (or Redis with `AUTHWARD_JWT_REVOCATIONS=redis`).

use std::sync::Arc;

use authward::axum::openapi::Mounts;
use authward::axum::{AuthBackend, Authward, AuthwardConfig, BearerTransport, Transport};
use authward::cache::CachedUserDatabase;
use authward::mongodb::bson::oid::ObjectId;
use authward::mongodb::{MongoAccessTokenDatabase, MongoUserDatabase};
use authward::redis::{RedisAccessTokenDatabase, RedisTokenOptions};
use authward::strategy::{DatabaseStrategy, JwtKey, JwtRevocationStore, JwtStrategy, Strategy};
use authward::{BoxError, FailFast, PasswordHelper, User, UserManager};
use axum::Router;
use axum::routing::get;
use time::Duration;

use crate::config::{Config, RevocationsKind, StrategyKind};
use crate::mailer::DevMailer;

type MongoUser = User<ObjectId>;

/// Serves the quickstart (or runs its subcommand) on MongoDB.
pub async fn run(config: Config, args: Vec<String>) -> Result<(), BoxError> {
    let options = authward::mongodb::ConnectOptions::new().app_name("authward-quickstart");
    let client = options.connect(&config.database_url).await?;
    let name = options
        .client_options(&config.database_url)
        .await?
        .default_database
        .unwrap_or_else(|| "authward".to_owned());
    let result = serve(&config, &client.database(&name), args).await;
    client.shutdown().await;
    result
}

async fn serve(
    config: &Config,
    db: &authward::mongodb::mongodb::Database,
    args: Vec<String>,
) -> Result<(), BoxError> {
    let store = MongoUserDatabase::<MongoUser>::new(db);
    store.bootstrap().await?;
    let users = CachedUserDatabase::new(FailFast::new(store))
        .with_ttl(Duration::milliseconds(config.user_cache_ms));
    // Kept until the server stops: dropping the listener suspends the cache.
    let (users, _invalidations) =
        crate::invalidation::connect(&config.invalidation_nodes, users).await?;
    let lifetime = Duration::seconds(config.token_lifetime);
    let tokens = MongoAccessTokenDatabase::<ObjectId>::new(db).with_lifetime(Some(lifetime));
    tokens.bootstrap().await?;

    let mut passwords = PasswordHelper::default().with_max_concurrency(config.hash_concurrency);
    if config.hash_niceness > 0 {
        passwords = passwords.with_low_priority_threads(config.hash_niceness)?;
    }
    let manager = UserManager::builder(users, &config.secret)
        .password_helper(passwords)
        .hooks(DevMailer::new(config.mailbox.clone()))
        .build()?;

    if let Some(command) = args.first() {
        return match (command.as_str(), args.get(1), args.get(2)) {
            ("create-superuser", Some(email), Some(password)) => {
                let user = manager.create_superuser(email, password).await?;
                println!("created superuser {} ({})", user.email, user.id);
                Ok(())
            }
            _ => Err("usage: quickstart [create-superuser EMAIL PASSWORD]".into()),
        };
    }

    let transport = Transport::Bearer(BearerTransport::new("auth/jwt/login"));
    let backend = match config.strategy {
        StrategyKind::Jwt => {
            let builder = JwtStrategy::builder(JwtKey::hs256(&config.secret)?, lifetime);
            let revocations = match config.jwt_revocations {
                // Records expire with the tokens they revoke (TTL index).
                RevocationsKind::Database => Some(JwtRevocationStore::new({
                    let store =
                        MongoAccessTokenDatabase::<ObjectId>::with_collection(db, "JwtRevocation")
                            .with_lifetime(Some(lifetime));
                    store.bootstrap().await?;
                    FailFast::new(store)
                })),
                RevocationsKind::Redis => {
                    let options = RedisTokenOptions::new()
                        .key_prefix("authward_jwt_revocation:")
                        .lifetime(Some(lifetime));
                    Some(JwtRevocationStore::new(FailFast::new(
                        RedisAccessTokenDatabase::<ObjectId>::connect(&config.redis_url, options)
                            .await?,
                    )))
                }
                RevocationsKind::None => None,
            };
            match revocations {
                Some(revocations) => {
                    let jwt: Arc<dyn Strategy<MongoUser>> =
                        Arc::new(builder.revocations(revocations).build()?);
                    AuthBackend::new("jwt", transport, jwt)
                }
                None => AuthBackend::new("jwt", transport, Arc::new(builder.build()?)).stateless(),
            }
        }
        StrategyKind::Database => AuthBackend::new(
            "jwt",
            transport,
            Arc::new(DatabaseStrategy::new(FailFast::new(tokens), Some(lifetime))),
        ),
        StrategyKind::Redis => {
            let options = RedisTokenOptions::new().lifetime(Some(lifetime));
            let redis = FailFast::new(
                RedisAccessTokenDatabase::<ObjectId>::connect(&config.redis_url, options).await?,
            );
            AuthBackend::new(
                "jwt",
                transport,
                Arc::new(DatabaseStrategy::new(redis, Some(lifetime))),
            )
        }
    };
    let aw = Authward::new(manager, vec![backend], AuthwardConfig::default())?;
    let app = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .nest("/auth/jwt", aw.auth_router("jwt"))
        .nest("/auth", aw.register_router())
        .nest("/auth", aw.reset_password_router())
        .nest("/auth", aw.verify_router())
        .nest("/users", aw.users_router())
        .merge(aw.openapi_router(Mounts::fastapi_users_default(["jwt"])))
        .merge(crate::docs::router());
    let app = authward::axum::fallback::json_fallbacks(app);

    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(
        address = %config.bind,
        strategy = ?config.strategy,
        database = %db.name(),
        "authward quickstart listening (MongoDB)"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
