//! OAuth providers from the environment.
//!
//! A provider is declared by its client ID, `AUTHWARD_OAUTH_<NAME>_CLIENT_ID`; `<NAME>` in
//! lower case is its name in URLs and in linked accounts. For each:
//!
//! - `AUTHWARD_OAUTH_<NAME>_CLIENT_SECRET`: the client secret (required);
//! - `AUTHWARD_OAUTH_<NAME>_ISSUER`: an OpenID Connect issuer, configured by discovery. Without
//!   it the name picks a preset: `google`, `gitlab`, `github`, or `microsoft` (tenant from
//!   `AUTHWARD_OAUTH_MICROSOFT_TENANT`, default `common`);
//! - `AUTHWARD_OAUTH_<NAME>_REDIRECT_URL`: where the provider sends users back; default
//!   `<AUTHWARD_PUBLIC_URL>/auth/<name>/callback` (and `/auth/associate/<name>/callback` for
//!   association), `AUTHWARD_PUBLIC_URL` defaulting to `http://<AUTHWARD_BIND>`;
//! - `AUTHWARD_OAUTH_<NAME>_ASSOCIATE_BY_EMAIL=1`, `AUTHWARD_OAUTH_<NAME>_VERIFIED_BY_DEFAULT=1`.
//!
//! Shared: `AUTHWARD_OAUTH_STATE_SECRET` (default `AUTHWARD_SECRET`) signs the states;
//! `AUTHWARD_OAUTH_TOKEN_KEY` (32 bytes, base64) keeps the provider tokens, encrypted; without
//! it they are not kept.
//!
//! Routes: `/auth/<name>/authorize|callback` (login with the `jwt` backend) and
//! `/auth/associate/<name>/authorize|callback`.

use std::sync::Arc;

use authward::BoxError;
use authward::axum::Authward;
use authward::manager::UserManagerBuilder;
use authward::oauth::ProviderTokenCipher;
use authward::oauth::openapi::OAuthMount;
use authward::oauth::{
    AssociateOptions, GitHubProvider, LoginOptions, OAuth, OAuthProvider, OAuthUserDb, OidcProvider,
};
use axum::Router;

const PREFIX: &str = "AUTHWARD_OAUTH_";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn flag(name: &str) -> bool {
    var(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// One provider declared in the environment.
struct Declared {
    name: String,
    provider: Arc<dyn OAuthProvider>,
    login_redirect: String,
    associate_redirect: String,
    associate_by_email: bool,
    verified_by_default: bool,
}

/// Every provider declared in the environment, sorted by name.
fn declared(public_url: &str) -> Result<Vec<Declared>, BoxError> {
    let mut names: Vec<String> = std::env::vars()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix(PREFIX)?.strip_suffix("_CLIENT_ID")?;
            (!value.trim().is_empty() && !name.is_empty()).then(|| name.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    let mut providers = Vec::new();
    for upper in names {
        let name = upper.to_ascii_lowercase();
        let key = |suffix: &str| format!("{PREFIX}{upper}_{suffix}");
        let client_id = var(&key("CLIENT_ID")).unwrap_or_default();
        let secret = var(&key("CLIENT_SECRET"))
            .ok_or_else(|| format!("{} is required", key("CLIENT_SECRET")))?;
        let provider: Arc<dyn OAuthProvider> = match (var(&key("ISSUER")), name.as_str()) {
            (Some(issuer), _) => {
                Arc::new(OidcProvider::new(&name, &issuer, client_id, Some(secret))?)
            }
            (None, "google") => Arc::new(OidcProvider::google(client_id, secret)?),
            (None, "gitlab") => Arc::new(OidcProvider::gitlab(client_id, secret)?),
            (None, "microsoft") => {
                let tenant = var(&key("TENANT")).unwrap_or_else(|| "common".into());
                Arc::new(OidcProvider::microsoft(&tenant, client_id, secret)?)
            }
            (None, "github") => Arc::new(GitHubProvider::new(client_id, secret)),
            (None, _) => {
                return Err(format!(
                    "{}: set {} (an OpenID Connect issuer), or use a preset name \
                     (google, github, gitlab, microsoft)",
                    key("CLIENT_ID"),
                    key("ISSUER")
                )
                .into());
            }
        };
        let base = public_url.trim_end_matches('/');
        providers.push(Declared {
            login_redirect: var(&key("REDIRECT_URL"))
                .unwrap_or_else(|| format!("{base}/auth/{name}/callback")),
            associate_redirect: var(&key("ASSOCIATE_REDIRECT_URL"))
                .unwrap_or_else(|| format!("{base}/auth/associate/{name}/callback")),
            associate_by_email: flag(&key("ASSOCIATE_BY_EMAIL")),
            verified_by_default: flag(&key("VERIFIED_BY_DEFAULT")),
            name,
            provider,
        });
    }
    Ok(providers)
}

/// Gives the manager the provider token key, when `AUTHWARD_OAUTH_TOKEN_KEY` is set.
pub fn with_token_key<DB: authward::UserDatabase>(
    builder: UserManagerBuilder<DB>,
) -> Result<UserManagerBuilder<DB>, BoxError> {
    Ok(match var("AUTHWARD_OAUTH_TOKEN_KEY") {
        Some(key) => builder.provider_token_cipher(
            ProviderTokenCipher::from_base64(&key)
                .map_err(|e| format!("AUTHWARD_OAUTH_TOKEN_KEY: {e}"))?,
        ),
        None => builder,
    })
}

/// The OAuth routers of every declared provider, and their OpenAPI mounts.
pub fn routes<DB: OAuthUserDb>(
    aw: &Authward<DB>,
    secret: &str,
    bind: std::net::SocketAddr,
    backend: &str,
) -> Result<(Router, Option<utoipa::openapi::OpenApi>), BoxError> {
    let public_url = var("AUTHWARD_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}"));
    let providers = declared(&public_url)?;
    if providers.is_empty() {
        return Ok((Router::new(), None));
    }
    let state_secret = var("AUTHWARD_OAUTH_STATE_SECRET").unwrap_or_else(|| secret.to_owned());
    let oauth = OAuth::new(aw.clone(), state_secret)?;
    let mut router = Router::new();
    let mut mounts = Vec::new();
    for p in providers {
        let login = LoginOptions::new(backend, p.login_redirect)
            .associate_by_email(p.associate_by_email)
            .is_verified_by_default(p.verified_by_default);
        let login_prefix = format!("/auth/{}", p.name);
        let associate_prefix = format!("/auth/associate/{}", p.name);
        router = router
            .nest(
                &login_prefix,
                oauth.login_router(p.provider.clone(), login)?,
            )
            .nest(
                &associate_prefix,
                oauth.associate_router(p.provider, AssociateOptions::new(p.associate_redirect))?,
            );
        tracing::info!(provider = %p.name, "OAuth provider enabled");
        mounts.push(OAuthMount::login(&p.name, backend, login_prefix));
        mounts.push(OAuthMount::associate(&p.name, associate_prefix));
    }
    Ok((router, Some(oauth.openapi(&mounts))))
}
