//! FastAPI Users' security schemes: an OAuth2 password flow per bearer backend, an API key in
//! a cookie per cookie backend.

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, OAuth2, Password, Scopes, SecurityScheme,
};

use super::Mounts;
use super::responses::join;
use crate::state::{Authward, HttpUserDb};
use crate::transport::Transport;

/// `(backend name, scheme)` for every backend, in order. A bearer backend's `tokenUrl` is its
/// login path where `mounts` mounts it, else the transport's own token URL.
pub(super) fn schemes<DB: HttpUserDb>(
    aw: &Authward<DB>,
    mounts: &Mounts,
) -> Vec<(String, SecurityScheme)> {
    aw.inner
        .backends
        .iter()
        .map(|backend| {
            let scheme = match &backend.transport {
                Transport::Bearer(bearer) => {
                    let token_url = mounts
                        .auth
                        .iter()
                        .find(|(name, _)| name == &backend.name)
                        .map_or_else(
                            || bearer.token_url.clone(),
                            |(_, prefix)| join(prefix, "/login"),
                        );
                    SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                        token_url,
                        Scopes::new(),
                    ))]))
                }
                Transport::Cookie(cookie) => {
                    SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(cookie.name.clone())))
                }
            };
            (backend.name.clone(), scheme)
        })
        .collect()
}
