//! Workspace-level end-to-end tests for authward; the tests live in `tests/tests/`.
