//! A private SecantusDB on a free port, stopped mid-test (gracefully, then with SIGKILL):
//! every call fails with `DbError::Unavailable` within the fail-fast bound (503 over HTTP),
//! and everything works again once it is back. The shared server is never touched.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authward_core::{DbError, NewUser, UserDatabase};
use authward_mongodb::bson::oid::ObjectId;
use authward_mongodb::{DEFAULT_TIMEOUT, MongoUserDatabase};
use axum::http::StatusCode;
use common::Scratch;
use common::app::{self, AppUser, get};

/// The fail-fast bound: the 2 s server selection timeout plus slack for a busy machine.
const BOUND: Duration = Duration::from_millis(3500);

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// `secantusd-py` from the venv `scripts/services.sh` installs, or `None` (skip) when it is
/// missing and services are not required.
fn server_binary() -> Option<PathBuf> {
    let cache = std::env::var("AUTHWARD_CACHE_DIR")
        .unwrap_or_else(|_| "/var/tmp/authward-cache".to_owned());
    let binary = PathBuf::from(cache).join("secantus-venv/bin/secantusd-py");
    if binary.exists() {
        return Some(binary);
    }
    assert!(
        !authward_testkit::services_required(),
        "{} is missing (run scripts/services.sh)",
        binary.display()
    );
    eprintln!("skipped: {} is missing", binary.display());
    None
}

struct Private {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Private {
    fn new(binary: PathBuf) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("aw-outage-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).expect("data dir");
        // Empty on purpose: no other secantusd.toml is picked up.
        std::fs::write(dir.join("secantusd.toml"), "# authward outage test\n").expect("config");
        Self {
            binary,
            dir,
            port,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// Starts the server (never `--standalone`: it answers as a one-node replica set) and
    /// waits until it accepts connections.
    async fn start(&mut self) {
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(self.dir.join("secantusd.toml"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start secantusd-py");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        // A loopback connect to a free ephemeral port can reach itself: that is no server.
        while !tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
        {
            assert!(
                Instant::now() < deadline,
                "the private server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it with SIGTERM (graceful) or SIGKILL, and waits until the process is gone.
    async fn stop(&mut self, graceful: bool) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if graceful {
            let status = Command::new("kill")
                .arg(child.id().to_string())
                .status()
                .expect("kill");
            assert!(status.success());
        } else {
            child.kill().expect("SIGKILL");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn expect_unavailable(users: &MongoUserDatabase<AppUser>, app: &app::MongoApp, token: &str) {
    let started = Instant::now();
    match users.get_by_email("arthur@camelot.bt").await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(elapsed <= BOUND, "Unavailable after {elapsed:?}");
    match users.create(NewUser::new("new@camelot.bt", "h")).await {
        Err(DbError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let started = Instant::now();
    let reply = app.send(get("/users/me", Some(token))).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(
        started.elapsed() <= BOUND + BOUND,
        "503 after {:?}",
        started.elapsed()
    );
    let login = app.login("arthur@camelot.bt", "password-1").await;
    assert_eq!(
        login.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        login.body
    );
}

async fn expect_recovery(users: &MongoUserDatabase<AppUser>, app: &app::MongoApp, id: ObjectId) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match users.get(&id).await {
            Ok(found) => {
                assert_eq!(
                    found.map(|u| u.id),
                    Some(id),
                    "the data survived the restart"
                );
                break;
            }
            Err(DbError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("no recovery: {other:?}"),
        }
    }
    let login = app.login("arthur@camelot.bt", "password-1").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.body["access_token"].as_str().expect("token");
    assert_eq!(
        app.send(get("/users/me", Some(token))).await.status,
        StatusCode::OK
    );
}

#[test]
fn a_stopped_server_is_unavailable_within_the_bound_then_recovers() {
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(2));
    let Some(binary) = server_binary() else {
        return;
    };
    if common::url().is_none() {
        return;
    }
    block_on(async {
        let mut server = Private::new(binary);
        server.start().await;
        let client = authward_mongodb::connect(&server.url())
            .await
            .expect("the private server answers");
        let scratch = Arc::new(Scratch {
            db: client.database("aw_outage"),
            client,
        });
        let app = app::app(&scratch).await;
        let users = app.users.clone();
        assert_eq!(
            app.register("arthur@camelot.bt", "password-1").await.status,
            StatusCode::CREATED
        );
        let login = app.login("arthur@camelot.bt", "password-1").await;
        let token = login.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let id = users
            .get_by_email("arthur@camelot.bt")
            .await
            .expect("get")
            .expect("Arthur")
            .id;

        for graceful in [true, false] {
            server.stop(graceful).await;
            expect_unavailable(&users, &app, &token).await;
            server.start().await;
            expect_recovery(&users, &app, id).await;
        }
        drop(app);
        drop(users);
        drop(scratch);
    });
}
