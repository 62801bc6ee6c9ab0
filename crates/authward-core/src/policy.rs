//! Password policy.
//!
//! [`PasswordPolicy::default`] enforces:
//! - at least [`DEFAULT_MIN_CHARS`] (8) **characters** (Unicode scalar values, so `"пароль12"`
//!   counts 8, not 14 bytes);
//! - at most [`DEFAULT_MAX_BYTES`] (1024) **bytes** in UTF-8, so nobody can make the server
//!   hash megabytes per request (hash flooding);
//! - not the email address, ignoring case and surrounding whitespace.
//!
//! The application adds its own rules with [`PasswordPolicy::with_rule`]; a rule returns the
//! reason shown to the user (FastAPI Users' `InvalidPasswordException(reason=...)`).
//!
//! ```
//! use authward_core::policy::PasswordPolicy;
//!
//! let policy = PasswordPolicy::default().with_rule(|password, _email| {
//!     if password.chars().any(|c| c.is_ascii_digit()) {
//!         Ok(())
//!     } else {
//!         Err("Password should contain a digit".to_owned())
//!     }
//! });
//! assert!(policy.validate("long enough 1", "a@b.co").is_ok());
//! assert_eq!(policy.validate("short", "a@b.co").unwrap_err().reason,
//!            "Password should be at least 8 characters");
//! assert_eq!(policy.validate("long enough", "a@b.co").unwrap_err().reason,
//!            "Password should contain a digit");
//! ```

use std::fmt;
use std::sync::Arc;

use crate::user::email_key;

/// The default minimum length, in characters.
pub const DEFAULT_MIN_CHARS: usize = 8;
/// The default maximum length, in UTF-8 bytes.
///
/// 1024 bytes leaves room for any passphrase a person or a password manager produces while
/// keeping the work per request small; it also bounds what a login attempt may submit.
pub const DEFAULT_MAX_BYTES: usize = 1024;

/// A password was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid password: {reason}")]
pub struct InvalidPassword {
    /// Why, in English (sent to the client as `detail.reason`).
    pub reason: String,
}

type Rule = Arc<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;

/// The rules a new password must satisfy. Cheap to clone.
#[derive(Clone)]
pub struct PasswordPolicy {
    min_chars: usize,
    max_bytes: usize,
    rules: Vec<Rule>,
}

impl fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordPolicy")
            .field("min_chars", &self.min_chars)
            .field("max_bytes", &self.max_bytes)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: DEFAULT_MIN_CHARS,
            max_bytes: DEFAULT_MAX_BYTES,
            rules: Vec::new(),
        }
    }
}

impl PasswordPolicy {
    /// Sets the minimum length in characters.
    pub fn with_min_chars(mut self, min_chars: usize) -> Self {
        self.min_chars = min_chars;
        self
    }

    /// Sets the maximum length in UTF-8 bytes (at least 1).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(1);
        self
    }

    /// Adds an application rule, called with `(password, email)` after the built-in checks
    /// pass. `Err(reason)` refuses the password with that reason.
    pub fn with_rule(
        mut self,
        rule: impl Fn(&str, &str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.rules.push(Arc::new(rule));
        self
    }

    /// The minimum length in characters.
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// The maximum length in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Checks `password` for the account with address `email`.
    pub fn validate(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
        let refuse = |reason: String| Err(InvalidPassword { reason });
        if password.len() > self.max_bytes {
            return refuse(format!(
                "Password should be at most {} bytes",
                self.max_bytes
            ));
        }
        if password.chars().count() < self.min_chars {
            return refuse(format!(
                "Password should be at least {} characters",
                self.min_chars
            ));
        }
        if email_key(password.trim()) == email_key(email.trim()) {
            return refuse("Password should not be the email address".to_owned());
        }
        for rule in &self.rules {
            if let Err(reason) = rule(password, email) {
                return refuse(reason);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        let p = PasswordPolicy::default();
        assert!(p.validate("пароль12", "a@b.co").is_ok()); // 8 chars, 14 bytes
        assert!(p.validate("пароль1", "a@b.co").is_err()); // 7 chars, 13 bytes
        assert!(p.validate("🔐🔐🔐🔐🔐🔐🔐🔐", "a@b.co").is_ok());
        assert!(p.validate("1234567", "a@b.co").is_err());
        assert!(p.validate("12345678", "a@b.co").is_ok());
    }

    #[test]
    fn maximum_is_in_bytes() {
        let p = PasswordPolicy::default();
        assert!(p.validate(&"a".repeat(1024), "a@b.co").is_ok());
        let err = p.validate(&"a".repeat(1025), "a@b.co").unwrap_err();
        assert_eq!(err.reason, "Password should be at most 1024 bytes");
        // 342 three-byte characters are 1026 bytes.
        assert!(p.validate(&"€".repeat(342), "a@b.co").is_err());
        assert!(
            PasswordPolicy::default()
                .with_max_bytes(10)
                .validate("12345678901", "a@b.co")
                .is_err()
        );
    }

    #[test]
    fn email_is_refused_ignoring_case() {
        let p = PasswordPolicy::default();
        let err = p
            .validate("King.Arthur@camelot.bt", "king.arthur@CAMELOT.bt")
            .unwrap_err();
        assert_eq!(err.reason, "Password should not be the email address");
        assert!(p.validate(" ADA@EXAMPLE.COM ", "ada@example.com").is_err());
        assert!(p.validate("ada@example.com!", "ada@example.com").is_ok());
    }

    #[test]
    fn app_rules_run_in_order_after_builtins() {
        let p = PasswordPolicy::default()
            .with_min_chars(3)
            .with_rule(|pw, _| {
                if pw.contains("camelot") {
                    Err("no castles".into())
                } else {
                    Ok(())
                }
            })
            .with_rule(|_, email| {
                if email.ends_with(".bt") {
                    Err("no Bhutan".into())
                } else {
                    Ok(())
                }
            });
        assert_eq!(p.min_chars(), 3);
        assert!(p.validate("abc", "a@b.co").is_ok());
        assert_eq!(
            p.validate("to camelot", "a@b.co").unwrap_err().reason,
            "no castles"
        );
        assert_eq!(
            p.validate("abcd", "a@b.bt").unwrap_err().reason,
            "no Bhutan"
        );
        assert!(
            p.validate("ab", "a@b.bt")
                .unwrap_err()
                .reason
                .contains("at least 3")
        );
        assert!(format!("{p:?}").contains("rules: 2"));
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_lengths_in_range(password in "\\PC{0,40}") {
            let p = PasswordPolicy::default().with_max_bytes(64);
            let chars = password.chars().count();
            let expected = chars >= 8 && password.len() <= 64;
            prop_assert_eq!(p.validate(&password, "someone@example.com").is_ok(), expected);
        }

        #[test]
        fn email_as_password_is_always_refused(
            local in "[a-zA-Z0-9]{4,12}",
            domain in "[a-zA-Z]{3,10}",
            upper in any::<bool>(),
        ) {
            let email = format!("{local}@{domain}.com");
            let password = if upper { email.to_uppercase() } else { email.to_lowercase() };
            prop_assert!(PasswordPolicy::default().validate(&password, &email).is_err());
        }
    }
}
