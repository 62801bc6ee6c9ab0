//! Private database servers for the fault tests: started on free ports in temporary
//! directories, so a test can stop them (gracefully or with `kill -9`) and start them again
//! without touching the shared services.
//!
//! Each `start` returns `None` when the server's programs are not installed (the test skips,
//! unless AUTHWARD_TEST_REQUIRE_SERVICES=1, which makes it fail).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn required() -> bool {
    authward_testkit::services_required()
}

fn missing(what: &str) -> Option<()> {
    if required() {
        panic!("{what} is not installed, and AUTHWARD_TEST_REQUIRE_SERVICES=1");
    }
    eprintln!("skipping: {what} is not installed");
    None
}

fn given_ports() -> std::sync::MutexGuard<'static, Vec<u16>> {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    GIVEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The lowest port the kernel hands out to outgoing connections.
fn ephemeral_floor() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768)
}

/// A port for a server this file stops and starts again: free now, and below the kernel's
/// range for outgoing connections (as is `port + companion`, Redis Cluster's bus port, when
/// `companion` is not zero). A port in that range can be taken while its server is down: by
/// any outgoing connection, or by a client reconnecting to it whose own port happens to be the
/// same (TCP simultaneous open connects the socket to itself). The server then cannot bind
/// it when it comes back.
fn server_port(companion: u16) -> u16 {
    let low: u16 = 10_000;
    let high = ephemeral_floor().saturating_sub(companion);
    assert!(high > low + 1_000, "no room below the ephemeral port range");
    let span = u64::from(high - low);
    let start = std::hash::BuildHasher::hash_one(
        &std::collections::hash_map::RandomState::new(),
        Instant::now(),
    ) % span;
    // Tests run in parallel threads: never the same port twice in one process.
    let mut given = given_ports();
    let bindable = |port: u16| TcpListener::bind(("127.0.0.1", port)).is_ok();
    for step in 0..span {
        let port = low + u16::try_from((start + step) % span).expect("below the span");
        // The companion port is reserved too: while its server is down, nobody else in this
        // process may be handed it.
        let ports = if companion == 0 {
            vec![port]
        } else {
            vec![port, port + companion]
        };
        if ports.iter().all(|p| !given.contains(p) && bindable(*p)) {
            given.extend(ports);
            return port;
        }
    }
    panic!("no free port below the ephemeral range");
}

fn scratch(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "authward-fault-{kind}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Whether something listens on `port`. On loopback a connect to a port in the ephemeral range
/// can reach itself (TCP simultaneous open) when nothing listens: such a socket is its own peer.
fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
}

fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not come up within {limit:?}");
}

fn run(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn signal(pid: u32, sig: &str) {
    let _ = run(Command::new("kill").args([sig, &pid.to_string()]));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// How a server is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The server's own orderly shutdown (SIGTERM, `pg_ctl stop -m fast`).
    Graceful,
    /// `kill -9`.
    Kill,
}

pub const STOPS: [Stop; 2] = [Stop::Graceful, Stop::Kill];

/// A PostgreSQL cluster of its own (`initdb` + `pg_ctl`).
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists());
        let Some(bin) = bin else {
            missing("PostgreSQL (initdb)")?;
            return None;
        };
        let dir = scratch("pg");
        if is_root() {
            let _ = run(Command::new("chown").args(["postgres", &dir.display().to_string()]));
        }
        let server = Self {
            dir,
            bin,
            port: server_port(0),
        };
        let data = server.data().display().to_string();
        let initdb = server.bin.join("initdb").display().to_string();
        let args = [
            "-D",
            &data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ];
        let created = if is_root() {
            let mut all = vec!["-u", "postgres", "--", initdb.as_str()];
            all.extend(args);
            run(Command::new("runuser").args(all))
        } else {
            run(Command::new(&initdb).args(args))
        };
        assert!(created, "initdb");
        server.up();
        assert!(
            run(Command::new("psql").args([
                "-h",
                "127.0.0.1",
                "-p",
                &server.port.to_string(),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE test",
            ])),
            "create the database"
        );
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        let data = self.data().display().to_string();
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        if is_root() {
            let program = self.bin.join("pg_ctl").display().to_string();
            let mut runuser = vec!["-u", "postgres", "--", &program];
            runuser.extend(all);
            run(Command::new("runuser").args(runuser))
        } else {
            run(Command::new(self.bin.join("pg_ctl")).args(all))
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        // A killed postmaster leaves backends exiting for a moment: retry.
        for _ in 0..50 {
            if self.pg_ctl(&["-o", &options, "-l", &log, "-w", "-t", "20", "start"]) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("PostgreSQL did not restart (see {log})");
    }

    pub fn stop(&self, how: Stop) {
        match how {
            Stop::Graceful => assert!(self.pg_ctl(&["-m", "fast", "-w", "stop"])),
            Stop::Kill => {
                let pid = std::fs::read_to_string(self.data().join("postmaster.pid"))
                    .ok()
                    .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
                    .expect("postmaster.pid");
                signal(pid, "-KILL");
                wait_until(
                    "the killed postmaster to go",
                    Duration::from_secs(10),
                    || !accepts(self.port),
                );
            }
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child server process we start and stop ourselves; its output goes to a log file in
/// its scratch directory, whose end a failure to come up shows.
struct Process {
    child: Option<Child>,
    command: Box<dyn Fn() -> Command + Send>,
    log: PathBuf,
}

impl Process {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the server's log file");
        let child = (self.command)()
            .stdout(log.try_clone().expect("the server's log file"))
            .stderr(log)
            .spawn()
            .expect("the server starts");
        self.child = Some(child);
    }

    /// Waits until `ready`, else (the time is up, or the server exited) panics with the end
    /// of the server's log.
    fn wait_up(&mut self, what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        let mut exited = None;
        while start.elapsed() < limit {
            if ready() {
                return;
            }
            exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if exited.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        match exited {
            Some(status) => panic!("{what} exited ({status}); the end of its log:\n{tail}"),
            None => panic!("{what} did not come up within {limit:?}; the end of its log:\n{tail}"),
        }
    }

    fn stop(&mut self, how: Stop) {
        if let Some(mut child) = self.child.take() {
            match how {
                Stop::Graceful => signal(child.id(), "-TERM"),
                Stop::Kill => signal(child.id(), "-KILL"),
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Stop::Kill);
    }
}

/// A MariaDB server of its own (`mariadb-install-db` + `mariadbd`).
pub struct MariaDb {
    dir: PathBuf,
    process: Process,
    pub port: u16,
}

impl MariaDb {
    pub fn start() -> Option<Self> {
        if !Path::new("/usr/sbin/mariadbd").exists() {
            missing("MariaDB (mariadbd)")?;
            return None;
        }
        let dir = scratch("mariadb");
        let data = dir.join("data");
        assert!(
            run(Command::new("mariadb-install-db").args([
                "--no-defaults",
                &format!("--datadir={}", data.display()),
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])),
            "mariadb-install-db"
        );
        let port = server_port(0);
        let (data_arg, sock, pid) = (
            format!("--datadir={}", data.display()),
            format!("--socket={}", dir.join("sock").display()),
            format!("--pid-file={}", dir.join("pid").display()),
        );
        let log = dir.join("server.log");
        let mut server = Self {
            dir,
            process: Process {
                child: None,
                log,
                command: Box::new(move || {
                    let mut c = Command::new("/usr/sbin/mariadbd");
                    c.args([
                        "--no-defaults",
                        &data_arg,
                        "--user=root",
                        &format!("--port={port}"),
                        "--bind-address=127.0.0.1",
                        &sock,
                        &pid,
                        "--skip-log-bin",
                        "--innodb-flush-log-at-trx-commit=1",
                    ]);
                    c
                }),
            },
            port,
        };
        server.up();
        assert!(
            run(Command::new("mariadb").args([
                "-h",
                "127.0.0.1",
                "-P",
                &port.to_string(),
                "-uroot",
                "-e",
                "CREATE DATABASE test",
            ])),
            "create the database"
        );
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/test", self.port)
    }

    pub fn up(&mut self) {
        self.process.spawn();
        let port = self.port;
        self.process
            .wait_up("MariaDB", Duration::from_secs(60), || {
                run(Command::new("mariadb-admin").args([
                    "-h",
                    "127.0.0.1",
                    "-P",
                    &port.to_string(),
                    "-uroot",
                    "ping",
                ]))
            });
    }

    pub fn stop(&mut self, how: Stop) {
        self.process.stop(how);
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.process.stop(Stop::Kill);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of its own, persisting every write (AOF, `appendfsync always`) so that a
/// restart — even after `kill -9` — keeps the sessions; optionally a one-node Redis Cluster.
pub struct Redis {
    dir: PathBuf,
    process: Process,
    pub port: u16,
    cluster: bool,
    slots_assigned: bool,
}

impl Redis {
    pub fn start(cluster: bool) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            missing("redis-server")?;
            return None;
        }
        let dir = scratch(if cluster { "redis-cluster" } else { "redis" });
        // A cluster node also listens on its bus port, 10000 above its own.
        let port = server_port(if cluster { 10_000 } else { 0 });
        let dir_arg = dir.display().to_string();
        let log = dir.join("server.log");
        let mut server = Self {
            dir,
            process: Process {
                child: None,
                log,
                command: Box::new(move || {
                    let mut c = Command::new("redis-server");
                    c.args([
                        "--port",
                        &port.to_string(),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        &dir_arg,
                        "--save",
                        "",
                        "--appendonly",
                        "yes",
                        "--appendfsync",
                        "always",
                    ]);
                    if cluster {
                        c.args([
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            "nodes.conf",
                        ]);
                    }
                    c
                }),
            },
            port,
            cluster,
            slots_assigned: false,
        };
        server.up();
        if cluster {
            assert!(run(Command::new("redis-cli").args([
                "-p",
                &port.to_string(),
                "cluster",
                "addslotsrange",
                "0",
                "16383",
            ])));
            server.slots_assigned = true;
            server.wait_cluster_ok();
        }
        Some(server)
    }

    fn wait_cluster_ok(&self) {
        let port = self.port.to_string();
        wait_until("the cluster", Duration::from_secs(30), || {
            Command::new("redis-cli")
                .args(["-p", &port, "cluster", "info"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
        });
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn up(&mut self) {
        self.process.spawn();
        let port = self.port.to_string();
        self.process.wait_up("Redis", Duration::from_secs(30), || {
            Command::new("redis-cli")
                .args(["-p", &port, "ping"])
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"PONG"))
        });
        if self.cluster && self.slots_assigned {
            self.wait_cluster_ok();
        }
    }

    pub fn stop(&mut self, how: Stop) {
        self.process.stop(how);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.process.stop(Stop::Kill);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
