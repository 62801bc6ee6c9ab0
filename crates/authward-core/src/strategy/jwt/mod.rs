//! The JWT strategy: stateless signed tokens with FastAPI Users' claims, hardened.
//!
//! See [`JwtStrategy`] for the claims and the checks, and `docs/src/strategies.md` for the
//! revocation design and its trade-offs.

mod asymmetric;
mod builder;
mod claims;
mod keys;
mod revocation;
mod strategy;

pub use builder::{DEFAULT_AUDIENCE, DEFAULT_MAX_TOKEN_LEN, JwtConfigError, JwtStrategyBuilder};
pub use keys::{JwtAlgorithm, JwtKey, JwtKeyError};
pub use revocation::JwtRevocationStore;
pub use strategy::JwtStrategy;
