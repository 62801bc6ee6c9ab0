//! Hearing other processes' writes: a subscription that feeds a cache handle, and suspends
//! the cache whenever it may be missing messages.

use std::sync::Arc;
use std::time::Duration;

use authward_core::cache::CacheHandle;
use authward_core::{DbError, UserId};
use futures::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};

use super::RedisInvalidation;
use super::message::{self, Invalidation};
use crate::error::map_redis_error;

/// How long connecting, subscribing or a ping may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection delays: from the first to the longest.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(2);

/// A running subscription (see the [module docs](super)). Dropping it stops the subscription
/// and leaves the cache suspended, since nothing keeps it current any more.
pub struct InvalidationListener {
    task: tokio::task::JoinHandle<()>,
    suspend: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for InvalidationListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvalidationListener")
            .field("running", &!self.task.is_finished())
            .finish_non_exhaustive()
    }
}

impl Drop for InvalidationListener {
    fn drop(&mut self) {
        self.task.abort();
        (self.suspend)();
    }
}

impl RedisInvalidation {
    /// Subscribes on the first reachable node of `nodes` (`redis://host:port` each; on a
    /// cluster, any of its nodes) and keeps `cache` current until the returned listener is
    /// dropped. Call it before the cache serves requests: it empties the cache once
    /// subscribed.
    ///
    /// # Errors
    /// [`DbError::Unavailable`] when no node can be reached now (nothing is started),
    /// [`DbError::Backend`] for a malformed URL or an empty list.
    pub async fn listen<I, S, ID>(
        &self,
        nodes: I,
        cache: CacheHandle<ID>,
    ) -> Result<InvalidationListener, DbError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
        ID: UserId,
    {
        let clients = nodes
            .into_iter()
            .map(|url| redis::Client::open(url.as_ref()).map_err(map_redis_error))
            .collect::<Result<Vec<_>, _>>()?;
        if clients.is_empty() {
            return Err(DbError::backend("no Redis node to subscribe on"));
        }
        let subscription = Subscription {
            clients: clients.into(),
            channel: self.channel.clone(),
            ping_every: self.ping_every,
        };
        let (connection, _) = subscription.connect(0).await?;
        cache.resume();
        let suspend = {
            let cache = cache.clone();
            Box::new(move || cache.suspend())
        };
        let task = tokio::spawn(subscription.run(connection, cache));
        Ok(InvalidationListener { task, suspend })
    }
}

/// Where and what to subscribe to.
struct Subscription {
    clients: Arc<[redis::Client]>,
    channel: String,
    ping_every: Duration,
}

impl Subscription {
    /// Subscribes on the first node that answers, starting at `from`; returns the
    /// connection and the index of that node. The error is the last node's.
    async fn connect(&self, from: usize) -> Result<((PubSubSink, PubSubStream), usize), DbError> {
        let mut last = None;
        for step in 0..self.clients.len() {
            let index = (from + step) % self.clients.len();
            match self.subscribe(&self.clients[index]).await {
                Ok(connection) => return Ok((connection, index)),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| DbError::backend("no Redis node to subscribe on")))
    }

    async fn subscribe(
        &self,
        client: &redis::Client,
    ) -> Result<(PubSubSink, PubSubStream), DbError> {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub.split())
        };
        match tokio::time::timeout(TIMEOUT, attempt).await {
            Ok(result) => result.map_err(map_redis_error),
            Err(elapsed) => Err(DbError::unavailable(elapsed)),
        }
    }

    /// Applies messages while the subscription lives; suspends the cache and reconnects
    /// whenever it dies.
    async fn run<ID: UserId>(self, first: (PubSubSink, PubSubStream), cache: CacheHandle<ID>) {
        let mut connection = Some(first);
        let mut node = 0;
        let mut delay = FIRST_RETRY;
        loop {
            let Some((sink, stream)) = connection.take() else {
                match self.connect(node).await {
                    Ok((subscribed, index)) => {
                        node = index;
                        delay = FIRST_RETRY;
                        connection = Some(subscribed);
                        // Whatever was missed while suspended is irrelevant: the cache is
                        // empty again and caches from now on.
                        cache.resume();
                        tracing::info!(
                            "user-cache invalidation: subscribed again, caching resumed"
                        );
                    }
                    Err(err) => {
                        tracing::debug!(error = %err, "user-cache invalidation: reconnecting failed");
                        node = (node + 1) % self.clients.len();
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(LAST_RETRY);
                    }
                }
                continue;
            };
            let why = self.serve(sink, stream, &cache).await;
            cache.suspend();
            tracing::warn!(
                reason = why,
                "user-cache invalidation: subscription lost, caching suspended until it is back"
            );
        }
    }

    /// Feeds messages to the cache and pings; returns why the subscription ended.
    async fn serve<ID: UserId>(
        &self,
        mut sink: PubSubSink,
        mut stream: PubSubStream,
        cache: &CacheHandle<ID>,
    ) -> &'static str {
        let mut ticks = tokio::time::interval(self.ping_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = stream.next() => {
                    let Some(received) = received else {
                        return "connection closed";
                    };
                    match message::parse::<ID>(received.get_payload_bytes()) {
                        Some(Invalidation::User(id)) => cache.invalidate(&id),
                        Some(Invalidation::All) => cache.invalidate_all(),
                        None => tracing::warn!("user-cache invalidation: ignored a message this version does not understand"),
                    }
                }
                _ = ticks.tick() => {
                    let ping = tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(ping, Ok(Ok(_))) {
                        return "ping unanswered";
                    }
                }
            }
        }
    }
}
