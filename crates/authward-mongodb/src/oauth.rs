//! OAuth accounts, embedded in the user document as Beanie embeds them.

use async_trait::async_trait;
use authward_core::{
    DbError, NewOAuthAccount, NewUser, OAuthAccount, OAuthAccountPatch, OAuthUserDatabase,
    UniqueKey, UserRecord,
};
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{corrupt, duplicate_key_fields, is_duplicate_key, map_error};
use crate::id::MongoId;
use crate::names::OAUTH_ACCOUNT_INDEX;
use crate::users::{MongoUserDatabase, OAUTH_ACCOUNTS, without_accounts};

/// The filter matching one element of `oauth_accounts`. The dotted equalities let the
/// planner use the partial unique index; `$elemMatch` makes both match the same element.
fn account_filter(oauth_name: &str, account_id: &str) -> Document {
    doc! {
        "oauth_accounts.oauth_name": oauth_name,
        "oauth_accounts.account_id": account_id,
        OAUTH_ACCOUNTS: { "$elemMatch": { "oauth_name": oauth_name, "account_id": account_id } },
    }
}

/// `expires_at` as Beanie writes it: int32 while it fits.
fn expires_at_bson(expires_at: Option<i64>) -> Bson {
    match expires_at {
        None => Bson::Null,
        Some(at) => i32::try_from(at).map_or(Bson::Int64(at), Bson::Int32),
    }
}

fn optional_string(value: Option<String>) -> Bson {
    value.map_or(Bson::Null, Bson::String)
}

/// An element of `oauth_accounts`, as Beanie writes it.
fn account_entry(account: &NewOAuthAccount) -> Document {
    doc! {
        "id": ObjectId::new(),
        "oauth_name": &account.oauth_name,
        "access_token": &account.access_token,
        "account_id": &account.account_id,
        "account_email": &account.account_email,
        "expires_at": expires_at_bson(account.expires_at),
        "refresh_token": optional_string(account.refresh_token.clone()),
    }
}

impl<U> MongoUserDatabase<U>
where
    U: UserRecord + Serialize + DeserializeOwned,
    U::Id: MongoId,
{
    fn parse_account(&self, user_id: &U::Id, entry: &Bson) -> Result<OAuthAccount<U::Id>, DbError> {
        let bad = |what: &str| corrupt(self.name(), format!("an OAuth account {what}"));
        let Bson::Document(entry) = entry else {
            return Err(bad("that is not a document"));
        };
        let string = |key: &str| {
            entry
                .get_str(key)
                .map(str::to_owned)
                .map_err(|_| bad(&format!("without a string {key}")))
        };
        let expires_at = match entry.get("expires_at") {
            None | Some(Bson::Null) => None,
            Some(Bson::Int32(at)) => Some(i64::from(*at)),
            Some(Bson::Int64(at)) => Some(*at),
            Some(_) => return Err(bad("whose expires_at is not an integer")),
        };
        let refresh_token = match entry.get("refresh_token") {
            None | Some(Bson::Null) => None,
            Some(Bson::String(token)) => Some(token.clone()),
            Some(_) => return Err(bad("whose refresh_token is not a string")),
        };
        Ok(OAuthAccount {
            user_id: user_id.clone(),
            oauth_name: string("oauth_name")?,
            access_token: string("access_token")?,
            expires_at,
            refresh_token,
            account_id: string("account_id")?,
            account_email: string("account_email")?,
        })
    }

    fn accounts_of(
        &self,
        user_id: &U::Id,
        doc: &Document,
    ) -> Result<Vec<OAuthAccount<U::Id>>, DbError> {
        match doc.get(OAUTH_ACCOUNTS) {
            None | Some(Bson::Null) => Ok(Vec::new()),
            Some(Bson::Array(entries)) => entries
                .iter()
                .map(|entry| self.parse_account(user_id, entry))
                .collect(),
            Some(_) => Err(corrupt(self.name(), "oauth_accounts is not an array")),
        }
    }

    async fn user_exists(&self, user_id: &U::Id) -> Result<bool, DbError> {
        let found = self
            .users
            .find_one(doc! { "_id": user_id.to_bson() })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(map_error)?;
        Ok(found.is_some())
    }
}

#[async_trait]
impl<U> OAuthUserDatabase for MongoUserDatabase<U>
where
    U: UserRecord + Serialize + DeserializeOwned,
    U::Id: MongoId,
{
    async fn get_by_oauth_account(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<U>, DbError> {
        self.users
            .find_one(account_filter(oauth_name, account_id))
            .projection(without_accounts())
            .await
            .map_err(map_error)?
            .map(|doc| self.decode(doc))
            .transpose()
    }

    async fn add_oauth_account(
        &self,
        user_id: &U::Id,
        account: NewOAuthAccount,
    ) -> Result<OAuthAccount<U::Id>, DbError> {
        // The unique index keeps a provider account on one user; the filter keeps it from
        // being linked twice to the same user (a unique index does not look inside one
        // document), in the same atomic update.
        let filter = doc! {
            "_id": user_id.to_bson(),
            OAUTH_ACCOUNTS: { "$not": { "$elemMatch": {
                "oauth_name": &account.oauth_name,
                "account_id": &account.account_id,
            } } },
        };
        let pushed = self
            .users
            .update_one(
                filter,
                doc! { "$push": { OAUTH_ACCOUNTS: account_entry(&account) } },
            )
            .await;
        match pushed {
            Ok(result) if result.matched_count == 1 => Ok(account.into_account(user_id.clone())),
            Ok(_) if self.user_exists(user_id).await? => {
                Err(DbError::already_exists(UniqueKey::OAuthAccount))
            }
            Ok(_) => Err(DbError::NotFound { what: "user" }),
            Err(err) if is_duplicate_key(&err) => {
                let what = match duplicate_key_fields(&err) {
                    Some(fields) if !fields.iter().any(|f| f.starts_with("oauth_accounts.")) => {
                        UniqueKey::Other
                    }
                    _ => UniqueKey::OAuthAccount,
                };
                let constraint =
                    (what == UniqueKey::OAuthAccount).then(|| OAUTH_ACCOUNT_INDEX.to_owned());
                Err(DbError::duplicate(what, constraint, err))
            }
            Err(err) => Err(map_error(err)),
        }
    }

    async fn create_with_oauth_account(
        &self,
        user: NewUser<U::Extra>,
        account: NewOAuthAccount,
    ) -> Result<U, DbError> {
        // One document, one insert: the account is embedded, so both are stored or neither
        // (the unique index refuses an account linked elsewhere).
        let (user, mut doc) = self.new_document(user)?;
        doc.insert(
            OAUTH_ACCOUNTS,
            vec![Bson::Document(account_entry(&account))],
        );
        let err = match self.users.insert_one(doc).await {
            Ok(_) => return Ok(user),
            Err(err) => {
                self.classify(err, Some(user.email()), user.id(), true)
                    .await
            }
        };
        match err {
            // The server did not name the index, and neither the email nor the ID is taken:
            // the account is, if another user holds it.
            DbError::AlreadyExists {
                what: UniqueKey::Other,
                constraint: None,
                source,
            } if matches!(
                self.get_by_oauth_account(&account.oauth_name, &account.account_id)
                    .await,
                Ok(Some(_))
            ) =>
            {
                Err(DbError::AlreadyExists {
                    what: UniqueKey::OAuthAccount,
                    constraint: Some(OAUTH_ACCOUNT_INDEX.to_owned()),
                    source,
                })
            }
            other => Err(other),
        }
    }

    async fn update_oauth_account(
        &self,
        user_id: &U::Id,
        oauth_name: &str,
        account_id: &str,
        patch: OAuthAccountPatch,
    ) -> Result<OAuthAccount<U::Id>, DbError> {
        // The filtered positional operator names the element by its own conditions, whatever
        // else the query matches.
        let filter = doc! {
            "_id": user_id.to_bson(),
            OAUTH_ACCOUNTS: { "$elemMatch": { "oauth_name": oauth_name, "account_id": account_id } },
        };
        let set = doc! {
            "oauth_accounts.$[account].access_token": patch.access_token,
            "oauth_accounts.$[account].expires_at": expires_at_bson(patch.expires_at),
            "oauth_accounts.$[account].refresh_token": optional_string(patch.refresh_token),
            "oauth_accounts.$[account].account_email": patch.account_email,
        };
        let updated = self
            .users
            .find_one_and_update(filter, doc! { "$set": set })
            .array_filters(vec![
                doc! { "account.oauth_name": oauth_name, "account.account_id": account_id },
            ])
            .projection(doc! { OAUTH_ACCOUNTS: 1 })
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_error)?;
        let not_found = || DbError::NotFound {
            what: "oauth account",
        };
        let doc = updated.ok_or_else(not_found)?;
        self.accounts_of(user_id, &doc)?
            .into_iter()
            .find(|a| a.oauth_name == oauth_name && a.account_id == account_id)
            .ok_or_else(not_found)
    }

    async fn oauth_accounts(&self, user_id: &U::Id) -> Result<Vec<OAuthAccount<U::Id>>, DbError> {
        let found = self
            .users
            .find_one(doc! { "_id": user_id.to_bson() })
            .projection(doc! { OAUTH_ACCOUNTS: 1 })
            .await
            .map_err(map_error)?;
        match found {
            Some(doc) => self.accounts_of(user_id, &doc),
            None => Ok(Vec::new()),
        }
    }
}
