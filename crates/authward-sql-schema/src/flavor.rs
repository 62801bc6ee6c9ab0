//! [`Flavor`]: the tables as one database writes them, as data (the `CREATE TABLE` text, the
//! queries an adoption needs), so that the steps building and adopting them are written once.

use crate::{TokenPlan, UserPlan};

/// What one database writes in its own way.
pub(crate) struct Flavor {
    /// `CREATE TABLE` of an OAuth account table named `name`.
    pub(crate) oauth_table: fn(&UserPlan, &str) -> String,
    /// `CREATE TABLE` of a token table named `name`.
    pub(crate) token_table: fn(&TokenPlan, &str) -> String,
    /// Lists each `(oauth_name, account_id)` pair linked more than once in the OAuth table
    /// written in place of `{}`.
    pub(crate) oauth_duplicates: &'static str,
    /// The expression ordering an OAuth table's rows as they were linked.
    pub(crate) link_order: &'static str,
    /// The SQL expression computing a plaintext `token`'s SHA-256 digest, or `None` when the
    /// database has no SHA-256 and each token is hashed here.
    pub(crate) token_digest: Option<&'static str>,
}
