//! # authward-oauth
//!
//! OAuth2 and OpenID Connect login and account association for [`authward_axum`], speaking
//! FastAPI Users' HTTP contract (`get_oauth_router`, `get_oauth_associate_router`):
//!
//! - `GET /auth/<provider>/authorize` → 200 `{"authorization_url": ...}` and the CSRF cookie
//!   `fastapiusersoauthcsrf`;
//! - `GET /auth/<provider>/callback` → the backend's login response (bearer: 200 JSON,
//!   cookie: 204 with `Set-Cookie`);
//! - `GET /auth/associate/<provider>/authorize` and `/callback` for a signed-in user → 200 with
//!   the user.
//!
//! Providers: any OpenID Connect provider by discovery ([`OidcProvider::new`]), presets for
//! Google, Microsoft and GitLab ([`OidcProvider::google`], [`OidcProvider::microsoft`],
//! [`OidcProvider::gitlab`]), GitHub ([`GitHubProvider`], not OIDC: the primary verified
//! email comes from its API), or your own [`OAuthProvider`]. HTTP goes through reqwest over
//! rustls ([`HttpClient`]).
//!
//! What it does better than FastAPI Users, with the same contract:
//! - the state and the CSRF cookie are checked **before** the code is exchanged, so a forged
//!   callback never reaches the provider;
//! - every bad state (signature, expiry, audience, algorithm, garbage) is a 400, never a 500;
//! - a state works once ([`StateStore`]) and the CSRF cookie is cleared by the callback;
//! - PKCE (`S256`) always, and a `nonce` for OpenID Connect; the verifier never leaves the
//!   server, and ID tokens are validated (signature from the provider's JWKS, issuer,
//!   audience, expiry, nonce);
//! - linking by email needs the provider to say the email is verified **and** the local
//!   account to be verified; a provider account linked to one user is never linked to
//!   another (400 `OAUTH_ACCOUNT_ALREADY_LINKED`);
//! - redirect URLs come from configuration only;
//! - provider tokens never appear in a response and are encrypted at rest
//!   ([`ProviderTokenCipher`](authward_core::oauth::ProviderTokenCipher)), or not kept.
//!
//! ## Adding a provider
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use authward_axum::{Authward, HttpUserDb};
//! use authward_oauth::{AssociateOptions, LoginOptions, OAuth, OAuthUserDb, OidcProvider};
//!
//! fn routes<DB: OAuthUserDb>(aw: Authward<DB>) -> Result<axum::Router, Box<dyn std::error::Error>> {
//!     let oauth = OAuth::new(aw, "a state secret of at least thirty-two bytes")?;
//!     let google = Arc::new(OidcProvider::google("client-id", "client-secret")?);
//!     Ok(axum::Router::new()
//!         .nest(
//!             "/auth/google",
//!             oauth.login_router(
//!                 google.clone(),
//!                 LoginOptions::new("jwt", "https://app.example.com/auth/google/callback")
//!                     .associate_by_email(true),
//!             )?,
//!         )
//!         .nest(
//!             "/auth/associate/google",
//!             oauth.associate_router(
//!                 google,
//!                 AssociateOptions::new("https://app.example.com/auth/associate/google/callback"),
//!             )?,
//!         ))
//! }
//! ```
//!
//! Keep the provider tokens (encrypted) by giving the manager a key:
//! `UserManager::builder(db, secret).provider_token_cipher(ProviderTokenCipher::from_base64(&key)?)`.
//! See `docs/src/oauth.md` for the contract, the options and the security notes.

mod config;
mod github;
mod http;
mod oidc;
#[cfg(feature = "openapi")]
pub mod openapi;
mod provider;
mod routes;
mod state;

pub use config::{
    AssociateOptions, CsrfCookie, LoginOptions, OAuth, OAuthBuilder, OAuthConfigError, OAuthUserDb,
};
pub use github::GitHubProvider;
pub use http::{HttpClient, HttpError, MAX_RESPONSE_BYTES};
pub use oidc::{OidcProvider, ProviderConfigError};
pub use provider::{
    AuthorizationRequest, CodeExchange, OAuthProvider, ProviderError, ProviderIdentity,
};
pub use routes::DETAIL_INVALID_ID_TOKEN;
pub use state::{
    DEFAULT_MEMORY_STATE_CAPACITY, DEFAULT_STATE_LIFETIME, MemoryStateStore, STATE_AUDIENCE,
    StateStore, TokenStateStore,
};
