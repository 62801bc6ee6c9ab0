//! The storage traits every adapter implements.
//!
//! All three are object-safe (`async_trait`) and generic over the ID type. The conformance
//! suites in `authward-testkit` define their exact behaviour; an adapter that passes them can
//! be used anywhere authward takes a store.

mod oauth;
mod token;
mod user;

pub use oauth::OAuthUserDatabase;
pub use token::AccessTokenDatabase;
pub use user::UserDatabase;
