//! The column names of authward's tables, in table order, for the adapters' queries.

/// The user table's own columns (the application's follow them).
pub const USER_COLUMNS: [&str; 7] = [
    "id",
    "email",
    "email_key",
    "hashed_password",
    "is_active",
    "is_superuser",
    "is_verified",
];

/// The OAuth account table's provider columns (after `id` and `user_id`).
pub const OAUTH_ACCOUNT_COLUMNS: [&str; 6] = [
    "oauth_name",
    "access_token",
    "expires_at",
    "refresh_token",
    "account_id",
    "account_email",
];

/// The token table's columns.
pub const TOKEN_COLUMNS: [&str; 5] = ["digest", "user_id", "created_at", "family", "used"];
