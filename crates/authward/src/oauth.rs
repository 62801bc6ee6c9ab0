//! OAuth accounts linked to users and the encryption of their provider tokens at rest (from
//! the core), and with the feature `oauth` the OAuth2 / OpenID Connect login and account
//! association routes for axum (`authward-oauth`).

#[doc(inline)]
pub use authward_core::oauth::*;

#[cfg(feature = "oauth")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth")))]
#[doc(inline)]
pub use authward_oauth::*;
