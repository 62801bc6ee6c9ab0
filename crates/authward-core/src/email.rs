//! Email address validation.
//!
//! Addresses are checked with the [`email_address`] crate (RFC 5321/5322 syntax), after
//! trimming surrounding whitespace, with a few stricter rules suited to account sign-up: no
//! display name (`Name <a@b.c>`), no IP-literal domains, at least one dot in the domain and
//! no control characters. The address is returned **as typed** (only trimmed); lookups and
//! uniqueness ignore case through [`crate::user::email_key`].
//!
//! ```
//! use authward_core::email::validate_email;
//!
//! assert_eq!(validate_email("  King.Arthur@Camelot.bt ").unwrap(), "King.Arthur@Camelot.bt");
//! assert!(validate_email("not an email").is_err());
//! assert!(validate_email("Arthur <arthur@camelot.bt>").is_err());
//! ```

use email_address::{EmailAddress, Options};

/// The longest address accepted, in bytes (RFC 5321's path limit minus the angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// An email address was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid email address: {reason}")]
pub struct InvalidEmail {
    /// Why, in English (safe to show to the user).
    pub reason: String,
}

impl InvalidEmail {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// Validates an email address and returns it trimmed, otherwise as typed.
pub fn validate_email(input: &str) -> Result<String, InvalidEmail> {
    let email = input.trim();
    if email.is_empty() {
        return Err(InvalidEmail::new("the address is empty"));
    }
    if email.len() > MAX_EMAIL_BYTES {
        return Err(InvalidEmail::new(format!(
            "the address is longer than {MAX_EMAIL_BYTES} bytes"
        )));
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InvalidEmail::new(
            "the address contains whitespace or control characters",
        ));
    }
    let options = Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
    };
    EmailAddress::parse_with_options(email, options)
        .map_err(|err| InvalidEmail::new(err.to_string()))?;
    Ok(email.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::user::email_key;

    #[test]
    fn accepts_ordinary_and_unicode_addresses_as_typed() {
        for ok in [
            "a@b.co",
            "King.Arthur@camelot.bt",
            "first+tag@sub.example.org",
            "квіточка@пошта.укр",
            "o'brien@example.ie",
        ] {
            assert_eq!(validate_email(ok).as_deref(), Ok(ok), "{ok}");
        }
        assert_eq!(
            validate_email("\t Ada@Example.com \n").unwrap(),
            "Ada@Example.com"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@[127.0.0.1]",
            "Name <user@example.com>",
            "user@@example.com",
            "us er@example.com",
            "user@exa mple.com",
            "user\u{0}@example.com",
            "user@example.com\u{7}",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_trimmed_input(input in "\\PC{0,80}") {
            if let Ok(email) = validate_email(&input) {
                prop_assert_eq!(email.as_str(), input.trim());
                prop_assert!(email.contains('@'));
                prop_assert!(email.len() <= MAX_EMAIL_BYTES);
            }
        }

        #[test]
        fn simple_addresses_validate_and_keep_their_case(
            local in "[A-Za-z0-9][A-Za-z0-9._+-]{0,20}[A-Za-z0-9]",
            domain in "[A-Za-z][A-Za-z0-9-]{0,10}[A-Za-z0-9]",
            tld in "[A-Za-z]{2,6}",
            pad in "[ \t]{0,3}",
        ) {
            prop_assume!(!local.contains(".."));
            let typed = format!("{local}@{domain}.{tld}");
            let email = validate_email(&format!("{pad}{typed}{pad}")).unwrap();
            prop_assert_eq!(&email, &typed);
            prop_assert_eq!(email_key(&email), typed.to_lowercase());
        }

        #[test]
        fn anything_without_an_at_sign_is_rejected(input in "[^@]{0,60}") {
            prop_assert!(validate_email(&input).is_err());
        }
    }
}
