//! `GET /docs`: browsable API documentation of `GET /openapi.json`.
//!
//! The page is RapiDoc through the `utoipa-rapidoc` crate: the crate embeds a ten-line HTML
//! page (nothing is downloaded when building) that points the viewer at `/openapi.json`, the
//! document this app serves already, so the spec is not serialized twice. The viewer's
//! JavaScript loads at run time, in the browser, from the unpkg CDN
//! (`https://unpkg.com/rapidoc/dist/rapidoc-min.js`): without network the page loads but shows
//! nothing, and `/openapi.json` still answers. (`utoipa-swagger-ui` was not used: it downloads
//! its assets at build time.)

use axum::Router;
use utoipa_rapidoc::RapiDoc;

/// Where the OpenAPI document is served.
pub const SPEC_PATH: &str = "/openapi.json";
/// Where the documentation page is served.
pub const DOCS_PATH: &str = "/docs";

/// A router serving the page at [`DOCS_PATH`], reading the document at [`SPEC_PATH`].
pub fn router() -> Router {
    RapiDoc::new(SPEC_PATH).path(DOCS_PATH).into()
}
