//! The authward-testkit token suite against the real Redis on 127.0.0.1:6379 and against the
//! three-master test cluster (`scripts/redis-cluster.sh`), for every ID type.

mod common;

use authward_core::memory::MemoryUserDatabase;
use authward_testkit::access_token_database_tests;
use uuid::Uuid;

use common::{cluster, fresh_options, multiplexed, standalone};

// One server, FastAPI Users' default: no TTL.
access_token_database_tests!(
    standalone_uuid,
    id = Uuid,
    db = {
        let Some(tokens) = standalone::<Uuid>(fresh_options()).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<Uuid>::new())
    }
);

// One server with a lifetime: the suite stores tokens up to ten years old, which the TTL
// (counted from the write) must not drop.
access_token_database_tests!(
    standalone_i64,
    id = i64,
    db = {
        let options = fresh_options().lifetime(Some(time::Duration::seconds(600)));
        let Some(tokens) = standalone::<i64>(options).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<i64>::new())
    }
);

access_token_database_tests!(
    standalone_string_buckets,
    id = String,
    db = {
        let options = fresh_options()
            .lifetime(Some(time::Duration::seconds(600)))
            .buckets(16);
        let Some(tokens) = standalone::<String>(options).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<String>::new())
    }
);

access_token_database_tests!(
    multiplexed_string,
    id = String,
    db = {
        let options = fresh_options().lifetime(Some(time::Duration::seconds(600)));
        let Some(tokens) = multiplexed::<String>(options).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<String>::new())
    }
);

// Redis Cluster: one bucket (one slot) and sixteen buckets (spread over the masters).
access_token_database_tests!(
    cluster_uuid,
    id = Uuid,
    db = {
        let Some(tokens) = cluster::<Uuid>(fresh_options()).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<Uuid>::new())
    }
);

access_token_database_tests!(
    cluster_i64_buckets,
    id = i64,
    db = {
        let options = fresh_options()
            .lifetime(Some(time::Duration::seconds(600)))
            .buckets(16);
        let Some(tokens) = cluster::<i64>(options).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<i64>::new())
    }
);

access_token_database_tests!(
    cluster_string_buckets,
    id = String,
    db = {
        let options = fresh_options()
            .lifetime(Some(time::Duration::seconds(600)))
            .buckets(16);
        let Some(tokens) = cluster::<String>(options).await else {
            return;
        };
        (tokens, MemoryUserDatabase::<String>::new())
    }
);
