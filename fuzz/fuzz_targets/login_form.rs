//! The login form extractor (`LoginForm`): any bytes as an urlencoded body. It must answer a
//! form with non-empty username and password, or a 413/422, never panic.
#![no_main]

use std::sync::LazyLock;

use authward_axum::LoginForm;
use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
});

fuzz_target!(|data: &[u8]| {
    let request = Request::builder()
        .method("POST")
        .uri("/auth/jwt/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(data.to_vec()))
        .expect("request");
    match RUNTIME.block_on(LoginForm::from_request(request, &())) {
        Ok(form) => {
            assert!(!form.username.is_empty() && !form.password.is_empty());
            assert!(form.grant_type.as_deref().is_none_or(|g| g == "password"));
            assert!(!format!("{form:?}").contains(&form.password) || form.password.len() < 4);
        }
        Err(err) => {
            let status = err.status();
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY
                    || status == StatusCode::PAYLOAD_TOO_LARGE,
                "{status}"
            );
        }
    }
});
