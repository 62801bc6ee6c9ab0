//! Email validation and the uniqueness key: never panic; an accepted address is its trimmed
//! input, has one `@`, no quote, parenthesis, backslash, `%` or `!` in its local part; its key
//! is bounded and stable (the key of the key is the key).
#![no_main]

use authward_core::email::{MAX_EMAIL_BYTES, MAX_EMAIL_KEY_BYTES, email_key, validate_email};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let key = email_key(input);
    let _ = email_key(&key);
    if let Ok(email) = validate_email(input) {
        assert_eq!(email, input.trim());
        assert!(email.len() <= MAX_EMAIL_BYTES);
        assert_eq!(email.matches('@').count(), 1, "{email:?}");
        let (local, _) = email.split_once('@').expect("one @");
        assert!(
            !local.contains(['"', '(', ')', '\\', '%', '!', ' ']),
            "{email:?}"
        );
        let key = email_key(&email);
        assert!(key.len() <= MAX_EMAIL_KEY_BYTES, "{email:?}");
        assert_eq!(email_key(&key), key, "{email:?}");
        assert_eq!(validate_email(&email).as_deref(), Ok(email.as_str()));
    }
});
