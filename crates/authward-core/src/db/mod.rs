//! The storage traits every adapter implements.
//!
//! All three are object-safe (`async_trait`). [`UserDatabase`] and [`OAuthUserDatabase`] take
//! their ID type from the user type they store ([`IdOf`]); [`AccessTokenDatabase`] is generic
//! over the ID of the users owning the tokens. The conformance suites in `authward-testkit`
//! define their exact behaviour; an adapter that passes them can be used anywhere authward takes
//! a store.

mod access_tokens;
mod detached;
mod oauth;
mod user;

pub use access_tokens::AccessTokenDatabase;
pub use detached::{detached, run_to_end};
pub use oauth::OAuthUserDatabase;
pub use user::{IdOf, UserDatabase};
