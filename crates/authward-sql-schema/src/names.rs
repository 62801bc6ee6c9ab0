//! Table and column names: FastAPI Users' by default, configurable, always validated.

use std::fmt;

/// The longest identifier accepted, so that derived index names (`<table>_email_key_idx`, ...)
/// stay within PostgreSQL's 63- and MySQL's 64-character limits.
pub const MAX_IDENT_LEN: usize = 48;

/// A table or column name that passed validation: `^[A-Za-z_][A-Za-z0-9_]{0,47}$`.
///
/// Only validated identifiers are ever put into SQL text, and always quoted for the backend,
/// so configuration can never inject SQL.
///
/// ```
/// use authward_sql_schema::Ident;
/// assert!(Ident::new("app_user").is_ok());
/// assert!(Ident::new("user; DROP TABLE x").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, InvalidIdent> {
        let mut chars = name.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid_start && valid_rest && name.len() <= MAX_IDENT_LEN {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidIdent {
                name: name.to_owned(),
                reason: "expected ^[A-Za-z_][A-Za-z0-9_]{0,47}$",
            })
        }
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This name with `suffix` appended (used for derived index and constraint names).
    pub fn suffixed(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A table or column name was rejected by [`Ident::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SQL identifier {name:?}: {reason}")]
pub struct InvalidIdent {
    /// The rejected name.
    pub name: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// The names of the three tables, FastAPI Users' (`user`, `oauth_account`, `accesstoken`) by
/// default.
///
/// ```
/// use authward_sql_schema::TableNames;
/// let names = TableNames::default().with_prefix("auth_").unwrap();
/// assert_eq!(names.user.as_str(), "auth_user");
/// assert_eq!(names.accesstoken.as_str(), "auth_accesstoken");
/// // A second token store (refresh tokens) uses another token table.
/// let refresh = TableNames::default().with_token_table("refreshtoken").unwrap();
/// assert_eq!(refresh.accesstoken.as_str(), "refreshtoken");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    /// The user table.
    pub user: Ident,
    /// The OAuth account table.
    pub oauth_account: Ident,
    /// The token table of a token store.
    pub accesstoken: Ident,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            user: Ident("user".into()),
            oauth_account: Ident("oauth_account".into()),
            accesstoken: Ident("accesstoken".into()),
        }
    }
}

impl TableNames {
    /// Explicit names, each validated.
    pub fn new(user: &str, oauth_account: &str, accesstoken: &str) -> Result<Self, InvalidIdent> {
        Ok(Self {
            user: Ident::new(user)?,
            oauth_account: Ident::new(oauth_account)?,
            accesstoken: Ident::new(accesstoken)?,
        })
    }

    /// Every name with `prefix` in front (one database shared by several applications).
    pub fn with_prefix(self, prefix: &str) -> Result<Self, InvalidIdent> {
        Ok(Self {
            user: Ident::new(&format!("{prefix}{}", self.user))?,
            oauth_account: Ident::new(&format!("{prefix}{}", self.oauth_account))?,
            accesstoken: Ident::new(&format!("{prefix}{}", self.accesstoken))?,
        })
    }

    /// The same names with another token table.
    pub fn with_token_table(self, accesstoken: &str) -> Result<Self, InvalidIdent> {
        Ok(Self {
            accesstoken: Ident::new(accesstoken)?,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated() {
        for good in ["user", "_x", "A1_b", &"a".repeat(MAX_IDENT_LEN)] {
            assert!(Ident::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "\"user\"",
            "`x`",
            "a;b",
            "é",
            &"a".repeat(MAX_IDENT_LEN + 1),
        ] {
            assert!(Ident::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefix_is_validated_too() {
        assert!(TableNames::default().with_prefix("x\"; --").is_err());
        let names = TableNames::default().with_prefix("t1_").expect("valid");
        assert_eq!(names.oauth_account.as_str(), "t1_oauth_account");
    }
}
