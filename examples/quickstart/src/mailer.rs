//! A development mailer: each verify / reset message becomes one JSON line
//! `{"kind": "verify"|"reset", "email", "token"}` appended to `AUTHWARD_DEV_MAILBOX`, or
//! printed to stdout when it is unset.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use authward::manager::{Hooks, RequestInfo};
use authward::{AuthUser, BoxError};

/// The hooks of the quickstart: they "send" messages to a file.
#[derive(Debug)]
pub struct DevMailer {
    path: Option<String>,
    lock: Mutex<()>,
}

impl DevMailer {
    /// Writes to `path`, or stdout when `None`.
    pub fn new(path: Option<String>) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    fn deliver(&self, kind: &str, email: &str, token: &str) -> Result<(), BoxError> {
        let line = serde_json::json!({ "kind": kind, "email": email, "token": token }).to_string();
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match &self.path {
            Some(path) => {
                let mut file = OpenOptions::new().create(true).append(true).open(path)?;
                writeln!(file, "{line}")?;
            }
            None => println!("{line}"),
        }
        Ok(())
    }
}

#[async_trait]
impl<U: AuthUser> Hooks<U> for DevMailer {
    async fn on_after_register(
        &self,
        user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        tracing::info!(user_id = %user.id(), "user registered");
        Ok(())
    }

    async fn on_after_request_verify(
        &self,
        user: &U,
        token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.deliver("verify", user.email(), token)
    }

    async fn on_after_forgot_password(
        &self,
        user: &U,
        token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        self.deliver("reset", user.email(), token)
    }
}
