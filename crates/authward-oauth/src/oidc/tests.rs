#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn provider_urls_must_be_https_off_loopback() {
    assert!(provider_url("issuer", "https://accounts.google.com").is_ok());
    for loopback in [
        "http://127.0.0.1:9090",
        "http://localhost:8080",
        "http://[::1]:1",
    ] {
        assert!(provider_url("issuer", loopback).is_ok(), "{loopback}");
    }
    assert!(matches!(
        provider_url("issuer", "http://sso.example.com"),
        Err(ProviderConfigError::Insecure { .. })
    ));
    assert!(matches!(
        provider_url("issuer", "not a url"),
        Err(ProviderConfigError::InvalidUrl { .. })
    ));
    assert!(OidcProvider::new("bad name", "https://x.example", "id", None).is_err());
    assert!(OidcProvider::microsoft("common/../x", "id", "secret").is_err());
}

#[test]
fn microsoft_multi_tenant_checks_the_issuer_per_token() {
    let common = OidcProvider::microsoft("common", "id", "secret").unwrap();
    assert_eq!(common.issuer_check, IssuerCheck::MicrosoftTenant);
    assert_eq!(
        common.issuer(),
        "https://login.microsoftonline.com/common/v2.0"
    );
    let tenant = OidcProvider::microsoft("contoso.onmicrosoft.com", "id", "secret").unwrap();
    assert_eq!(tenant.issuer_check, IssuerCheck::Exact);
}

#[test]
fn raw_claims_are_read_from_the_payload() {
    let payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"tid":"9188040d","iss":"x"}"#);
    let jwt = format!("e30.{payload}.sig");
    assert_eq!(raw_claim(&jwt, "tid").as_deref(), Some("9188040d"));
    assert_eq!(raw_claim(&jwt, "nope"), None);
    assert_eq!(raw_claim("garbage", "tid"), None);
}
