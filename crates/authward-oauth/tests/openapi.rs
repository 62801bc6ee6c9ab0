//! The OpenAPI fragment of the OAuth routes, merged into authward-axum's document.
#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use authward_oauth::openapi::OAuthMount;
use authward_oauth::{GitHubProvider, OAuth};
use common::*;
use serde_json::Value;

#[test]
fn oauth_routes_are_documented_and_merge() {
    let app = build_app(
        Arc::new(GitHubProvider::new("id", "secret")),
        Backend::Cookie,
        |o| o,
        false,
    );
    let oauth = OAuth::new(app.aw.clone(), STATE_SECRET).unwrap();
    let mut doc = app.aw.openapi(&app.aw.fastapi_users_mounts());
    doc.merge(oauth.openapi(&[
        OAuthMount::login("github", "cookie", "/auth/github"),
        OAuthMount::login("github", "jwt", "/auth/github-jwt"),
        OAuthMount::associate("github", "/auth/associate/github"),
    ]));
    let json: Value = serde_json::to_value(&doc).unwrap();
    let paths = &json["paths"];
    let op = |path: &str| &paths[path]["get"];
    assert_eq!(
        op("/auth/github/authorize")["operationId"],
        "oauth:github.cookie.authorize"
    );
    assert_eq!(
        op("/auth/github/callback")["operationId"],
        "oauth:github.cookie.callback"
    );
    // Cookie backend: 204; bearer backend: 200 with the token.
    assert!(op("/auth/github/callback")["responses"]["204"].is_object());
    assert_eq!(
        op("/auth/github-jwt/callback")["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/BearerResponse"
    );
    let associate = op("/auth/associate/github/callback");
    assert_eq!(associate["operationId"], "oauth-associate:github.callback");
    assert_eq!(
        associate["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/UserRead"
    );
    assert!(associate["responses"]["401"].is_object());
    assert!(associate["security"].as_array().unwrap().len() == 2);
    assert!(op("/auth/github/authorize")["security"].is_null());
    let schemas = &json["components"]["schemas"];
    for name in [
        "OAuth2AuthorizeResponse",
        "UserRead",
        "ErrorModel",
        "BearerResponse",
    ] {
        assert!(schemas[name].is_object(), "{name}");
    }
    // The rest of the document is still there.
    assert!(paths["/auth/register"].is_object());
}
