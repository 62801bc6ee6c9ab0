//! Error mapping: unreadable records are `Backend`, a stopped server is `Unavailable`, and the
//! store recovers by itself when the server returns.

mod common;

use std::error::Error as _;
use std::time::Duration;

use authward_core::{AccessTokenDatabase, DbError, NewAccessToken, TokenDigest};
use authward_redis::{CorruptRecord, RedisAccessTokenDatabase, RedisTokenOptions, redis};

use common::{PrivateServer, fresh_options, now, random_token, standalone};

#[tokio::test]
async fn a_foreign_value_is_a_backend_error_with_its_cause() {
    let Some(tokens) = standalone::<i64>(fresh_options()).await else {
        return;
    };
    let url = authward_testkit::service_url(common::REDIS_URL).expect("set");
    let mut raw = common::raw(&url).await;
    let corrupt = TokenDigest::of(&random_token());
    let () = redis::cmd("SET")
        .arg(tokens.token_key(&corrupt))
        .arg("not a record")
        .query_async(&mut raw)
        .await
        .expect("SET");
    match tokens.get_by_token(&corrupt, None).await {
        Err(DbError::Backend(source)) => {
            assert_eq!(
                source.downcast_ref::<CorruptRecord>(),
                Some(&CorruptRecord { digest: corrupt })
            );
        }
        other => panic!("expected Backend(CorruptRecord), got {other:?}"),
    }
    // `any_for_user` reads it as `get_by_token` does: unreadable before a match is an error,
    // after a match it is never read.
    let owned = tokens
        .create(NewAccessToken::new(&random_token(), 5, now()))
        .await
        .expect("create");
    match tokens.any_for_user(&5, &[corrupt, owned.digest]).await {
        Err(DbError::Backend(source)) => {
            assert_eq!(
                source.downcast_ref::<CorruptRecord>(),
                Some(&CorruptRecord { digest: corrupt })
            );
        }
        other => panic!("expected Backend(CorruptRecord), got {other:?}"),
    }
    assert!(
        tokens
            .any_for_user(&5, &[owned.digest, corrupt])
            .await
            .expect("the match comes first")
    );
    // Even an unreadable record can be deleted (logout must always work).
    assert!(tokens.delete(&corrupt).await.expect("delete"));

    let wrong_type = TokenDigest::of(&random_token());
    let _: i64 = redis::cmd("LPUSH")
        .arg(tokens.token_key(&wrong_type))
        .arg("x")
        .query_async(&mut raw)
        .await
        .expect("LPUSH");
    let err = tokens
        .get_by_token(&wrong_type, None)
        .await
        .expect_err("WRONGTYPE");
    assert!(matches!(err, DbError::Backend(_)), "{err:?}");
    assert!(err.source().is_some_and(|s| s.is::<redis::RedisError>()));
    // `any_for_user` reads with `MGET`, which answers nil for a key of another type: the one
    // place it differs from `get_by_token` (this store never writes such a key).
    assert!(
        !tokens
            .any_for_user(&5, &[wrong_type])
            .await
            .expect("MGET reads a foreign type as absent")
    );
    let _: i64 = redis::cmd("DEL")
        .arg(tokens.token_key(&wrong_type))
        .query_async(&mut raw)
        .await
        .expect("DEL");
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    if authward_testkit::service_url(common::REDIS_URL).is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let err = RedisAccessTokenDatabase::<i64>::connect(
        &format!("redis://127.0.0.1:{port}/"),
        RedisTokenOptions::new(),
    )
    .await
    .expect_err("nothing listens there");
    assert!(err.is_unavailable(), "{err:?}");
    let bad = RedisAccessTokenDatabase::<i64>::connect(
        "redis://127.0.0.1:6379/",
        RedisTokenOptions::new().buckets(0),
    )
    .await
    .expect_err("invalid options");
    assert!(matches!(bad, DbError::Backend(_)), "{bad:?}");
}

#[tokio::test]
async fn outage_is_unavailable_and_the_store_recovers() {
    // A private server: the shared one on 6379 is never stopped.
    if authward_testkit::service_url(common::REDIS_URL).is_none() {
        return;
    }
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    let tokens = RedisAccessTokenDatabase::<i64>::connect(&server.url(), RedisTokenOptions::new())
        .await
        .expect("connect");
    let before = tokens
        .create(NewAccessToken::new(&random_token(), 1, now()))
        .await
        .expect("create");
    assert!(
        tokens
            .get_by_token(&before.digest, None)
            .await
            .expect("get")
            .is_some()
    );

    server.stop();
    let err = tokens
        .get_by_token(&before.digest, None)
        .await
        .expect_err("the server is down");
    assert!(err.is_unavailable(), "{err:?}");
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<redis::RedisError>());
    assert!(source.is_some(), "the redis error is kept: {err:?}");
    let err = tokens
        .any_for_user(&1, &[before.digest, TokenDigest::of(&random_token())])
        .await
        .expect_err("the server is down");
    assert!(err.is_unavailable(), "{err:?}");
    let err = tokens
        .create(NewAccessToken::new(&random_token(), 1, now()))
        .await
        .expect_err("the server is down");
    assert!(err.is_unavailable(), "{err:?}");

    server.restart();
    // The connection manager reconnects by itself; the same store works again (the restarted
    // server is empty: it keeps no data).
    let mut recovered = None;
    for _ in 0..50 {
        match tokens
            .create(NewAccessToken::new(&random_token(), 1, now()))
            .await
        {
            Ok(token) => {
                recovered = Some(token);
                break;
            }
            Err(err) => {
                assert!(
                    err.is_unavailable(),
                    "only Unavailable while reconnecting: {err:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let token = recovered.expect("the store recovers once the server is back");
    assert_eq!(
        tokens.get_by_token(&token.digest, None).await.expect("get"),
        Some(token)
    );
    assert_eq!(
        tokens
            .get_by_token(&before.digest, None)
            .await
            .expect("get"),
        None
    );
}
