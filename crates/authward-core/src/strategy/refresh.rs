//! Refresh tokens with rotation and reuse detection (RFC 9700 §4.14), over any
//! [`AccessTokenDatabase`] and alongside any access-token [`Strategy`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::db::AccessTokenDatabase;
use crate::id::UserId;
use crate::strategy::random_token::is_well_formed_token;
use crate::strategy::refresh_exchange::Exchanged;
use crate::strategy::refresh_marks as marks;
use crate::strategy::token_store::{TokenStore, oldest_valid};
use crate::strategy::{
    Revocation, RevokeReason, SessionRevoker, Strategy, StrategyError, UserLookup,
};
use crate::token::{AccessToken, NewAccessToken, TokenDigest, TokenFamily};
use crate::user::AuthUser;

/// Refresh tokens kept (as digests) in an [`AccessTokenDatabase`] of their own.
///
/// - [`RefreshTokens::issue`] starts a new *family* (one per login).
/// - [`RefreshTokens::exchange`] consumes a token (the store's atomic
///   [`AccessTokenDatabase::delete`] decides who owns it), leaves a *tombstone* (a record of
///   the same family with `used = true`, under a digest derived from the token's) and issues
///   the next token of the family. Every refresh therefore rotates the token.
/// - Presenting a token whose record is a tombstone — a token that was already exchanged,
///   so either the client or a thief holds a stale copy — revokes every token of the family,
///   the newest included, and fails with [`StrategyError::RefreshTokenReused`].
///
/// Each token lives `lifetime` from its issue (tombstones from the exchange), so an idle
/// session ends after `lifetime`. Give the tokens a store of their own (a separate table or key
/// prefix from access tokens).
///
/// A family can be *linked* to the access tokens issued with it ([`RefreshTokens::issue_for`]
/// at login, [`RefreshTokens::link_issued`] after an exchange): a record keyed by a digest of
/// the access token (which no client can present as a refresh token) naming the family, so
/// logging out with the access token alone ends the family too
/// ([`RefreshTokens::revoke_linked`]).
pub struct RefreshTokens<S, ID> {
    tokens: TokenStore<S, ID, Duration>,
}

impl<S: Clone, ID> Clone for RefreshTokens<S, ID> {
    /// A handle on the same store (for stores whose clones share data, like the memory and
    /// SQL pool-backed ones), e.g. to register as a [`SessionRevoker`] as well.
    fn clone(&self) -> Self {
        Self {
            tokens: self.tokens.clone(),
        }
    }
}

impl<S, ID> fmt::Debug for RefreshTokens<S, ID> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.tokens.fmt_as("RefreshTokens", f)
    }
}

impl<S: AccessTokenDatabase<ID>, ID: UserId> RefreshTokens<S, ID> {
    /// Refresh tokens kept in `store`, each valid for `lifetime`.
    pub fn new(store: S, lifetime: Duration) -> Self {
        Self {
            tokens: TokenStore::new(store, lifetime),
        }
    }

    /// Reads "now" from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.tokens.set_clock(clock);
        self
    }

    /// The token store.
    pub fn store(&self) -> &S {
        &self.tokens.store
    }

    /// How long a refresh token lives.
    pub fn lifetime(&self) -> Duration {
        self.tokens.lifetime
    }

    fn max_age(&self, now: OffsetDateTime) -> OffsetDateTime {
        oldest_valid(now, self.tokens.lifetime)
    }

    /// Stores a used record (a tombstone or a link) of `family` under `digest`, unless one is
    /// there already.
    async fn store_used(
        &self,
        digest: TokenDigest,
        user_id: &ID,
        family: TokenFamily,
        now: OffsetDateTime,
    ) -> Result<(), StrategyError> {
        self.store_used_at(digest, user_id, Some(family), now).await
    }

    /// [`RefreshTokens::store_used`] for a record that may have no family (a user's mark).
    async fn store_used_at(
        &self,
        digest: TokenDigest,
        user_id: &ID,
        family: Option<TokenFamily>,
        now: OffsetDateTime,
    ) -> Result<(), StrategyError> {
        let record = NewAccessToken {
            digest,
            user_id: user_id.clone(),
            created_at: now,
            family,
            used: true,
        };
        match self.tokens.store.create(record).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Issues the first refresh token of a new family for `user_id` (login).
    pub async fn issue(&self, user_id: &ID) -> Result<String, StrategyError> {
        self.tokens
            .create(user_id, Some(TokenFamily::new()), self.tokens.now())
            .await
    }

    /// Issues the first refresh token of a new family for `user_id`, linked to the access
    /// token issued with it (login): logging out with that access token ends the family.
    pub async fn issue_for(
        &self,
        user_id: &ID,
        access_token: &str,
    ) -> Result<String, StrategyError> {
        let family = TokenFamily::new();
        let now = self.tokens.now();
        let token = self.tokens.create(user_id, Some(family), now).await?;
        self.link(user_id, family, access_token).await?;
        Ok(token)
    }

    /// Links `access_token` to `family`, without checking the family.
    ///
    /// For an access token issued with an exchange's next refresh token, use
    /// [`RefreshTokens::link_issued`], which also checks that no revocation ran while the access
    /// token was written.
    pub async fn link(
        &self,
        user_id: &ID,
        family: TokenFamily,
        access_token: &str,
    ) -> Result<(), StrategyError> {
        let link = marks::link(&TokenDigest::of(access_token));
        self.store_used(link, user_id, family, self.tokens.now())
            .await
    }

    /// Revokes the family linked to `access_token` when it belongs to `owner` (logout without
    /// the refresh token); `false` when there is none.
    pub async fn revoke_linked(
        &self,
        access_token: &str,
        owner: &ID,
    ) -> Result<bool, StrategyError> {
        let link = marks::link(&TokenDigest::of(access_token));
        match self.tokens.store.get_by_token(&link, None).await? {
            Some(record) if &record.user_id == owner => match record.family {
                Some(family) => Ok(self.revoke_family(owner, family).await? > 0),
                None => Ok(false),
            },
            _ => Ok(false),
        }
    }

    /// Deletes every record of `family` belonging to `user_id`; returns how many.
    ///
    /// It first leaves a *revocation mark* for the family (a record no client can present,
    /// living `lifetime`), then lists and deletes. An exchange of the family that is under way
    /// checks the mark after storing its next token and withdraws that token when the mark is
    /// there, so a revocation that listed the family before the next token existed still ends
    /// it (see [`RefreshTokens::exchange`]).
    pub async fn revoke_family(
        &self,
        user_id: &ID,
        family: TokenFamily,
    ) -> Result<u64, StrategyError> {
        let mark = marks::revocation(family);
        self.store_used(mark, user_id, family, self.tokens.now())
            .await?;
        let mut deleted = 0;
        for record in self.tokens.store.list_for_user(user_id).await? {
            if record.family == Some(family)
                && record.digest != mark
                && self.tokens.store.delete(&record.digest).await?
            {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// The record of the token with `digest`: the live token, or else its tombstone (a record
    /// with `used` set), or a tombstone written under the token's own digest (as authward did
    /// before tombstones had keys of their own).
    async fn find(
        &self,
        digest: &TokenDigest,
        max_age: Option<OffsetDateTime>,
    ) -> Result<Option<AccessToken<ID>>, StrategyError> {
        let store = &self.tokens.store;
        if let Some(record) = store.get_by_token(digest, max_age).await? {
            return Ok(Some(record));
        }
        Ok(store
            .get_by_token(&marks::tombstone(digest), max_age)
            .await?)
    }

    /// Whether `family` (of `user_id`) was revoked: it carries a revocation mark, or all of the
    /// user's sessions ended at or after `since` (when the consumed token was issued).
    async fn is_revoked(
        &self,
        user_id: &ID,
        family: TokenFamily,
        since: OffsetDateTime,
    ) -> Result<bool, StrategyError> {
        let store = &self.tokens.store;
        let mark = store.get_by_token(&marks::revocation(family), None).await?;
        if mark.is_some_and(|mark| mark.family == Some(family) && &mark.user_id == user_id) {
            return Ok(true);
        }
        // Either copy of the mark (see `revoke_all_for_user`).
        for digest in marks::all_revoked_marks(&user_id.to_string()) {
            let all = store.get_by_token(&digest, None).await?;
            if all.is_some_and(|mark| &mark.user_id == user_id && mark.created_at >= since) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Revokes the family of `token` (logout); `false` when the token is unknown.
    pub async fn revoke(&self, token: &str) -> Result<bool, StrategyError> {
        self.revoke_owned(token, None).await
    }

    /// Revokes the family of `token` when it belongs to `owner` (or to anyone when `owner` is
    /// `None`); `false` when the token is unknown or someone else's.
    pub async fn revoke_owned(
        &self,
        token: &str,
        owner: Option<&ID>,
    ) -> Result<bool, StrategyError> {
        if !is_well_formed_token(token) {
            return Ok(false);
        }
        match self.find(&TokenDigest::of(token), None).await? {
            Some(record) if owner.is_none_or(|owner| owner == &record.user_id) => {
                match record.family {
                    Some(family) => Ok(self.revoke_family(&record.user_id, family).await? > 0),
                    None => Ok(false),
                }
            }
            _ => Ok(false),
        }
    }

    /// Ends every refresh family of `user_id` (log-out-everywhere, password change or reset,
    /// deactivation, deletion); returns how many records it deleted.
    ///
    /// It first dates the user's *all-revoked mark* (a record no client can present, living
    /// `lifetime`, kept in two copies replaced one at a time, so an earlier date never goes
    /// missing while a newer one is written), then lists the user's records and deletes each
    /// one but the marks. An exchange under way checks the mark after storing its next token
    /// and withdraws that token when the mark is at least as recent as the token it consumed, so a session being
    /// issued during a password change does not outlive it (see [`RefreshTokens::exchange`]),
    /// whether or not the store's listing is a snapshot. One `delete` per record: a user's
    /// tombstones and links (one of each per refresh within the lifetime) make it slower than
    /// [`AccessTokenDatabase::delete_all_for_user`], which would also delete the marks an
    /// exchange under way must still find.
    pub async fn revoke_all_for_user(&self, user_id: &ID) -> Result<u64, StrategyError> {
        let store = &self.tokens.store;
        let [all_revoked, copy] = marks::all_revoked_marks(&user_id.to_string());
        // Replace the mark with one dated now. A store has no atomic replace, so the mark is
        // kept twice and replaced one copy at a time: while one is missing, the other holds
        // the latest date, and an exchange checking then still sees every earlier end of all
        // sessions. The copy goes first; the first mark, which earlier versions read alone,
        // last. (A concurrent revocation may write a copy between our two calls: its date is
        // as recent as ours.)
        let now = self.tokens.now();
        for digest in [copy, all_revoked] {
            store.delete(&digest).await?;
            self.store_used_at(digest, user_id, None, now).await?;
        }
        let mut deleted = 0;
        for record in store.list_for_user(user_id).await? {
            let is_mark = record.digest == all_revoked
                || record.digest == copy
                || record
                    .family
                    .is_some_and(|family| record.digest == marks::revocation(family));
            if !is_mark && store.delete(&record.digest).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Exchanges a refresh token for its user and the next token of its family.
    ///
    /// Fails with [`StrategyError::InvalidRefreshToken`] for a malformed, unknown or expired
    /// token, or one whose user is gone or inactive; with
    /// [`StrategyError::RefreshTokenReused`] (after revoking the family) for a token already
    /// exchanged. When the family is revoked while the exchange runs (a replay of the same
    /// token, a logout, a password change ending all of the user's sessions), the exchange
    /// fails with [`StrategyError::InvalidRefreshToken`] and the next token it stored is
    /// withdrawn, so no revocation can miss it.
    ///
    /// To issue an access token with the next refresh token, use
    /// [`RefreshTokens::exchange_in_family`] and [`RefreshTokens::link_issued`] (as
    /// [`WithRefresh::refresh`] does): this call alone cannot tell whether a revocation ran
    /// while that access token was written.
    pub async fn exchange<U>(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<(U, String), StrategyError>
    where
        U: AuthUser<Id = ID>,
    {
        self.exchange_in_family(token, users)
            .await
            .map(|exchanged| (exchanged.user, exchanged.token))
    }

    /// [`RefreshTokens::exchange`], also returning the family and when the consumed token was
    /// issued, for [`link_issued`](Self::link_issued): an access token issued with the next
    /// refresh token goes out only after that call succeeds.
    pub async fn exchange_in_family<U>(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Exchanged<U>, StrategyError>
    where
        U: AuthUser<Id = ID>,
    {
        if !is_well_formed_token(token) {
            return Err(StrategyError::InvalidRefreshToken);
        }
        let now = self.tokens.now();
        let digest = TokenDigest::of(token);
        let Some(record) = self.find(&digest, Some(self.max_age(now))).await? else {
            return Err(StrategyError::InvalidRefreshToken);
        };
        let Some(family) = record.family else {
            return Err(StrategyError::InvalidRefreshToken);
        };
        // A tombstone: the token was exchanged already.
        if record.used {
            self.revoke_family(&record.user_id, family).await?;
            return Err(StrategyError::RefreshTokenReused);
        }
        let user = match users.user_by_id(&record.user_id).await? {
            Some(user) if user.is_active() => user,
            _ => return Err(StrategyError::InvalidRefreshToken),
        };
        // The tombstone goes first, so a replay finds the token or its tombstone at every
        // moment, and is detected as reuse either way (never merely refused as unknown).
        self.store_used(marks::tombstone(&digest), &record.user_id, family, now)
            .await?;
        // The tombstone has a key of its own, so only one caller's delete can succeed, however
        // the calls interleave.
        if !self.tokens.store.delete(&digest).await? {
            // Someone exchanged it between our read and our delete: a replay racing the
            // legitimate exchange (or the other way round), or a revocation deleted it.
            self.revoke_family(&record.user_id, family).await?;
            return Err(StrategyError::RefreshTokenReused);
        }
        let next = self
            .tokens
            .create(&record.user_id, Some(family), now)
            .await?;
        // A revocation of the family (a replay of this token, a logout, the end of all of the
        // user's sessions) may have listed the user's records before `next` existed. Every
        // revocation leaves its mark before it lists, so either the mark is visible now, or
        // the revocation lists after `next` was stored and deletes it.
        if self
            .is_revoked(&record.user_id, family, record.created_at)
            .await?
        {
            // Never handed out; deleting it only tidies up.
            self.tokens.store.delete(&TokenDigest::of(&next)).await?;
            return Err(StrategyError::InvalidRefreshToken);
        }
        Ok(Exchanged {
            user,
            token: next,
            family,
            consumed_issued_at: record.created_at,
        })
    }

    /// Links `access_token`, issued with an exchange's next refresh token, to the family, then
    /// checks that the family still stands.
    ///
    /// A revocation that began after the exchange checked the family (a logout, the end of all
    /// of the user's sessions) leaves its mark before it revokes the access tokens, so when it
    /// revoked them before `access_token` existed, the mark is visible here. The call then
    /// fails with [`StrategyError::InvalidRefreshToken`] after deleting the next refresh token
    /// and the link: the caller must not hand out either token, and should destroy
    /// `access_token` with its strategy.
    pub async fn link_issued<U>(
        &self,
        exchanged: &Exchanged<U>,
        access_token: &str,
    ) -> Result<(), StrategyError>
    where
        U: AuthUser<Id = ID>,
    {
        let user_id = exchanged.user.id();
        self.link(user_id, exchanged.family, access_token).await?;
        if self
            .is_revoked(user_id, exchanged.family, exchanged.consumed_issued_at)
            .await?
        {
            // Never handed out; deleting them only tidies up.
            let store = &self.tokens.store;
            store.delete(&TokenDigest::of(&exchanged.token)).await?;
            store
                .delete(&marks::link(&TokenDigest::of(access_token)))
                .await?;
            return Err(StrategyError::InvalidRefreshToken);
        }
        Ok(())
    }
}

#[async_trait]
impl<S: AccessTokenDatabase<ID>, ID: UserId> SessionRevoker<ID> for RefreshTokens<S, ID> {
    /// Deletes every refresh token of the user, whatever the reason.
    async fn revoke_all(&self, user_id: &ID, _reason: RevokeReason) -> Result<(), StrategyError> {
        self.revoke_all_for_user(user_id).await.map(|_| ())
    }
}

/// An access token and a refresh token, as the login and refresh routes return them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    /// The access token (from the wrapped strategy).
    pub access_token: String,
    /// The refresh token (single use).
    pub refresh_token: String,
    /// Always `"bearer"`.
    pub token_type: &'static str,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// Any access-token strategy plus refresh tokens: login returns a [`TokenPair`], refresh
/// rotates the refresh token and issues a new access token.
///
/// It is itself a [`Strategy`] (reading and destroying access tokens through the wrapped one),
/// so it can sit in an [`Authenticator`](crate::strategy::Authenticator).
pub struct WithRefresh<U: AuthUser, S> {
    access: Arc<dyn Strategy<U>>,
    refresh: RefreshTokens<S, U::Id>,
}

impl<U: AuthUser, S> fmt::Debug for WithRefresh<U, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithRefresh")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser, S: AccessTokenDatabase<U::Id>> WithRefresh<U, S> {
    /// Adds `refresh` tokens to the `access` strategy.
    pub fn new(access: Arc<dyn Strategy<U>>, refresh: RefreshTokens<S, U::Id>) -> Self {
        Self { access, refresh }
    }

    /// The access-token strategy.
    pub fn access(&self) -> &Arc<dyn Strategy<U>> {
        &self.access
    }

    /// The refresh tokens.
    pub fn refresh_tokens(&self) -> &RefreshTokens<S, U::Id> {
        &self.refresh
    }

    /// Issues an access token and the first refresh token of a new family, linked to it.
    pub async fn login(&self, user: &U) -> Result<TokenPair, StrategyError> {
        let access_token = self.access.write_token(user).await?;
        let refresh_token = self.refresh.issue_for(user.id(), &access_token).await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "bearer",
        })
    }

    /// Exchanges a refresh token: the user, a new access token and the next refresh token.
    ///
    /// Errors as [`RefreshTokens::exchange`]. When the family is revoked while the new access
    /// token is written, it fails with [`StrategyError::InvalidRefreshToken`] too, and
    /// destroys that access token (see [`RefreshTokens::link_issued`]).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<(U, TokenPair), StrategyError> {
        let exchanged = self
            .refresh
            .exchange_in_family(refresh_token, users)
            .await?;
        let access_token = self.access.write_token(&exchanged.user).await?;
        if let Err(error) = self.refresh.link_issued(&exchanged, &access_token).await {
            // Revoked while the access token was written (or the check failed): it goes to
            // no one, and is destroyed where the strategy can (a stateless token cannot be,
            // and was never handed out).
            match self
                .access
                .destroy_token(&access_token, &exchanged.user)
                .await
            {
                Ok(()) | Err(StrategyError::DestroyNotSupported) => {}
                Err(destroy) => {
                    tracing::warn!(error = %destroy, "withdrawing a refresh's access token failed");
                }
            }
            return Err(error);
        }
        Ok((
            exchanged.user,
            TokenPair {
                access_token,
                refresh_token: exchanged.token,
                token_type: "bearer",
            },
        ))
    }

    /// Logs out: revokes the family linked to the access token, and the refresh token's
    /// family (when given and `user`'s), then destroys the access token (whose
    /// [`StrategyError::DestroyNotSupported`] is passed on).
    pub async fn logout(
        &self,
        access_token: &str,
        refresh_token: Option<&str>,
        user: &U,
    ) -> Result<(), StrategyError> {
        self.refresh.revoke_linked(access_token, user.id()).await?;
        if let Some(refresh_token) = refresh_token {
            self.refresh
                .revoke_owned(refresh_token, Some(user.id()))
                .await?;
        }
        self.access.destroy_token(access_token, user).await
    }
}

#[async_trait]
impl<U: AuthUser, S: AccessTokenDatabase<U::Id>> Strategy<U> for WithRefresh<U, S> {
    async fn read_token(
        &self,
        token: &str,
        users: &dyn UserLookup<U>,
    ) -> Result<Option<U>, StrategyError> {
        self.access.read_token(token, users).await
    }

    async fn write_token(&self, user: &U) -> Result<String, StrategyError> {
        self.access.write_token(user).await
    }

    async fn destroy_token(&self, token: &str, user: &U) -> Result<(), StrategyError> {
        self.access.destroy_token(token, user).await
    }

    /// Revokes the refresh tokens, then the access tokens (whose
    /// [`StrategyError::RevokeAllNotSupported`] is passed on, after the refresh tokens are
    /// gone).
    async fn revoke_all(&self, user_id: &U::Id, reason: RevokeReason) -> Result<(), StrategyError> {
        self.refresh.revoke_all_for_user(user_id).await?;
        self.access.revoke_all(user_id, reason).await
    }

    /// The access strategy's: refresh tokens can always be revoked.
    fn revocation(&self) -> Revocation {
        self.access.revocation()
    }
}
