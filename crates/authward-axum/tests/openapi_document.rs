//! The OpenAPI document of a fixed configuration, byte for byte: a change to it is deliberate.
//!
//! The configuration: the three test backends (`jwt` bearer JWT, `second` bearer database,
//! `third` cookie database) with refresh tokens and sessions, every router at FastAPI Users'
//! default prefix, UUID IDs. After a deliberate change, rewrite the fixture with
//! `AUTHWARD_BLESS_OPENAPI=1 cargo test -p authward-axum --features openapi --test openapi_document`
//! and review its diff.
#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use authward_core::memory::MemoryUserDatabase;
use common::{Setup, app_with_authward};
use uuid::Uuid;

#[test]
fn document_of_a_fixed_configuration_is_unchanged() {
    let (_, _, aw) = app_with_authward(
        MemoryUserDatabase::<Uuid>::new(),
        &[
            Setup::BearerJwt,
            Setup::BearerDatabase,
            Setup::CookieDatabase,
        ],
        true,
    );
    let doc = serde_json::to_value(aw.openapi(&aw.fastapi_users_mounts())).unwrap();
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi-uuid.json");
    if std::env::var_os("AUTHWARD_BLESS_OPENAPI").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        expected == text,
        "the document differs from {}; rerun with AUTHWARD_BLESS_OPENAPI=1 and review the diff",
        path.display()
    );
}
