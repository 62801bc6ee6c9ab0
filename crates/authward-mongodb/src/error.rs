//! Mapping driver errors onto [`DbError`], by error kind and server code only (never by
//! message text).

use authward_core::{DbError, UniqueKey};
use bson::{RawBsonRef, RawDocument};
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// Duplicate key (`E11000`), and its legacy update form.
const DUPLICATE_KEY: [i32; 2] = [11000, 11001];

/// Server codes that mean "this server cannot serve the request right now": the node is not
/// (or no longer) a primary, is shutting down, or could not reach another node.
const UNAVAILABLE_CODES: [i32; 11] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// The server error code carried by `err`: a command error's, or the first write error's.
pub(crate) fn server_code(err: &Error) -> Option<i32> {
    match err.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => Some(concern.code),
        ErrorKind::InsertMany(many) => many
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| e.code),
        _ => None,
    }
}

/// True when `err` means the server cannot be reached or cannot serve right now: a refused,
/// reset or timed-out connection, no server selectable within the server selection timeout
/// (the usual form of "the server is down"), a cleared pool, a failed DNS lookup, or a server
/// answering that it is shutting down or not the primary.
pub fn is_unavailable(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::DnsResolve { .. } => true,
        _ => server_code(err).is_some_and(|code| UNAVAILABLE_CODES.contains(&code)),
    }
}

/// True for a unique index violation (server code 11000).
pub fn is_duplicate_key(err: &Error) -> bool {
    server_code(err).is_some_and(|code| DUPLICATE_KEY.contains(&code))
}

/// The indexed fields of the unique index a duplicate-key error names, from the structured
/// `keyPattern` field of the server's reply (top level for commands such as `findAndModify`,
/// in `writeErrors` for writes). `None` when the server did not report it.
pub(crate) fn duplicate_key_fields(err: &Error) -> Option<Vec<String>> {
    let response = err.server_response()?;
    let pattern = match response.get_document("keyPattern") {
        Ok(pattern) => pattern,
        Err(_) => first_write_error(response)?
            .get_document("keyPattern")
            .ok()?,
    };
    let fields: Vec<String> = pattern
        .into_iter()
        .filter_map(Result::ok)
        .map(|(key, _)| key.as_str().to_owned())
        .collect();
    (!fields.is_empty()).then_some(fields)
}

fn first_write_error(response: &RawDocument) -> Option<&RawDocument> {
    let errors = response.get_array("writeErrors").ok()?;
    match errors.into_iter().next()?.ok()? {
        RawBsonRef::Document(doc) => Some(doc),
        _ => None,
    }
}

/// [`DbError::Unavailable`] for connection trouble, [`DbError::AlreadyExists`] (with
/// [`UniqueKey::Other`]; the stores refine it) for a duplicate key, [`DbError::Backend`]
/// otherwise. The driver's error is kept as the source.
pub fn map_error(err: Error) -> DbError {
    if is_unavailable(&err) {
        DbError::unavailable(err)
    } else if is_duplicate_key(&err) {
        DbError::duplicate(UniqueKey::Other, None, err)
    } else {
        DbError::backend(err)
    }
}

/// A stored document this adapter cannot read: a field is missing or of another type.
///
/// Reported as the source of [`DbError::Backend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptDocument {
    /// The collection holding it.
    pub collection: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for CorruptDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unreadable document in collection {:?}: {}",
            self.collection, self.problem
        )
    }
}

impl std::error::Error for CorruptDocument {}

pub(crate) fn corrupt(collection: &str, problem: impl Into<String>) -> DbError {
    DbError::backend(CorruptDocument {
        collection: collection.to_owned(),
        problem: problem.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn io_errors_are_unavailable_and_keep_their_source() {
        let refused: Error = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into();
        let mapped = map_error(refused);
        assert!(mapped.is_unavailable());
        assert!(
            mapped
                .source()
                .and_then(|s| s.downcast_ref::<Error>())
                .is_some()
        );
    }

    #[test]
    fn other_errors_are_backend() {
        let custom = Error::custom("something else");
        assert!(matches!(map_error(custom), DbError::Backend(_)));
    }
}
