//! Collection and index names.

/// The user collection's default name: Beanie names a collection after its document class,
/// and FastAPI Users' docs call it `User`.
pub const DEFAULT_USER_COLLECTION: &str = "User";
/// The token collection's default name (Beanie's `AccessToken`).
pub const DEFAULT_TOKEN_COLLECTION: &str = "AccessToken";
/// Beanie's unique, case-insensitive email index on the user collection.
pub const EMAIL_INDEX: &str = "case_insensitive_email_index";
/// The unique index on the `email_key` field authward adds: the key of
/// [`email_key`](authward_core::email_key) (NFKC, Unicode case folding, IDNA domain), which
/// Beanie's collation cannot express.
pub const EMAIL_KEY_INDEX: &str = "email_key_unique";
/// The field holding each user's email key.
pub const EMAIL_KEY_FIELD: &str = "email_key";
/// The unique index on `(oauth_accounts.oauth_name, oauth_accounts.account_id)` that authward
/// adds: one user per provider account.
pub const OAUTH_ACCOUNT_INDEX: &str = "oauth_account_unique";
/// Beanie's unique index on the token (authward stores the token's digest there).
pub const TOKEN_INDEX: &str = "token_1";
/// The per-user token index authward adds (`{user_id: 1, created_at: 1}`).
pub const USER_TOKENS_INDEX: &str = "user_id_1_created_at_1";
/// The index on `created_at` authward adds; a TTL index when the store has a lifetime.
pub const CREATED_AT_INDEX: &str = "created_at_1";
