use super::*;

#[test]
fn errors_are_sanitized() {
    assert_eq!(sanitize_error("access_denied"), "access_denied");
    assert_eq!(sanitize_error("a\"b\\c\n"), "abc");
    assert_eq!(sanitize_error("\u{1}"), "Bad Request");
    assert_eq!(sanitize_error(&"x".repeat(1000)).len(), MAX_ERROR_BYTES);
}

#[test]
fn query_values_keep_order_and_repeats() {
    let q = Some("scopes=a&x=1&scopes=b%20c");
    assert_eq!(
        query_values(q, "scopes").ok(),
        Some(vec!["a".into(), "b c".into()])
    );
    assert_eq!(first(q, "x").ok(), Some(Some("1".into())));
    assert_eq!(first(None, "x").ok(), Some(None));
}
