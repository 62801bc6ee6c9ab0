//! Shared by the end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod http;
pub mod member;
pub mod servers;
