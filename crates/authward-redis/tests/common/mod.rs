//! Shared helpers: stores with a fresh key prefix per test, so tests run in parallel on one
//! server, and a private redis-server process for the outage test.
#![allow(dead_code)]

use std::time::Duration;

use authward_core::UserId;
use authward_redis::redis::aio::{ConnectionManager, MultiplexedConnection};
use authward_redis::redis::cluster_async::ClusterConnection;
use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};

pub const REDIS_URL: &str = "AUTHWARD_TEST_REDIS_URL";
pub const CLUSTER_URLS: &str = "AUTHWARD_TEST_REDIS_CLUSTER_URLS";

/// Options with a prefix no other test uses.
pub fn fresh_options() -> RedisTokenOptions {
    RedisTokenOptions::new().key_prefix(format!("authward-test:{}:", uuid::Uuid::new_v4().simple()))
}

/// A store on the shared server through a `ConnectionManager`, or `None` (skip).
pub async fn standalone<ID: UserId>(
    options: RedisTokenOptions,
) -> Option<RedisAccessTokenDatabase<ID, ConnectionManager>> {
    let url = authward_testkit::service_url(REDIS_URL)?;
    Some(
        RedisAccessTokenDatabase::connect(&url, options)
            .await
            .expect("connect to Redis"),
    )
}

/// A store on the shared server through a plain multiplexed connection, or `None` (skip).
pub async fn multiplexed<ID: UserId>(
    options: RedisTokenOptions,
) -> Option<RedisAccessTokenDatabase<ID, MultiplexedConnection>> {
    let url = authward_testkit::service_url(REDIS_URL)?;
    let client = authward_redis::redis::Client::open(url).expect("Redis URL");
    let conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    Some(RedisAccessTokenDatabase::new(conn, options).expect("valid options"))
}

/// A store on the test cluster, or `None` (skip).
pub async fn cluster<ID: UserId>(
    options: RedisTokenOptions,
) -> Option<RedisAccessTokenDatabase<ID, ClusterConnection>> {
    let urls = authward_testkit::service_url(CLUSTER_URLS)?;
    Some(
        RedisAccessTokenDatabase::connect_cluster(urls.split(','), options)
            .await
            .expect("connect to the Redis Cluster"),
    )
}

/// A raw connection to the shared server, to look at keys directly.
pub async fn raw(url: &str) -> MultiplexedConnection {
    authward_redis::redis::Client::open(url)
        .expect("Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis")
}

/// A token value nobody else uses.
pub fn random_token() -> String {
    format!("tok-{}", uuid::Uuid::new_v4().simple())
}

/// `now`, in whole seconds.
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
}

/// A redis-server this test owns, on a free loopback port.
pub struct PrivateServer {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl PrivateServer {
    /// Starts one on a free port, or `None` when redis-server is not installed (skip, unless
    /// services are required).
    pub fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self { port, child: None };
        if !server.spawn() {
            assert!(
                !authward_testkit::services_required(),
                "redis-server is not installed"
            );
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) -> bool {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        // Wait until it accepts connections.
        for _ in 0..100 {
            // A loopback connect to a free ephemeral port can reach itself: that is no server.
            if std::net::TcpStream::connect(("127.0.0.1", self.port))
                .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// Stops it (the process this test started).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("stop redis-server");
            child.wait().expect("reap redis-server");
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        assert!(self.spawn(), "redis-server restarts");
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl PrivateServer {
    /// Freezes it (`SIGSTOP`): connections stay open and nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (`SIGCONT`).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal}");
    }
}
