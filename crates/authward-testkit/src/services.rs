//! Finding the real servers that adapter tests run against.
//!
//! Service-backed tests read their URL from the environment at run time
//! (`AUTHWARD_TEST_POSTGRES_URL`, `AUTHWARD_TEST_MYSQL_URL`, `AUTHWARD_TEST_REDIS_URL`,
//! `AUTHWARD_TEST_MONGODB_URL`). Without it they skip with a printed reason, unless
//! `AUTHWARD_TEST_REQUIRE_SERVICES=1` (which CI sets): then a missing service is a failure.

/// The variable that turns a missing service from a skip into a failure.
pub const REQUIRE_SERVICES: &str = "AUTHWARD_TEST_REQUIRE_SERVICES";

/// The URL in `var`, or `None` after printing why the test is skipped.
///
/// # Panics
/// When `var` is unset or empty and `AUTHWARD_TEST_REQUIRE_SERVICES=1`.
///
/// Inside a suite constructor, return early to skip:
///
/// ```
/// # async fn demo() {
/// let Some(url) = authward_testkit::service_url("AUTHWARD_TEST_EXAMPLE_URL") else {
///     return; // skipped, reason printed
/// };
/// # let _ = url;
/// # }
/// ```
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if services_required() => {
            panic!("{var} is not set, and {REQUIRE_SERVICES}=1 makes a missing service a failure")
        }
        _ => {
            eprintln!("skipped: {var} is not set (run `bash scripts/test.sh` to start services)");
            None
        }
    }
}

/// True when `AUTHWARD_TEST_REQUIRE_SERVICES=1`.
pub fn services_required() -> bool {
    std::env::var(REQUIRE_SERVICES).is_ok_and(|v| v == "1")
}
