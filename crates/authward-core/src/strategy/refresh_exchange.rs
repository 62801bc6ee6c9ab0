//! What exchanging a refresh token gives: the user, the next token of the family, and what the
//! access token issued with it must be checked against before it is handed out.

use std::fmt;

use time::OffsetDateTime;

use crate::token::TokenFamily;

/// A refresh token exchanged by [`RefreshTokens::exchange_in_family`]: its user, the next token
/// of its family, and the family.
///
/// The access token issued with the next refresh token is handed out only after
/// [`RefreshTokens::link_issued`] links it to the family and finds the family still standing;
/// a revocation that ran while that access token was being written would otherwise miss it.
///
/// [`RefreshTokens::exchange_in_family`]: crate::strategy::RefreshTokens::exchange_in_family
/// [`RefreshTokens::link_issued`]: crate::strategy::RefreshTokens::link_issued
#[non_exhaustive]
pub struct Exchanged<U> {
    /// The token's user (active when the exchange read it).
    pub user: U,
    /// The next refresh token of the family (single use).
    pub token: String,
    /// The family both tokens belong to.
    pub family: TokenFamily,
    /// When the consumed token was issued: a revocation of all of the user's sessions dated at
    /// or after it ends the family.
    pub(crate) consumed_issued_at: OffsetDateTime,
}

impl<U> Exchanged<U> {
    /// An exchange's outcome (for a wrapper of [`RefreshTokens`] of one's own, such as an HTTP
    /// layer's refresh flow): the user, the next refresh token, its family, and when the
    /// consumed token was issued.
    ///
    /// [`RefreshTokens`]: crate::strategy::RefreshTokens
    pub fn new(
        user: U,
        token: String,
        family: TokenFamily,
        consumed_issued_at: OffsetDateTime,
    ) -> Self {
        Self {
            user,
            token,
            family,
            consumed_issued_at,
        }
    }

    /// When the consumed refresh token was issued.
    pub fn consumed_issued_at(&self) -> OffsetDateTime {
        self.consumed_issued_at
    }
}

impl<U: fmt::Debug> fmt::Debug for Exchanged<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchanged")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .field("family", &self.family)
            .field("consumed_issued_at", &self.consumed_issued_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_next_token() {
        let exchanged = Exchanged {
            user: "alice",
            token: "the-next-refresh-token".to_owned(),
            family: TokenFamily::new(),
            consumed_issued_at: OffsetDateTime::UNIX_EPOCH,
        };
        let shown = format!("{exchanged:?}");
        assert!(!shown.contains("the-next-refresh-token"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
