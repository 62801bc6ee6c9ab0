//! Email addresses: validation, and the key that decides which addresses are one account.
//!
//! # Validation ([`validate_email`])
//!
//! An address is refused unless every mailer reads it the same way. After trimming surrounding
//! whitespace:
//!
//! - the [`email_address`] crate must accept it (RFC 5321/5322 syntax), with no display name
//!   (`Name <a@b.c>`), no IP-literal domain and at least one dot in the domain;
//! - the local part is a *dot-atom* of at most 64 bytes: letters, digits, non-ASCII letters and
//!   ``# $ & ' * + - / = ? ^ _ ` { | } ~``, separated by single dots. **Refused**: quoted local
//!   parts (`"e@attacker.com"@victim.example`), comments (`a(x)@b.c`), backslash escapes,
//!   several `@`, `%` (the "percent hack", `user%host@relay`) and `!` (UUCP bang paths): forms
//!   that some mailers route, strip or split differently from others;
//! - the domain must pass IDNA (UTS 46, non-transitional, STD3 ASCII rules, DNS lengths) and
//!   have no trailing dot;
//! - no control, format (invisible: zero-width joiners, bidi controls, soft hyphens), private
//!   use, unassigned, non-character or other default-ignorable code point, and no whitespace;
//! - no label (the local part, each domain label) mixing scripts, except Latin with the
//!   combinations Japanese, Chinese and Korean writing uses (UTS 39 "highly restrictive"): a
//!   Cyrillic `а` among Latin letters is refused;
//! - at most [`MAX_EMAIL_BYTES`] bytes typed, and at most [`MAX_EMAIL_KEY_BYTES`] bytes once
//!   normalised ([`email_key`]).
//!
//! The address is returned **as typed** (only trimmed).
//!
//! # One mailbox, one account ([`email_key`])
//!
//! Lookups and uniqueness use [`email_key`], never the typed address:
//!
//! - the **local part** is normalised to NFKC, case-folded with Unicode full case folding, and
//!   normalised to NFKC again (so the result is stable): `K` (U+212A KELVIN SIGN), `K` and `k`
//!   are one letter, and so are fullwidth `ｋ` and `k`, `ß` and `ss`;
//! - the **domain** is converted to its ASCII form with IDNA (UTS 46 processing: mapping,
//!   NFC, Punycode), so `bücher.de`, `BÜCHER.de` and `xn--bcher-kva.de` are one domain. A
//!   domain IDNA refuses (only a lookup with an invalid address can carry one) is folded like
//!   the local part instead.
//!
//! Normalisation comes from ICU4X (`icu_normalizer`, `icu_casemap`) and the `idna` crate,
//! both following the Unicode standards; every adapter calls [`email_key`], so the rule lives
//! in one place.
//!
//! ```
//! use authward_core::email::{email_key, validate_email};
//!
//! assert_eq!(validate_email("  King.Arthur@Camelot.bt ").unwrap(), "King.Arthur@Camelot.bt");
//! assert!(validate_email("not an email").is_err());
//! assert!(validate_email("Arthur <arthur@camelot.bt>").is_err());
//! assert!(validate_email(r#""e@attacker.com"@victim.example"#).is_err());
//! assert_eq!(email_key("user@bücher.de"), email_key("USER@xn--bcher-kva.de"));
//! assert_eq!(email_key("\u{212A}ay@example.com"), "kay@example.com");
//! ```

use std::borrow::Cow;

use email_address::{EmailAddress, Options};
use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{
    DefaultIgnorableCodePoint, GeneralCategory, NoncharacterCodePoint, Script,
};
use icu_properties::{CodePointMapData, CodePointSetData};

/// The longest address accepted, in bytes (RFC 5321's path limit minus the angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// The longest local part accepted, in bytes (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART_BYTES: usize = 64;

/// The longest [`email_key`] of an accepted address, in bytes (normalisation can lengthen an
/// address; stores size their key column for this).
pub const MAX_EMAIL_KEY_BYTES: usize = 320;

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

/// ASCII characters a local part may hold besides letters, digits and dots: RFC 5322's
/// `atext` without `!` (bang paths) and `%` (the percent hack).
const LOCAL_PART_SYMBOLS: &str = "#$&'*+-/=?^_`{|}~";

/// Validates an email address and returns it trimmed, otherwise as typed (see the module
/// docs for every rule).
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
    check_code_points(email)?;
    let Some((local, domain)) = email.split_once('@') else {
        return Err(InvalidEmail::new("the address has no @"));
    };
    check_local_part(local)?;
    let ascii_domain = check_domain(domain)?;
    let options = Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
    };
    EmailAddress::parse_with_options(email, options)
        .map_err(|err| InvalidEmail::new(err.to_string()))?;
    let key_len = fold(local).len() + 1 + ascii_domain.len();
    if key_len > MAX_EMAIL_KEY_BYTES {
        return Err(InvalidEmail::new(format!(
            "the normalised address is longer than {MAX_EMAIL_KEY_BYTES} bytes"
        )));
    }
    Ok(email.to_owned())
}

/// No invisible, unassigned, private-use or otherwise ambiguous code point.
fn check_code_points(email: &str) -> Result<(), InvalidEmail> {
    let category = CodePointMapData::<GeneralCategory>::new();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let noncharacter = CodePointSetData::new::<NoncharacterCodePoint>();
    for c in email.chars() {
        let refused = matches!(
            category.get(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
                | GeneralCategory::Unassigned
                | GeneralCategory::SpaceSeparator
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        ) || ignorable.contains(c)
            || noncharacter.contains(c);
        if refused {
            return Err(InvalidEmail::new(format!(
                "the address contains an invisible or unassigned character (U+{:04X})",
                u32::from(c)
            )));
        }
    }
    Ok(())
}

fn check_local_part(local: &str) -> Result<(), InvalidEmail> {
    if local.is_empty() {
        return Err(InvalidEmail::new("the local part is empty"));
    }
    if local.len() > MAX_LOCAL_PART_BYTES {
        return Err(InvalidEmail::new(format!(
            "the local part is longer than {MAX_LOCAL_PART_BYTES} bytes"
        )));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(InvalidEmail::new(
            "the local part starts or ends with a dot, or has two dots in a row",
        ));
    }
    // The compatibility form too: a fullwidth `＠` or `＂` is an `@` or `"` to a mailer that
    // normalises.
    let nfkc = ComposingNormalizerBorrowed::new_nfkc().normalize(local);
    let refused = |c: &char| {
        c.is_ascii() && !(c.is_ascii_alphanumeric() || *c == '.' || LOCAL_PART_SYMBOLS.contains(*c))
    };
    if let Some(c) = local.chars().chain(nfkc.chars()).find(refused) {
        return Err(InvalidEmail::new(format!(
            "the local part contains {c:?} (quoted local parts, comments, escapes, `%` and `!` \
             are refused)"
        )));
    }
    check_scripts(local)
}

/// The domain's IDNA ASCII form, or why it is refused.
fn check_domain(domain: &str) -> Result<String, InvalidEmail> {
    if domain.is_empty() {
        return Err(InvalidEmail::new("the domain is empty"));
    }
    if domain.ends_with('.') {
        return Err(InvalidEmail::new("the domain ends with a dot"));
    }
    let ascii = idna::domain_to_ascii_strict(domain)
        .map_err(|_| InvalidEmail::new("the domain is not a valid (internationalised) domain"))?;
    if ascii.is_empty() || ascii.ends_with('.') || !ascii.contains('.') {
        return Err(InvalidEmail::new("the domain needs at least two labels"));
    }
    let (unicode, _) = idna::domain_to_unicode(&ascii);
    for label in unicode.split('.') {
        check_scripts(label)?;
    }
    Ok(ascii)
}

/// One script per label, or Latin with Han and the Japanese or Korean scripts (UTS 39's
/// "highly restrictive" level). Common and Inherited characters (digits, punctuation,
/// combining marks) go with anything.
fn check_scripts(label: &str) -> Result<(), InvalidEmail> {
    const JAPANESE: [Script; 4] = [
        Script::Latin,
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
    ];
    const CHINESE: [Script; 3] = [Script::Latin, Script::Han, Script::Bopomofo];
    const KOREAN: [Script; 3] = [Script::Latin, Script::Han, Script::Hangul];
    let scripts = CodePointMapData::<Script>::new();
    let mut seen: Vec<Script> = Vec::new();
    for c in label.chars() {
        let script = scripts.get(c);
        if script != Script::Common && script != Script::Inherited && !seen.contains(&script) {
            seen.push(script);
        }
    }
    let allowed = seen.len() <= 1
        || [&JAPANESE[..], &CHINESE[..], &KOREAN[..]]
            .iter()
            .any(|combo| seen.iter().all(|s| combo.contains(s)));
    if allowed {
        Ok(())
    } else {
        Err(InvalidEmail::new(
            "the address mixes scripts within one part (look-alike letters)",
        ))
    }
}

/// NFKC, full case folding, NFKC again.
fn fold(text: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let first = nfkc.normalize(text);
    let folded = CaseMapper::new().fold_string(&first);
    match nfkc.normalize(&folded) {
        Cow::Borrowed(same) => same.to_owned(),
        Cow::Owned(changed) => changed,
    }
}

/// The form of an email address used for lookups and uniqueness: the local part normalised
/// (NFKC) and case-folded, `@`, the domain in its IDNA ASCII form (see the module docs).
///
/// Total: any input gives a key (a lookup with an invalid address simply finds nothing).
/// Adapters that enforce uniqueness in the database store this key in a unique column.
pub fn email_key(email: &str) -> String {
    // Split after NFKC, so that a compatibility `@` (`＠`) cannot move the split between a
    // key and the key of that key.
    let email = ComposingNormalizerBorrowed::new_nfkc().normalize(email);
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = match idna::domain_to_ascii_strict(domain) {
                Ok(ascii) => ascii,
                Err(_) => fold(domain),
            };
            let mut key = fold(local);
            key.push('@');
            key.push_str(&domain);
            key
        }
        None => fold(&email),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_ordinary_and_unicode_addresses_as_typed() {
        for ok in [
            "a@b.co",
            "King.Arthur@camelot.bt",
            "first+tag@sub.example.org",
            "квіточка@пошта.укр",
            "o'brien@example.ie",
            "user@bücher.de",
            "user@xn--bcher-kva.de",
            "山田@例え.jp",
            "やまだ太郎@example.jp",
            "Élodie.Dupré@exemple.fr",
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
            "user@example.com.",
            ".user@example.com",
            "us..er@example.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(validate_email(&long_local).is_err());
    }

    #[test]
    fn refuses_what_a_mailer_may_parse_differently() {
        for bad in [
            r#""e@attacker.com"@victim.example"#,
            r#""quoted"@example.com"#,
            "user(comment)@example.com",
            "user@example.com(comment)",
            "(comment)user@example.com",
            r"us\@er@example.com",
            "user%attacker.com@victim.example",
            "attacker.com!user@victim.example",
            "a@b@example.com",
            "a\u{FF20}b@example.com",
            "\u{FF02}e@attacker.com\u{FF02}@victim.example",
            "user@exam_ple.com",
            "user@-example.com",
            "user@xn--zz.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_invisible_and_mixed_script_addresses() {
        for bad in [
            "vic\u{200B}tim@example.com",  // zero-width space
            "vic\u{200D}tim@example.com",  // zero-width joiner
            "vic\u{AD}tim@example.com",    // soft hyphen
            "victim\u{202E}@example.com",  // right-to-left override
            "victim@exam\u{200C}ple.com",  // zero-width non-joiner
            "vic\u{E000}tim@example.com",  // private use
            "vic\u{FE0F}tim@example.com",  // variation selector
            "vi\u{441}tim@example.com",    // Cyrillic es among Latin letters
            "victim@\u{430}pple.com",      // Cyrillic a in a Latin domain
            "victim@xn--pple-43d.com",     // the same, as an A-label
            "victim\u{3000}x@example.com", // ideographic space
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_fold_unicode_case_compatibility_forms_and_idna() {
        let same = [
            ("user@bücher.de", "user@xn--bcher-kva.de"),
            ("user@bücher.de", "USER@BÜCHER.DE"),
            ("\u{212A}elvin@example.com", "kelvin@example.com"),
            ("ｋｅｌｖｉｎ@example.com", "kelvin@example.com"),
            ("Straße@example.de", "strasse@example.de"),
            ("КВІТОЧКА@ПОШТА.УКР", "квіточка@пошта.укр"),
            ("e\u{301}lodie@exemple.fr", "\u{c9}lodie@exemple.fr"),
            ("user@example\u{3002}com", "user@example.com"),
            ("ﬁ@example.com", "FI@example.com"),
        ];
        for (a, b) in same {
            assert_eq!(email_key(a), email_key(b), "{a} vs {b}");
        }
        assert_eq!(email_key("user@bücher.de"), "user@xn--bcher-kva.de");
        assert_eq!(email_key("\u{212A}@example.com"), "k@example.com");
        assert_ne!(email_key("a@example.com"), email_key("b@example.com"));
        // Invalid domains still give a key (lookups), folded like the local part.
        assert_eq!(email_key("A@Exam_ple.COM"), "a@exam_ple.com");
        assert_eq!(email_key("no-at-sign"), "no-at-sign");
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_trimmed_input(input in "\\PC{0,80}") {
            if let Ok(email) = validate_email(&input) {
                prop_assert_eq!(email.as_str(), input.trim());
                prop_assert!(email.contains('@'));
                prop_assert!(email.len() <= MAX_EMAIL_BYTES);
                let key = email_key(&email);
                prop_assert!(key.len() <= MAX_EMAIL_KEY_BYTES);
                prop_assert_eq!(email_key(&key), key.clone(), "the key is stable");
            }
        }

        #[test]
        fn keys_are_idempotent(input in "\\PC{0,40}") {
            let key = email_key(&input);
            prop_assert_eq!(email_key(&key), key);
        }

        #[test]
        fn simple_addresses_validate_and_keep_their_case(
            local in "[A-Za-z0-9][A-Za-z0-9._+-]{0,20}[A-Za-z0-9]",
            domain in "[A-Za-z][A-Za-z0-9-]{0,10}[A-Za-z0-9]",
            tld in "[A-Za-z]{2,6}",
            pad in "[ \t]{0,3}",
        ) {
            prop_assume!(!local.contains(".."));
            prop_assume!(domain.get(2..4) != Some("--"));
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
