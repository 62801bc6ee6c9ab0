//! Three quickstart servers on one PostgreSQL database and one Redis (standalone, then a
//! Redis Cluster) with a ten-minute user cache: a change made through server A reaches the
//! caches of servers B and C over the invalidation bus (`AUTHWARD_CACHE_INVALIDATION=redis`),
//! while a fourth server without the bus keeps serving its cached copy, which shows that the
//! caches really hold users and that the bus is what refreshes them. The delays measured are
//! printed (`cargo test -p quickstart --test nodes -- --nocapture`) and recorded in
//! docs/src/benchmarks.md; the test only requires "within 5 s".
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{FORM, JSON, free_port, http};

const SECRET: &str = "nodes-test-secret-nodes-test-secret-0123";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn psql(base: &str, sql: &str) -> bool {
    Command::new("psql")
        .args([base, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .expect("psql runs")
        .success()
}

/// A database of its own on the test server, dropped at the end.
struct Database {
    base: String,
    name: String,
    url: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(
            &self.base,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A database of its own on the test server, so the servers start from empty tables.
fn fresh_database(base: &str) -> Database {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "authward_nodes_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let create = format!("CREATE DATABASE {name}");
    assert!(psql(base, &create), "{create}");
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    Database {
        base: base.to_owned(),
        url: format!("{server}/{name}"),
        name,
    }
}

fn command(database: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env("DATABASE_URL", database)
        .env("AUTHWARD_SECRET", SECRET)
        .env("AUTHWARD_USER_CACHE_MS", "600000")
        .env("AUTHWARD_THROTTLE", "off")
        .env("AUTHWARD_HASH_NICE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

fn start(database: &str, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = command(database, env);
    cmd.env("AUTHWARD_BIND", format!("127.0.0.1:{port}"));
    let mut server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    common::wait_ready(&mut server.child, port);
    server
}

fn login(port: u16, email: &str, password: &str) -> String {
    let (status, body) = http(
        port,
        "POST",
        "/auth/jwt/login",
        &[FORM],
        &format!("username={}&password={password}", email.replace('@', "%40")),
    );
    assert_eq!(status, 200, "login {email}: {body}");
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

/// Polls `check` on `port` until it holds; returns how long after `since` it first held.
fn seen_after(port: u16, since: Instant, check: impl Fn(u16) -> bool) -> Duration {
    let deadline = since + Duration::from_secs(5);
    loop {
        if check(port) {
            return since.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "server on port {port} still serves the old user 5 s after the change"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs the scenario with the bus on `bus_urls` (one URL, or a cluster's nodes) and the
/// nodes' subscriptions spread over those URLs.
fn changes_reach_every_node(bus_urls: &[String], label: &str) {
    let Some(postgres) = authward::testkit::service_url("AUTHWARD_TEST_POSTGRES_URL") else {
        return;
    };
    let db = fresh_database(&postgres);
    let database = db.url.clone();
    // The first server creates the tables; the others start on them.
    let node_env = |i: usize| {
        let mut urls = bus_urls.to_vec();
        let len = urls.len();
        urls.rotate_left(i % len);
        urls.join(",")
    };
    let urls: Vec<String> = (0..3).map(node_env).collect();
    let bus = |i: usize| {
        [
            ("AUTHWARD_CACHE_INVALIDATION", "redis"),
            ("AUTHWARD_CACHE_INVALIDATION_URLS", urls[i].as_str()),
        ]
    };
    let a = start(&database, &bus(0));
    let b = start(&database, &bus(1));
    let c = start(&database, &bus(2));
    let lone = start(&database, &[]);

    let status = command(
        &database,
        &[("AUTHWARD_BIND", "127.0.0.1:1")], // never bound: a subcommand
    )
    .args(["create-superuser", "root@nodes.example", "root-password-1"])
    .status()
    .unwrap();
    assert!(status.success(), "create-superuser");
    let admin = login(a.port, "root@nodes.example", "root-password-1");

    let (status, user) = http(
        a.port,
        "POST",
        "/auth/register",
        &[JSON],
        r#"{"email":"member@nodes.example","password":"member-password-1"}"#,
    );
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    let bearer = login(a.port, "member@nodes.example", "member-password-1");
    let me = |port: u16| http(port, "GET", "/users/me", &[("authorization", &bearer)], "");
    let own_record = |port: u16| {
        http(
            port,
            "GET",
            &format!("/users/{id}"),
            &[("authorization", &bearer)],
            "",
        )
    };

    // Every server loads the user into its cache.
    for server in [&a, &b, &c, &lone] {
        assert_eq!(me(server.port).1["email"], "member@nodes.example");
        assert_eq!(own_record(server.port).0, 403, "not a superuser yet");
    }

    // 1. The user changes their email through A.
    let (status, body) = http(
        a.port,
        "PATCH",
        "/users/me",
        &[JSON, ("authorization", &bearer)],
        r#"{"email":"renamed@nodes.example"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let changed = Instant::now();
    let renamed = |port: u16| me(port).1["email"] == "renamed@nodes.example";
    let email_b = seen_after(b.port, changed, renamed);
    let email_c = seen_after(c.port, changed, renamed);

    // 2. An administrator makes the user a superuser through A (a role change).
    let (status, body) = http(
        a.port,
        "PATCH",
        &format!("/users/{id}"),
        &[JSON, ("authorization", &admin)],
        r#"{"is_superuser":true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let promoted = Instant::now();
    let allowed = |port: u16| own_record(port).0 == 200;
    let role_b = seen_after(b.port, promoted, allowed);
    let role_c = seen_after(c.port, promoted, allowed);

    // The server without the bus still serves its cached copy: the caches hold users for
    // ten minutes, so only the announcements made B and C see the changes.
    assert_eq!(me(lone.port).1["email"], "member@nodes.example");
    assert_eq!(own_record(lone.port).0, 403);

    println!(
        "[{label}] change on A seen by B / C: email {:.1} / {:.1} ms, role {:.1} / {:.1} ms",
        email_b.as_secs_f64() * 1e3,
        email_c.as_secs_f64() * 1e3,
        role_b.as_secs_f64() * 1e3,
        role_c.as_secs_f64() * 1e3,
    );
}

#[test]
fn a_change_on_one_node_reaches_the_others_over_redis() {
    let Some(redis) = authward::testkit::service_url("AUTHWARD_TEST_REDIS_URL") else {
        return;
    };
    changes_reach_every_node(&[redis], "redis");
}

#[test]
fn a_change_on_one_node_reaches_the_others_over_a_redis_cluster() {
    let Some(urls) = authward::testkit::service_url("AUTHWARD_TEST_REDIS_CLUSTER_URLS") else {
        return;
    };
    let nodes: Vec<String> = urls.split(',').map(str::to_owned).collect();
    changes_reach_every_node(&nodes, "redis cluster");
}
