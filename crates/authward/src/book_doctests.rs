//! Book chapters compiled as doc tests (filled in by the guide).
