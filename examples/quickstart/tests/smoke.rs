//! Runs the real quickstart binary on a fresh SQLite file and drives it over HTTP: the
//! one-command promise, the dev mailbox, and the create-superuser subcommand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{FORM, JSON, Server, free_port, http};
use serde_json::Value;

fn command(dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    cmd.env("AUTHWARD_BIND", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("app.db").display()),
        )
        .env(
            "AUTHWARD_SECRET",
            "smoke-test-secret-smoke-test-secret-0123",
        )
        .env("AUTHWARD_DEV_MAILBOX", dir.join("mailbox.jsonl"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn start(dir: &Path) -> (Server, u16) {
    start_with(dir, &[])
}

fn start_with(dir: &Path, env: &[(&str, &str)]) -> (Server, u16) {
    let port = free_port();
    let mut cmd = command(dir, port);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let mut server = Server(cmd.spawn().unwrap());
    common::wait_ready(&mut server.0, port);
    (server, port)
}

#[test]
fn quickstart_serves_the_contract_on_a_fresh_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("authward-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (server, port) = start(&dir);
    assert!(
        dir.join("app.db").exists(),
        "the database file is created on first run"
    );

    assert_eq!(http(port, "GET", "/health", &[], "").1["status"], "ok");
    let (status, user) = http(
        port,
        "POST",
        "/auth/register",
        &[JSON],
        r#"{"email":"King.Arthur@camelot.bt","password":"guinevere1"}"#,
    );
    assert_eq!(status, 201);
    let (status, login) = http(
        port,
        "POST",
        "/auth/jwt/login",
        &[FORM],
        "username=king.arthur%40camelot.bt&password=guinevere1",
    );
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    let (status, me) = http(port, "GET", "/users/me", &[("authorization", &bearer)], "");
    assert_eq!(status, 200);
    assert_eq!(me["id"], user["id"]);

    let (status, body) = http(
        port,
        "POST",
        "/auth/forgot-password",
        &[JSON],
        r#"{"email":"king.arthur@camelot.bt"}"#,
    );
    assert_eq!((status, body), (202, Value::Null));
    // The mail is written by a task of its own, just after the 202.
    let mut mailbox = String::new();
    for _ in 0..500 {
        mailbox = std::fs::read_to_string(dir.join("mailbox.jsonl")).unwrap_or_default();
        if mailbox.lines().any(|line| line.contains("\"reset\"")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let message: Value = serde_json::from_str(mailbox.lines().last().unwrap()).unwrap();
    assert_eq!(message["kind"], "reset");
    assert_eq!(message["email"], "King.Arthur@camelot.bt");
    let reset = serde_json::json!({"token": message["token"], "password": "excalibur22"});
    let (status, _) = http(
        port,
        "POST",
        "/auth/reset-password",
        &[JSON],
        &reset.to_string(),
    );
    assert_eq!(status, 200);
    let (status, _) = http(port, "GET", "/users/me", &[("authorization", &bearer)], "");
    assert_eq!(status, 401, "the reset revoked the old JWT");
    drop(server);

    let created = command(&dir, free_port())
        .args(["create-superuser", "merlin@camelot.bt", "avalon-forever"])
        .status()
        .unwrap();
    assert!(created.success());
    let (_server, port) = start(&dir);
    let (status, login) = http(
        port,
        "POST",
        "/auth/jwt/login",
        &[FORM],
        "username=merlin%40camelot.bt&password=avalon-forever",
    );
    assert_eq!(
        status, 200,
        "the superuser and the first user survive a restart"
    );
    let admin = format!("Bearer {}", login["access_token"].as_str().unwrap());
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    let (status, found) = http(port, "GET", &path, &[("authorization", &admin)], "");
    assert_eq!(status, 200);
    assert_eq!(found["email"], "King.Arthur@camelot.bt");
    let _ = std::fs::remove_dir_all(&dir);
}

fn login(port: u16, email: &str) -> String {
    let form = format!("username={}&password=guinevere1", email.replace('@', "%40"));
    let (status, login) = http(port, "POST", "/auth/jwt/login", &[FORM], &form);
    assert_eq!(status, 200);
    format!("Bearer {}", login["access_token"].as_str().unwrap())
}

fn me(port: u16, bearer: &str) -> u16 {
    http(port, "GET", "/users/me", &[("authorization", bearer)], "").0
}

/// Register, log in, read `/users/me`, log out (the token then dies), log out everywhere (every
/// token dies, and one issued right after works), whatever the strategy.
fn session_round_trip(port: u16) {
    let email = format!("u{}@example.com", std::process::id() ^ port as u32);
    let register = serde_json::json!({"email": email, "password": "guinevere1"});
    let (status, _) = http(
        port,
        "POST",
        "/auth/register",
        &[JSON],
        &register.to_string(),
    );
    assert_eq!(status, 201);
    let bearer = login(port, &email);
    let (status, me_body) = http(port, "GET", "/users/me", &[("authorization", &bearer)], "");
    assert_eq!(
        (status, me_body["email"].as_str()),
        (200, Some(email.as_str()))
    );
    let (status, _) = http(
        port,
        "POST",
        "/auth/jwt/logout",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 204);
    assert_eq!(me(port, &bearer), 401, "logout ended the token");

    let first = login(port, &email);
    let second = login(port, &email);
    let (status, _) = http(
        port,
        "POST",
        "/auth/jwt/logout-all",
        &[("authorization", &first)],
        "",
    );
    assert_eq!(status, 204);
    assert_eq!(me(port, &first), 401, "logout-all ended this token");
    assert_eq!(me(port, &second), 401, "and every other one");
    // Logging in again at once gives a token that works, every time.
    for round in 0..5 {
        let fresh = login(port, &email);
        assert_eq!(me(port, &fresh), 200, "round {round}");
        let (status, _) = http(
            port,
            "POST",
            "/auth/jwt/logout-all",
            &[("authorization", &fresh)],
            "",
        );
        assert_eq!(status, 204);
        assert_eq!(me(port, &fresh), 401, "round {round}");
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("authward-smoke-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_default_jwt_strategy_logs_out_and_logs_out_everywhere() {
    let dir = scratch("jwt");
    let (_server, port) = start(&dir);
    session_round_trip(port);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jwt_revocations_can_live_in_redis() {
    let Some(redis) = authward::testkit::service_url("AUTHWARD_TEST_REDIS_URL") else {
        return;
    };
    let dir = scratch("jwt-redis");
    let (_server, port) = start_with(
        &dir,
        &[
            ("AUTHWARD_JWT_REVOCATIONS", "redis"),
            ("AUTHWARD_REDIS_URL", &redis),
        ],
    );
    session_round_trip(port);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_database_strategy_is_chosen_by_environment() {
    let dir = scratch("database");
    let (_server, port) = start_with(&dir, &[("AUTHWARD_STRATEGY", "database")]);
    session_round_trip(port);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_redis_strategy_is_chosen_by_environment() {
    let Some(redis) = authward::testkit::service_url("AUTHWARD_TEST_REDIS_URL") else {
        return;
    };
    let dir = scratch("redis");
    let (_server, port) = start_with(
        &dir,
        &[
            ("AUTHWARD_STRATEGY", "redis"),
            ("AUTHWARD_REDIS_URL", &redis),
        ],
    );
    session_round_trip(port);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgresql_is_chosen_by_environment() {
    let Some(postgres) = authward::testkit::service_url("AUTHWARD_TEST_POSTGRES_URL") else {
        return;
    };
    let dir = scratch("postgres");
    let (_server, port) = start_with(&dir, &[("DATABASE_URL", &postgres)]);
    session_round_trip(port);
    assert!(
        !dir.join("app.db").exists(),
        "no SQLite file when DATABASE_URL names PostgreSQL"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Throttling is on by default (in memory): rapid failed logins end in 429 with the JSON
/// detail; `AUTHWARD_THROTTLE=off` turns it off.
#[test]
fn failed_logins_are_throttled_by_default() {
    let form = ("content-type", "application/x-www-form-urlencoded");
    let attempts = |port: u16| -> Vec<(u16, Value)> {
        (0..12)
            .map(|_| {
                http(
                    port,
                    "POST",
                    "/auth/jwt/login",
                    &[form],
                    "username=mallory%40example.com&password=guess",
                )
            })
            .collect()
    };
    let dir = scratch("throttle");
    let (_server, port) = start(&dir);
    let replies = attempts(port);
    assert_eq!(replies[0].0, 400);
    let refused = replies
        .iter()
        .find(|(status, _)| *status == 429)
        .expect("a 429");
    assert_eq!(
        refused.1,
        serde_json::json!({"detail": "Too Many Requests"})
    );

    let dir = scratch("throttle-off");
    let (_server, port) = start_with(&dir, &[("AUTHWARD_THROTTLE", "off")]);
    assert!(attempts(port).iter().all(|(status, _)| *status == 400));
}
