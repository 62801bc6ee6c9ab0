//! authward-sqlx: work in progress (see the open issue).
