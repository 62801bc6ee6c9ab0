//! The text of an invalidation message.

use authward_core::UserId;

/// What a message asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Invalidation<ID> {
    /// Forget one user.
    User(ID),
    /// Forget every user.
    All,
}

/// The message that evicts `id`.
pub(super) fn user<ID: UserId>(id: &ID) -> String {
    format!("u:{id}")
}

/// Reads a message; `None` for anything this version does not understand.
pub(super) fn parse<ID: UserId>(payload: &[u8]) -> Option<Invalidation<ID>> {
    let text = std::str::from_utf8(payload).ok()?;
    if text == "all" {
        return Some(Invalidation::All);
    }
    let id = text.strip_prefix("u:")?;
    ID::parse_id(id).ok().map(Invalidation::User)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_anything_else_is_ignored() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(
            parse::<uuid::Uuid>(user(&id).as_bytes()),
            Some(Invalidation::User(id))
        );
        assert_eq!(parse::<i64>(b"u:-42"), Some(Invalidation::User(-42)));
        assert_eq!(
            parse::<String>(b"u:u:all"),
            Some(Invalidation::User("u:all".to_owned()))
        );
        assert_eq!(parse::<i64>(b"all"), Some(Invalidation::All));
        for junk in [&b"u:x"[..], b"", b"42", b"ALL", b"\xff\xfe", b"v:1"] {
            assert_eq!(parse::<i64>(junk), None, "{junk:?}");
        }
    }
}
