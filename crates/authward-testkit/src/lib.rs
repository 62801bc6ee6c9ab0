//! # authward-testkit
//!
//! Conformance suites for authward storage adapters. Each macro expands into a module of
//! ordinary `#[test]` functions that drive an implementation through every rule the core traits
//! promise: case-insensitive unique emails (Unicode included, LIKE and regex characters taken
//! literally), atomic uniqueness under 50 concurrent creates, patch semantics, cascading
//! deletes, unique OAuth accounts, token expiry boundaries, atomic token deletion and more.
//!
//! **This is how a custom adapter proves itself**: expand the suites in its tests with a
//! constructor, and it is held to exactly the rules the bundled adapters are.
//!
//! ```
//! use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
//! use authward_testkit::{Profile, access_token_database_tests, oauth_user_database_tests,
//!     user_database_tests};
//!
//! // The constructor is an expression evaluated inside an async block, once per test, so it may
//! // `.await` (connect, migrate, create a fresh schema, ...).
//! user_database_tests!(memory_users, id = uuid::Uuid, extra = Profile,
//!     db = MemoryUserDatabase::<uuid::Uuid, Profile>::new());
//! oauth_user_database_tests!(memory_oauth, id = i64, extra = (),
//!     db = MemoryUserDatabase::<i64>::new());
//! // The token suite needs a user store too, to make the users that own the tokens.
//! access_token_database_tests!(memory_tokens, id = String,
//!     db = (MemoryAccessTokenDatabase::<String>::new(), MemoryUserDatabase::<String>::new()));
//! # fn main() {}
//! ```
//!
//! The suite functions are public too ([`users`], [`oauth`], [`tokens`]), to call one directly.
//! They panic with a message naming the broken rule, like any assertion.

mod fixtures;
mod macros;
pub mod oauth;
pub mod services;
pub mod tokens;
pub mod users;

pub use fixtures::{ExtraFixture, Id, Profile, SampleId, StdUser, UserFixture, unique_email};
pub use services::{service_url, services_required};

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    /// Runs one suite test on a fresh multi-threaded runtime.
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("the test runtime starts")
            .block_on(future)
    }
}
