//! What the tests that run the real quickstart binary share: a child process killed on drop,
//! a free port and a minimal HTTP/1.1 client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `content-type` of a JSON body.
pub const JSON: (&str, &str) = ("content-type", "application/json");
/// `content-type` of a form body (login).
pub const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// A server process, killed and reaped when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on right now, never the same twice in one test process: tests run in
/// parallel threads, and two servers told the same port would answer each other's requests
/// (and die with each other's tests).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Whether a quickstart answers `GET /health` with 200 on `port`. A bare TCP connect is not
/// proof: on loopback a connect to a port in the ephemeral range can reach itself.
pub fn answers_health(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    stream.read_to_string(&mut response).is_ok() && response.starts_with("HTTP/1.1 200")
}

/// Waits until the quickstart in `child` answers on `port`; panics if it exits first or takes
/// more than 30 s.
pub fn wait_ready(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !answers_health(port) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the quickstart exited before answering"
        );
        assert!(Instant::now() < deadline, "the quickstart did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Answered by this child, not another process on the same port: it is still running.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the quickstart exited (was its port taken?)"
    );
}

/// One HTTP/1.1 request; returns (status, JSON body or Null).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}
