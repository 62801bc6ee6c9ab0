//! Configuration from the environment.

use std::net::SocketAddr;

use base64::Engine;

/// Which token strategy the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyKind {
    /// Stateless JWTs (the default).
    Jwt,
    /// Tokens in the SQL database (as digests).
    Database,
    /// Tokens in Redis (as digests).
    Redis,
}

/// Where the JWT strategy keeps its revocations (logouts, log-out-everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationsKind {
    /// A table of the quickstart's own database, `jwtrevocation` (the default).
    Database,
    /// Redis (`AUTHWARD_REDIS_URL`), for several servers sharing one set of revocations.
    Redis,
    /// None: FastAPI Users' behaviour (logout answers 204 and the token lives until it expires,
    /// no log-out-everywhere). For comparison only.
    None,
}

/// Everything the server reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `AUTHWARD_BIND`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// `DATABASE_URL`, default `sqlite://authward.db` (created on first run).
    pub database_url: String,
    /// `AUTHWARD_SECRET` (at least 32 bytes); random with a warning when unset.
    pub secret: String,
    /// `AUTHWARD_STRATEGY`: `jwt` (default), `database` or `redis`.
    pub strategy: StrategyKind,
    /// `AUTHWARD_REDIS_URL`, default `redis://127.0.0.1:6379/`.
    pub redis_url: String,
    /// `AUTHWARD_JWT_REVOCATIONS`: `database` (default), `redis` or `none`.
    pub jwt_revocations: RevocationsKind,
    /// `AUTHWARD_DEV_MAILBOX`: a file receiving one JSON line per verify / reset message.
    pub mailbox: Option<String>,
    /// `AUTHWARD_TOKEN_LIFETIME` in seconds, default 3600.
    pub token_lifetime: i64,
    /// `AUTHWARD_REFRESH_LIFETIME` in seconds: refresh tokens (in the database, table
    /// `refreshtoken`) living this long; unset or `0`: no refresh tokens.
    pub refresh_lifetime: Option<i64>,
    /// `AUTHWARD_DB_MAX_CONNECTIONS`: the pool size, default 4 (SQLite) / twice the cores, at
    /// least 4 (PostgreSQL).
    pub max_connections: Option<u32>,
    /// `AUTHWARD_USER_CACHE_MS`: how long a loaded user is served from memory, default 1000;
    /// `0` turns the cache off (see `authward::cache` for the trade-off).
    pub user_cache_ms: i64,
    /// `AUTHWARD_HASH_CONCURRENCY`: password hashes computed at once. Default: one less than
    /// the number of cores (at least one), so a login storm always leaves a core to the other
    /// requests.
    pub hash_concurrency: usize,
    /// `AUTHWARD_HASH_NICE`: how much lower the password-hashing threads' CPU priority is
    /// (0–19, default 10; 0 keeps the hashing threads at normal priority).
    pub hash_niceness: i32,
    /// `AUTHWARD_THROTTLE`: `memory` (default; one server), `redis` (`AUTHWARD_REDIS_URL`,
    /// shared by several servers) or `off`.
    pub throttle: ThrottleKind,
    /// `AUTHWARD_TRUSTED_PROXIES`: comma-separated networks (`10.0.0.0/8,::1/128`) whose
    /// `X-Forwarded-For` / `Forwarded` name the client; default none.
    pub trusted_proxies: Vec<(std::net::IpAddr, u8)>,
    /// `AUTHWARD_LEGACY_HASHES`: `none` (default), `fastapi-users` (pwdlib argon2 and bcrypt
    /// 12), `pwdlib-argon2` or `bcrypt12`: adopted hash classes the database may still hold,
    /// so that logins of every class cost the same.
    pub legacy_hashes: Vec<authward::HashClass>,
    /// `AUTHWARD_CACHE_INVALIDATION`: `none` (default; one server) or `redis`: user-cache
    /// invalidations shared with the other servers over Redis pub/sub (see `invalidation.rs`).
    /// Holds the bus's nodes, empty when off.
    pub invalidation_nodes: Vec<String>,
}

/// Where the throttling budgets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    /// In the process.
    Memory,
    /// In Redis.
    Redis,
    /// No throttling.
    Off,
}

fn parse_network(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let ip: std::net::IpAddr = ip
        .trim()
        .parse()
        .map_err(|e| format!("AUTHWARD_TRUSTED_PROXIES: {text}: {e}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("AUTHWARD_TRUSTED_PROXIES: {text}: bad prefix"))?,
        None => max,
    };
    Ok((ip, prefix))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, String> {
        let bind = var("AUTHWARD_BIND")
            .unwrap_or_else(|| "127.0.0.1:8000".into())
            .parse()
            .map_err(|e| format!("AUTHWARD_BIND: {e}"))?;
        let strategy = match var("AUTHWARD_STRATEGY").as_deref().unwrap_or("jwt") {
            "jwt" => StrategyKind::Jwt,
            "database" => StrategyKind::Database,
            "redis" => StrategyKind::Redis,
            other => return Err(format!("AUTHWARD_STRATEGY: unknown strategy {other:?}")),
        };
        let jwt_revocations = match var("AUTHWARD_JWT_REVOCATIONS")
            .as_deref()
            .unwrap_or("database")
        {
            "database" => RevocationsKind::Database,
            "redis" => RevocationsKind::Redis,
            "none" => RevocationsKind::None,
            other => {
                return Err(format!(
                    "AUTHWARD_JWT_REVOCATIONS: expected database, redis or none, got {other:?}"
                ));
            }
        };
        let secret = match var("AUTHWARD_SECRET") {
            Some(secret) if secret.len() >= 32 => secret,
            Some(_) => return Err("AUTHWARD_SECRET must be at least 32 bytes".into()),
            None => {
                tracing::warn!(
                    "AUTHWARD_SECRET is not set: using a random secret, so every token dies \
                     when the server restarts"
                );
                let bytes: [u8; 32] = rand::random();
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            }
        };
        let token_lifetime = var("AUTHWARD_TOKEN_LIFETIME")
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|e| format!("AUTHWARD_TOKEN_LIFETIME: {e}"))
            })
            .transpose()?
            .unwrap_or(3600);
        let redis_url =
            var("AUTHWARD_REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
        let invalidation_nodes = match var("AUTHWARD_CACHE_INVALIDATION")
            .as_deref()
            .unwrap_or("none")
        {
            "none" => Vec::new(),
            "redis" => var("AUTHWARD_CACHE_INVALIDATION_URLS")
                .unwrap_or_else(|| redis_url.clone())
                .split(',')
                .map(|url| url.trim().to_owned())
                .filter(|url| !url.is_empty())
                .collect(),
            other => {
                return Err(format!(
                    "AUTHWARD_CACHE_INVALIDATION: expected none or redis, got {other:?}"
                ));
            }
        };
        Ok(Self {
            bind,
            invalidation_nodes,
            database_url: var("DATABASE_URL").unwrap_or_else(|| "sqlite://authward.db".into()),
            secret,
            strategy,
            redis_url,
            jwt_revocations,
            mailbox: var("AUTHWARD_DEV_MAILBOX"),
            token_lifetime,
            refresh_lifetime: var("AUTHWARD_REFRESH_LIFETIME")
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|e| format!("AUTHWARD_REFRESH_LIFETIME: {e}"))
                })
                .transpose()?
                .filter(|seconds| *seconds > 0),
            max_connections: var("AUTHWARD_DB_MAX_CONNECTIONS")
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|e| format!("AUTHWARD_DB_MAX_CONNECTIONS: {e}"))
                })
                .transpose()?,
            user_cache_ms: var("AUTHWARD_USER_CACHE_MS")
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|e| format!("AUTHWARD_USER_CACHE_MS: {e}"))
                })
                .transpose()?
                .unwrap_or(1000),
            hash_concurrency: match var("AUTHWARD_HASH_CONCURRENCY") {
                Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("AUTHWARD_HASH_CONCURRENCY: not a positive number: {v}")
                })?,
                None => std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            },
            hash_niceness: var("AUTHWARD_HASH_NICE")
                .map(|v| match v.parse::<i32>() {
                    Ok(n) if (0..=19).contains(&n) => Ok(n),
                    _ => Err(format!("AUTHWARD_HASH_NICE: expected 0 to 19, got {v}")),
                })
                .transpose()?
                .unwrap_or(10),
            throttle: match var("AUTHWARD_THROTTLE").as_deref().unwrap_or("memory") {
                "memory" => ThrottleKind::Memory,
                "redis" => ThrottleKind::Redis,
                "off" => ThrottleKind::Off,
                other => {
                    return Err(format!(
                        "AUTHWARD_THROTTLE: expected memory, redis or off, got {other:?}"
                    ));
                }
            },
            trusted_proxies: var("AUTHWARD_TRUSTED_PROXIES")
                .map(|v| {
                    v.split(',')
                        .map(parse_network)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default(),
            legacy_hashes: match var("AUTHWARD_LEGACY_HASHES").as_deref().unwrap_or("none") {
                "none" => Vec::new(),
                "fastapi-users" => authward::HashClass::FASTAPI_USERS.to_vec(),
                "pwdlib-argon2" => vec![authward::HashClass::PWDLIB_ARGON2],
                "bcrypt12" => vec![authward::HashClass::BCRYPT_12],
                other => {
                    return Err(format!(
                        "AUTHWARD_LEGACY_HASHES: expected none, fastapi-users, pwdlib-argon2 or \
                         bcrypt12, got {other:?}"
                    ));
                }
            },
        })
    }
}
