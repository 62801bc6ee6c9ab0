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
