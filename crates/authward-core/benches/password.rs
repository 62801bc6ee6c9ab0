//! Password hashing and login throughput benchmarks (placeholder).
fn main() {}
