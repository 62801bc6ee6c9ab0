//! The value stored under a token key: `1|<created_at µs>|<u or ->|<family hex or ->|<user id>`.
//!
//! The user id comes last, in its text form, so it needs no escaping. Times are kept to the
//! microsecond (like PostgreSQL), which is also the score of the index entries.

use authward_core::{AccessToken, TokenDigest, TokenFamily, UserId};
use time::OffsetDateTime;

use crate::error::CorruptRecord;

const VERSION: &str = "1";

/// Microseconds since the Unix epoch, rounded down.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // Every `OffsetDateTime` (years ±9999) fits: ±2.5e17 µs.
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000)).unwrap_or(i64::MAX)
}

/// Microseconds since the Unix epoch, rounded up: `micros(t) < ceil_micros(c)` exactly when
/// the stored `t` is before `c`.
pub(crate) fn ceil_micros(at: OffsetDateTime) -> i64 {
    let nanos = at.unix_timestamp_nanos();
    let up = nanos.div_euclid(1000) + i128::from(nanos.rem_euclid(1000) != 0);
    i64::try_from(up).unwrap_or(i64::MAX)
}

fn from_micros(us: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok()
}

/// `at` as stored: to the microsecond, in UTC.
pub(crate) fn stored_time(at: OffsetDateTime) -> OffsetDateTime {
    from_micros(micros(at)).unwrap_or(at)
}

/// The stored form of a record.
pub(crate) fn encode<ID: UserId>(token: &AccessToken<ID>) -> String {
    let family = token
        .family
        .map(|f| f.0.simple().to_string())
        .unwrap_or_else(|| "-".to_owned());
    format!(
        "{VERSION}|{}|{}|{family}|{}",
        micros(token.created_at),
        if token.used { "u" } else { "-" },
        token.user_id
    )
}

/// Reads a record back.
pub(crate) fn decode<ID: UserId>(
    digest: TokenDigest,
    raw: &[u8],
) -> Result<AccessToken<ID>, CorruptRecord> {
    let corrupt = || CorruptRecord { digest };
    let text = std::str::from_utf8(raw).map_err(|_| corrupt())?;
    let mut fields = text.splitn(5, '|');
    let mut next = || fields.next().ok_or_else(corrupt);
    if next()? != VERSION {
        return Err(corrupt());
    }
    let created_at = next()?
        .parse::<i64>()
        .ok()
        .and_then(from_micros)
        .ok_or_else(corrupt)?;
    let used = match next()? {
        "u" => true,
        "-" => false,
        _ => return Err(corrupt()),
    };
    let family = match next()? {
        "-" => None,
        hex => Some(TokenFamily(
            uuid::Uuid::try_parse(hex).map_err(|_| corrupt())?,
        )),
    };
    let user_id = ID::parse_id(next()?).map_err(|_| corrupt())?;
    Ok(AccessToken {
        digest,
        user_id,
        created_at,
        family,
        used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_every_field() {
        let digest = TokenDigest::of("t");
        let token = AccessToken {
            digest,
            user_id: "odd|id:with{braces}".to_owned(),
            created_at: datetime!(2030-01-02 03:04:05.123456 UTC),
            family: Some(TokenFamily::new()),
            used: true,
        };
        let stored = encode(&token);
        assert!(stored.starts_with("1|1893553445123456|u|"));
        assert_eq!(decode::<String>(digest, stored.as_bytes()), Ok(token));
    }

    #[test]
    fn plain_token_round_trips() {
        let digest = TokenDigest::of("t");
        let token = AccessToken {
            digest,
            user_id: -42_i64,
            created_at: datetime!(1960-05-06 07:08:09 UTC),
            family: None,
            used: false,
        };
        let stored = encode(&token);
        assert_eq!(stored, format!("1|{}|-|-|-42", micros(token.created_at)));
        assert_eq!(decode::<i64>(digest, stored.as_bytes()), Ok(token));
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let digest = TokenDigest::of("t");
        for raw in [
            &b""[..],
            b"1",
            b"2|0|-|-|1",
            b"1|x|-|-|1",
            b"1|0|?|-|1",
            b"1|0|-|nothex|1",
            b"1|0|-|-|notanumber",
            b"1|999999999999999999|-|-|1",
            b"\xff\xfe",
        ] {
            assert_eq!(
                decode::<i64>(digest, raw),
                Err(CorruptRecord { digest }),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn time_is_kept_to_the_microsecond() {
        let at = datetime!(2030-01-01 0:00:00.000001999 UTC);
        assert_eq!(stored_time(at), datetime!(2030-01-01 0:00:00.000001 UTC));
        assert_eq!(ceil_micros(at), micros(at) + 1);
        let whole = datetime!(2030-01-01 0:00 UTC);
        assert_eq!(ceil_micros(whole), micros(whole));
        let before_epoch = datetime!(1969-12-31 23:59:59.9999995 UTC);
        assert_eq!(micros(before_epoch), -1);
        assert_eq!(ceil_micros(before_epoch), 0);
    }
}
