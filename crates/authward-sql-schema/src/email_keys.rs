//! The email key rule upgrade: which rows' `email_key` must change, refusing any collision
//! under the current rule before anything is written.

use crate::EmailKeyCollision;

/// The suffix of the unique index over keys of the current rule (see the module docs).
pub(crate) const KEY_INDEX: &str = "email_key2_idx";
/// The suffix of the unique index over keys of the first rule (Unicode lower-casing).
pub(crate) const OLD_KEY_INDEX: &str = "email_key_idx";

/// A user row as the key migration reads it.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow<L> {
    /// Where the row is (a `ctid`, a `rowid`, or the stored key).
    pub(crate) locator: L,
    /// The ID, as text (for reports).
    pub(crate) id: String,
    /// The email as stored.
    pub(crate) email: String,
    /// The key as stored (`None` when the column is missing or empty).
    pub(crate) key: Option<Vec<u8>>,
}

/// The rows whose key must change, with their new key; or every collision under the new rule.
pub(crate) fn plan_email_keys<L>(
    rows: Vec<KeyRow<L>>,
) -> Result<Vec<(KeyRow<L>, String)>, Vec<EmailKeyCollision>> {
    let mut by_key: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    let mut changes = Vec::new();
    for row in rows {
        let key = authward_core::user::email_key(&row.email);
        by_key
            .entry(key.clone())
            .or_default()
            .push((row.id.clone(), row.email.clone()));
        if row.key.as_deref() != Some(key.as_bytes()) {
            changes.push((row, key));
        }
    }
    let collisions: Vec<EmailKeyCollision> = by_key
        .into_iter()
        .filter(|(_, users)| users.len() > 1)
        .map(|(key, mut users)| {
            users.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            EmailKeyCollision { key, users }
        })
        .collect();
    if collisions.is_empty() {
        Ok(changes)
    } else {
        Err(collisions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SchemaError;

    fn row(id: &str, email: &str, key: Option<&str>) -> KeyRow<()> {
        KeyRow {
            locator: (),
            id: id.into(),
            email: email.into(),
            key: key.map(|k| k.as_bytes().to_vec()),
        }
    }

    #[test]
    fn collisions_name_every_row_under_the_new_rule() {
        let rows = vec![
            row("1", "A@x.io", Some("a@x.io")),
            row("2", "user@bücher.de", Some("user@bücher.de")),
            row("3", "USER@xn--bcher-kva.de", Some("user@xn--bcher-kva.de")),
            row("4", "\u{212A}@x.io", Some("k@x.io")),
            row("5", "k@x.io", None),
            row("6", "b@x.io", Some("b@x.io")),
        ];
        match plan_email_keys(rows) {
            Err(collisions) => {
                assert_eq!(
                    collisions,
                    [
                        EmailKeyCollision {
                            key: "k@x.io".into(),
                            users: vec![
                                ("5".into(), "k@x.io".into()),
                                ("4".into(), "\u{212A}@x.io".into())
                            ],
                        },
                        EmailKeyCollision {
                            key: "user@xn--bcher-kva.de".into(),
                            users: vec![
                                ("3".into(), "USER@xn--bcher-kva.de".into()),
                                ("2".into(), "user@bücher.de".into()),
                            ],
                        },
                    ]
                );
                let shown =
                    SchemaError::<std::io::Error>::EmailKeyCollisions { collisions }.to_string();
                assert!(shown.contains("2 <user@bücher.de>"), "{shown}");
            }
            other => panic!("expected collisions, got {other:?}"),
        }
    }

    #[test]
    fn only_changed_keys_are_rewritten() {
        let rows = vec![
            row("1", "A@x.io", Some("a@x.io")),
            row("2", "user@Bücher.de", Some("user@bücher.de")),
            row("3", "c@x.io", None),
        ];
        let changes = plan_email_keys(rows).expect("no collision");
        let changed: Vec<(&str, &str)> = changes
            .iter()
            .map(|(r, k)| (r.id.as_str(), k.as_str()))
            .collect();
        assert_eq!(changed, [("2", "user@xn--bcher-kva.de"), ("3", "c@x.io")]);
    }
}
