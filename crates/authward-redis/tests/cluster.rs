//! Redis Cluster specifics: keys that change together share a slot, and buckets spread the
//! tokens over several slots (and so over the masters).

mod common;

use std::collections::HashSet;

use authward_core::{AccessTokenDatabase, NewAccessToken};
use authward_redis::redis;

use common::{cluster, fresh_options, now, random_token};

async fn slot(conn: &mut redis::cluster_async::ClusterConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .expect("CLUSTER KEYSLOT")
}

#[tokio::test]
async fn buckets_spread_tokens_and_keep_each_bucket_in_one_slot() {
    let Some(tokens) = cluster::<i64>(fresh_options().buckets(16)).await else {
        return;
    };
    let prefix = tokens.options().get_key_prefix().to_owned();
    let mut conn = tokens.connection().clone();
    let mut slots = HashSet::new();
    for _ in 0..40 {
        let token = tokens
            .create(NewAccessToken::new(&random_token(), 11, now()))
            .await
            .expect("create");
        let key = tokens.token_key(&token.digest);
        let tag = &key[prefix.len()..=key.find('}').expect("hash tag")];
        let token_slot = slot(&mut conn, &key).await;
        assert_eq!(
            slot(&mut conn, &format!("{prefix}{tag}:user:11")).await,
            token_slot
        );
        assert_eq!(
            slot(&mut conn, &format!("{prefix}{tag}:all")).await,
            token_slot
        );
        slots.insert(token_slot);
    }
    assert!(slots.len() > 4, "tokens spread over slots: {slots:?}");
    assert_eq!(tokens.list_for_user(&11).await.expect("list").len(), 40);
    assert_eq!(
        tokens.delete_all_for_user(&11).await.expect("delete_all"),
        40
    );
}

/// `any_for_user` is one `MGET`; with sixteen buckets its keys span slots, which a node refuses
/// (`CROSSSLOT`) and the cluster connection splits by slot. The answers stay the default's.
#[tokio::test]
async fn any_for_user_reads_keys_of_several_slots() {
    let Some(tokens) = cluster::<i64>(fresh_options().buckets(16)).await else {
        return;
    };
    let mut conn = tokens.connection().clone();
    let (owner, other) = (31, 32);
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..8 {
        for (user, digests) in [(owner, &mut mine), (other, &mut theirs)] {
            let token = tokens
                .create(NewAccessToken::new(&random_token(), user, now()))
                .await
                .expect("create");
            digests.push(token.digest);
        }
    }
    let mut slots = HashSet::new();
    for digest in mine.iter().chain(&theirs) {
        slots.insert(slot(&mut conn, &tokens.token_key(digest)).await);
    }
    assert!(slots.len() > 2, "the keys span slots: {slots:?}");

    // What a single node says to one MGET over those keys: the cluster connection must split it.
    let first = tokens.token_key(&theirs[0]);
    let first_slot = slot(&mut conn, &first).await;
    let mut foreign = None;
    for digest in &theirs[1..] {
        if slot(&mut conn, &tokens.token_key(digest)).await != first_slot {
            foreign = Some(tokens.token_key(digest));
            break;
        }
    }
    let foreign = foreign.expect("the other user's keys span slots");
    let urls = authward_testkit::service_url(common::CLUSTER_URLS).expect("set");
    let node = urls.split(',').next().expect("a node");
    let mut plain = common::raw(node).await;
    let refused = redis::cmd("MGET")
        .arg(&first)
        .arg(&foreign)
        .query_async::<Vec<Option<Vec<u8>>>>(&mut plain)
        .await
        .expect_err("a node refuses an MGET across slots");
    assert_eq!(
        refused.kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::CrossSlot),
        "{refused:?}"
    );

    let unknown = authward_core::TokenDigest::of(&random_token());
    let mut asked: Vec<_> = theirs.clone();
    asked.push(unknown);
    assert!(
        !tokens.any_for_user(&owner, &asked).await.expect("any"),
        "only another user's and unknown digests"
    );
    for digest in &mine {
        let mut asked = asked.clone();
        asked.push(*digest);
        assert!(
            tokens.any_for_user(&owner, &asked).await.expect("any"),
            "its own digest after others of other slots"
        );
        asked.rotate_right(1);
        assert!(
            tokens.any_for_user(&owner, &asked).await.expect("any"),
            "its own digest first"
        );
    }
    assert!(tokens.any_for_user(&other, &theirs).await.expect("any"));
    assert!(!tokens.any_for_user(&other, &mine).await.expect("any"));
    assert_eq!(tokens.delete_all_for_user(&owner).await.expect("delete"), 8);
    assert_eq!(tokens.delete_all_for_user(&other).await.expect("delete"), 8);
}
