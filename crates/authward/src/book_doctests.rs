//! The Rust samples of the guide (docs/src), compiled as doc tests of the facade:
//! `cargo test -p authward --doc --all-features`. One empty module per chapter that has
//! samples marked `rust` or `rust,no_run`; `lib.rs` declares this module under
//! `#[cfg(doctest)]`, so it is never part of a build.
//!
//! The samples use `authward::…` paths and, besides the facade, these crates, which must be
//! dev-dependencies of the facade: `tokio` (features `macros`, `rt-multi-thread`), `uuid`
//! (`v4`), `time`, `serde` (`derive`), `serde_json`, `async-trait`, `axum`.
//!
//! Chapters whose Rust blocks are all `rust,ignore` (fragments, each saying why) are not
//! listed: http, oauth, strategies, adapters/sea-orm, faults.

#[doc = include_str!("../../../docs/src/getting-started.md")]
mod getting_started {}

#[doc = include_str!("../../../docs/src/concepts.md")]
mod concepts {}

#[doc = include_str!("../../../docs/src/adapters/sqlx.md")]
mod adapters_sqlx {}

#[doc = include_str!("../../../docs/src/adapters/mongodb.md")]
mod adapters_mongodb {}

#[doc = include_str!("../../../docs/src/adapters/redis.md")]
mod adapters_redis {}

#[doc = include_str!("../../../docs/src/custom-adapter.md")]
mod custom_adapter {}

#[doc = include_str!("../../../docs/src/custom-fields.md")]
mod custom_fields {}

#[doc = include_str!("../../../docs/src/strategies/jwt.md")]
mod strategies_jwt {}

#[doc = include_str!("../../../docs/src/strategies/jwt-revocation.md")]
mod strategies_jwt_revocation {}

#[doc = include_str!("../../../docs/src/strategies/database.md")]
mod strategies_database {}

#[doc = include_str!("../../../docs/src/strategies/redis.md")]
mod strategies_redis {}

#[doc = include_str!("../../../docs/src/strategies/refresh.md")]
mod strategies_refresh {}

#[doc = include_str!("../../../docs/src/deployment.md")]
mod deployment {}

#[doc = include_str!("../../../docs/src/migrating.md")]
mod migrating {}
