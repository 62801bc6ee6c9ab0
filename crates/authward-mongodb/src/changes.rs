//! What a write changes in a user document: the fields to set and to unset, and the values
//! they held.

use bson::{Bson, Document};

/// The difference between a user's fields before and after a change.
pub(crate) struct FieldChanges {
    /// Fields whose value is new or different, with the new value.
    pub(crate) set: Document,
    /// Fields the change removes (each with an empty string, as `$unset` takes).
    pub(crate) unset: Document,
    /// The values every changed field held before (`null` for a field that was absent), to
    /// make a write conditional on them.
    pub(crate) old: Document,
}

impl FieldChanges {
    /// The fields that differ between `before` and `after`.
    pub(crate) fn between(before: &Document, after: &Document) -> Self {
        let mut changes = Self {
            set: Document::new(),
            unset: Document::new(),
            old: Document::new(),
        };
        for (key, value) in after {
            let old = before.get(key);
            if old != Some(value) {
                changes.set.insert(key.clone(), value.clone());
                changes
                    .old
                    .insert(key.clone(), old.cloned().unwrap_or(Bson::Null));
            }
        }
        for (key, old) in before
            .iter()
            .filter(|(k, _)| !after.contains_key(k.as_str()))
        {
            changes
                .unset
                .insert(key.clone(), Bson::String(String::new()));
            changes.old.insert(key.clone(), old.clone());
        }
        changes
    }

    /// Whether nothing changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.unset.is_empty()
    }

    /// The update document: `$set` and `$unset`, each only when it has fields.
    pub(crate) fn into_update(self) -> Document {
        let mut update = Document::new();
        if !self.set.is_empty() {
            update.insert("$set", self.set);
        }
        if !self.unset.is_empty() {
            update.insert("$unset", self.unset);
        }
        update
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn changes_name_what_differs_and_what_it_held() {
        let before = doc! { "email": "a@b.c", "hashed_password": "old", "nickname": "Kay" };
        let after = doc! { "email": "a@b.c", "hashed_password": "new", "title": "Sir" };
        let changes = FieldChanges::between(&before, &after);
        assert_eq!(
            changes.set,
            doc! { "hashed_password": "new", "title": "Sir" }
        );
        assert_eq!(changes.unset, doc! { "nickname": "" });
        assert_eq!(
            changes.old,
            doc! { "hashed_password": "old", "title": Bson::Null, "nickname": "Kay" }
        );
        assert_eq!(
            changes.into_update(),
            doc! { "$set": { "hashed_password": "new", "title": "Sir" }, "$unset": { "nickname": "" } }
        );
        let same = FieldChanges::between(&before, &before);
        assert!(same.is_empty());
        assert_eq!(same.into_update(), Document::new());
    }
}
