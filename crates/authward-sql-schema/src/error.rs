//! Why a migration stopped.

use std::fmt;

/// A migration failed; nothing it had not finished was left half-done (see the crate docs).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError<E> {
    /// The database refused a statement or could not be reached.
    #[error("a schema statement failed")]
    Driver(#[source] E),
    /// Existing users whose email keys are equal under the current rule (FastAPI Users allowed
    /// addresses differing in case; an earlier authward rule did not fold compatibility forms
    /// or IDNA domains). Nothing was changed. Merge or rename them, then migrate again.
    #[error("{} email keys are shared by several users: {}", collisions.len(), describe_collisions(collisions))]
    EmailKeyCollisions {
        /// Every shared key with the rows sharing it.
        collisions: Vec<EmailKeyCollision>,
    },
    /// The same provider account is linked more than once (FastAPI Users allowed it).
    #[error("{} OAuth accounts are linked more than once: {}", accounts.len(), pairs(accounts))]
    DuplicateOAuthAccounts {
        /// `(oauth_name, account_id)` pairs concerned.
        accounts: Vec<(String, String)>,
    },
    /// A catalog or data query answered a value of another shape than the migration asked for
    /// (a `NULL` email, say).
    #[error("unexpected value in column {column} of: {query}")]
    UnexpectedValue {
        /// The query.
        query: String,
        /// The column, from 0.
        column: usize,
    },
}

/// Users whose addresses have one [`email_key`](authward_core::user::email_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailKeyCollision {
    /// The shared key.
    pub key: String,
    /// `(id as text, email as stored)` of every row with that key, ordered by email.
    pub users: Vec<(String, String)>,
}

impl fmt::Display for EmailKeyCollision {
    /// `key (id <email>, id <email>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let users: Vec<String> = self
            .users
            .iter()
            .map(|(id, email)| format!("{id} <{email}>"))
            .collect();
        write!(f, "{} ({})", self.key, users.join(", "))
    }
}

/// The collisions, `; `-separated.
pub fn describe_collisions(collisions: &[EmailKeyCollision]) -> String {
    let shown: Vec<String> = collisions.iter().map(ToString::to_string).collect();
    shown.join("; ")
}

fn pairs(accounts: &[(String, String)]) -> String {
    accounts
        .iter()
        .map(|(name, id)| format!("{name}/{id}"))
        .collect::<Vec<_>>()
        .join(", ")
}
