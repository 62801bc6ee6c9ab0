//! Lifecycle hooks and the request context they receive.

use std::net::IpAddr;

use async_trait::async_trait;

use crate::error::BoxError;
use crate::user::AuthUser;

/// What the HTTP layer knows about the request that triggered an operation.
///
/// Every field is optional; code that calls the manager outside a request passes `None`
/// instead of a `RequestInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The client's address (after the application's proxy handling).
    pub client_ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Accept-Language` header, e.g. to pick the language of an email.
    pub accept_language: Option<String>,
    /// The public base URL the request came through, e.g. `https://app.example.com`, to
    /// build links in emails.
    pub base_url: Option<String>,
}

impl RequestInfo {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the client address.
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the accepted languages.
    pub fn with_accept_language(mut self, accept_language: impl Into<String>) -> Self {
        self.accept_language = Some(accept_language.into());
        self
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }
}

/// Which fields an update touched (what FastAPI Users passes as `update_dict`, without the
/// values, so no password ever reaches a hook).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// The email was set to a different address (a case-only change counts).
    pub email: bool,
    /// A new password was set.
    pub password: bool,
    /// `is_active` was set.
    pub is_active: bool,
    /// `is_superuser` was set.
    pub is_superuser: bool,
    /// `is_verified` was set, explicitly or because the email changed.
    pub is_verified: bool,
    /// The custom fields were replaced.
    pub extra: bool,
    /// An OAuth account was linked (`oauth_associate_callback`).
    pub oauth_account: bool,
}

impl UserChanges {
    /// True when nothing was changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Callbacks around the manager's operations, FastAPI Users' nine hooks.
///
/// Every method defaults to doing nothing. Sending emails (verification, reset) is left to
/// [`Hooks::on_after_request_verify`] and [`Hooks::on_after_forgot_password`], which receive the
/// token. An `Err` stops the operation with [`ManagerError::Hook`](super::ManagerError::Hook);
/// `on_before_delete` can therefore veto a deletion.
///
/// ```
/// use async_trait::async_trait;
/// use authward_core::manager::{Hooks, RequestInfo};
/// use authward_core::{AuthUser, BoxError, User};
///
/// struct Mailer;
///
/// #[async_trait]
/// impl Hooks<User<uuid::Uuid>> for Mailer {
///     async fn on_after_forgot_password(
///         &self,
///         user: &User<uuid::Uuid>,
///         token: &str,
///         _request: Option<&RequestInfo>,
///     ) -> Result<(), BoxError> {
///         println!("send {token} to {}", user.email());
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Hooks<U: AuthUser>: Send + Sync + 'static {
    /// After a user was created (registration, admin creation, first OAuth login).
    async fn on_after_register(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After a user was updated (including linking an OAuth account).
    async fn on_after_update(
        &self,
        _user: &U,
        _changes: &UserChanges,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After a verification token was made; send it to the user.
    async fn on_after_request_verify(
        &self,
        _user: &U,
        _token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After the user's email was verified.
    async fn on_after_verify(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After a reset-password token was made; send it to the user.
    async fn on_after_forgot_password(
        &self,
        _user: &U,
        _token: &str,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After the password was reset (every session has already been revoked).
    async fn on_after_reset_password(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After a successful login (called by the HTTP layer once the token is issued, through
    /// [`UserManager::after_login`](super::UserManager::after_login)).
    async fn on_after_login(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// Before a user is deleted; an error cancels the deletion.
    async fn on_before_delete(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    /// After a user was deleted.
    async fn on_after_delete(
        &self,
        _user: &U,
        _request: Option<&RequestInfo>,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Hooks that do nothing (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl<U: AuthUser> Hooks<U> for NoHooks {}
