//! PostgreSQL timestamps read without panicking on values `time` cannot hold.
//!
//! PostgreSQL keeps `TIMESTAMPTZ` values up to the year 294276 and `'infinity'`; sqlx's decoder
//! for [`OffsetDateTime`] adds the stored microseconds to its epoch unchecked and panics on
//! anything past the year 9999. A token row holding such a value (written by another program)
//! must fail that read with an error, as the other databases' decoders do.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::{Decode, Encode, Type};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// PostgreSQL's epoch: binary timestamps count microseconds from it.
const PG_EPOCH: OffsetDateTime = datetime!(2000-01-01 0:00 UTC);

/// A `TIMESTAMPTZ` column's value, decoded with checked arithmetic: a value out of
/// [`OffsetDateTime`]'s range (`'infinity'`, or past the year 9999) is a decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgTimestamp(pub OffsetDateTime);

/// A stored timestamp [`OffsetDateTime`] cannot hold.
#[derive(Debug, thiserror::Error)]
#[error("timestamp out of range: {micros} µs from 2000-01-01 (or ±infinity)")]
pub struct TimestampOutOfRange {
    /// The stored microseconds since PostgreSQL's epoch.
    pub micros: i64,
}

impl PgTimestamp {
    /// The timestamp `micros` microseconds after PostgreSQL's epoch, if `time` can hold it.
    pub fn from_micros(micros: i64) -> Result<Self, TimestampOutOfRange> {
        // ±infinity, whatever range `time` is built with (`large-dates` reaches past them).
        if micros == i64::MAX || micros == i64::MIN {
            return Err(TimestampOutOfRange { micros });
        }
        PG_EPOCH
            .checked_add(Duration::microseconds(micros))
            .map(Self)
            .ok_or(TimestampOutOfRange { micros })
    }
}

impl Type<Postgres> for PgTimestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for PgTimestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }

    fn size_hint(&self) -> usize {
        <OffsetDateTime as Encode<'_, Postgres>>::size_hint(&self.0)
    }
}

impl<'r> Decode<'r, Postgres> for PgTimestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value.as_bytes()?.try_into()?;
                Ok(Self::from_micros(i64::from_be_bytes(bytes))?)
            }
            // The text form is parsed, and a parser fails rather than panics.
            PgValueFormat::Text => {
                <OffsetDateTime as Decode<'r, Postgres>>::decode(value).map(Self)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_s_range_decodes_and_what_lies_beyond_is_an_error() {
        assert_eq!(
            PgTimestamp::from_micros(0).ok(),
            Some(PgTimestamp(PG_EPOCH))
        );
        assert_eq!(
            PgTimestamp::from_micros(-1_000_000).ok(),
            Some(PgTimestamp(datetime!(1999-12-31 23:59:59 UTC)))
        );
        // 'infinity' and '-infinity' are i64::MAX and i64::MIN on the wire.
        assert!(PgTimestamp::from_micros(i64::MAX).is_err());
        assert!(PgTimestamp::from_micros(i64::MIN).is_err());
        // The year 10000.
        assert!(PgTimestamp::from_micros(252_455_616_000_000_000).is_err());
    }
}
