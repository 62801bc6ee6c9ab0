//! The names an application uses most: `use authward::prelude::*;`.
//!
//! The core's user model, manager, storage traits and strategies always; the axum types, the
//! sqlx and Redis stores and the memory stores when their features are on.

#[doc(no_inline)]
pub use authward_core::schema::{NoFields, UserFields};
#[doc(no_inline)]
pub use authward_core::strategy::{
    DatabaseStrategy, JwtKey, JwtRevocationStore, JwtStrategy, RefreshTokens,
};
#[doc(no_inline)]
pub use authward_core::{AccessTokenDatabase, BoxError, FailFast, User, UserDatabase, UserManager};

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[doc(no_inline)]
pub use authward_axum::fallback::json_fallbacks;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[doc(no_inline)]
pub use authward_axum::readiness::Readiness;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[doc(no_inline)]
pub use authward_axum::{
    AuthBackend, Authward, AuthwardConfig, BearerTransport, CookieTransport, CurrentUser,
    MaybeUser, Superuser, Transport, VerifiedUser,
};

#[cfg(any(
    feature = "sqlx-postgres",
    feature = "sqlx-mysql",
    feature = "sqlx-sqlite"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "sqlx-postgres",
        feature = "sqlx-mysql",
        feature = "sqlx-sqlite"
    )))
)]
#[doc(no_inline)]
pub use authward_sqlx::{JsonExtra, SqlxAccessTokenDatabase, SqlxUserDatabase};

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[doc(no_inline)]
pub use authward_redis::{RedisAccessTokenDatabase, RedisTokenOptions};

#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
#[doc(no_inline)]
pub use authward_core::memory::{MemoryAccessTokenDatabase, MemoryUserDatabase};
