//! MySQL and MariaDB: `` `quoted` `` identifiers, `?` placeholders, `LAST_INSERT_ID()` instead
//! of `RETURNING`, `DATETIME(6)` timestamps in UTC, binary comparison for everything matched
//! exactly (`email_key` is `VARBINARY`, OAuth names and IDs use `utf8mb4_bin`).

use sqlx::MySql;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use authward_core::DbError;

use super::{Dialect, sealed::Sealed};

/// Text stored with a binary collation (`utf8mb4_bin`), which the MySQL protocol flags as
/// binary and sqlx then refuses to decode as `String`; this reads the bytes as UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryCollatedText(pub String);

impl From<String> for BinaryCollatedText {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<BinaryCollatedText> for String {
    fn from(text: BinaryCollatedText) -> String {
        text.0
    }
}

impl sqlx::Type<MySql> for BinaryCollatedText {
    fn type_info() -> sqlx::mysql::MySqlTypeInfo {
        <str as sqlx::Type<MySql>>::type_info()
    }

    fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
        <&[u8] as sqlx::Type<MySql>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, MySql> for BinaryCollatedText {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<u8>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'q, MySql>>::encode(self.0.as_str(), buf)
    }
}

impl<'r> sqlx::Decode<'r, MySql> for BinaryCollatedText {
    fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let bytes = <&[u8] as sqlx::Decode<'r, MySql>>::decode(value)?;
        Ok(Self(std::str::from_utf8(bytes)?.to_owned()))
    }
}

impl Sealed for MySql {}

impl Dialect for MySql {
    /// `DATETIME` on the wire, in UTC: sqlx sends an `OffsetDateTime` as a `TIMESTAMP`, which
    /// MySQL and MariaDB only take up to 2038 (later ones arrive as `NULL`); a `DATETIME` goes
    /// to the year 9999, which the column holds.
    type Time = PrimitiveDateTime;
    type ExactText = BinaryCollatedText;
    const INSERT_RETURNING: bool = false;
    const UPDATE_RETURNING: bool = false;

    fn quote(ident: &str) -> String {
        format!("`{ident}`")
    }

    fn placeholder(_n: usize) -> String {
        "?".to_owned()
    }

    fn time_to_wire(at: OffsetDateTime) -> Result<PrimitiveDateTime, DbError> {
        let utc = at.to_offset(UtcOffset::UTC);
        Ok(PrimitiveDateTime::new(utc.date(), utc.time()))
    }

    fn time_from_wire(stored: PrimitiveDateTime) -> Result<OffsetDateTime, DbError> {
        Ok(stored.assume_utc())
    }

    fn equals_exactly(column: &str, value: &str) -> String {
        // Text columns compare under their collation, case-insensitive by default.
        format!("CAST({column} AS BINARY) = CAST({value} AS BINARY)")
    }
}
