//! Running a store's multi-statement write to its end even when its caller goes away.

use std::future::Future;

use tracing::Instrument as _;

use crate::error::DbError;

/// Runs `write` on a task of its own and waits for its result: when the caller's future is
/// dropped (a client gone, a timeout around the call), the write still runs to its end,
/// committed or rolled back, instead of stopping between two statements.
///
/// The stores of authward run their transactions through it. A transaction dropped midway
/// is rolled back by the drivers, but not at every point: sqlx's MySQL driver, dropped while
/// its `BEGIN` is under way, hands the connection back to the pool inside a transaction it no
/// longer tracks, where later statements of other calls are neither committed nor visible.
///
/// Wait for the pool's connection *before* (where dropping the call simply stops the wait)
/// and move it into `write`: a write waiting for a connection on its own task would still run
/// once its caller had been answered. The sqlx stores do; SeaORM acquires the connection in
/// `begin`, so there the wait is bounded by the pool's acquire timeout (2 s with
/// `authward_sea_orm::connect`).
///
/// A panic of `write` resumes in the caller; a task cancelled by a runtime shutting down is
/// [`DbError::Backend`] (the write stops there). The task keeps the caller's tracing span,
/// not its task-local values (`tokio::task_local!`). Outside a Tokio runtime
/// (another executor) `write` runs inline, as an ordinary call: dropping it then stops it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let answer = authward_core::db::detached(async { Ok(42) }).await;
/// assert_eq!(answer.ok(), Some(42));
/// # });
/// ```
pub async fn detached<T, F>(write: F) -> Result<T, DbError>
where
    F: Future<Output = Result<T, DbError>> + Send + 'static,
    T: Send + 'static,
{
    run_to_end(write, |cancelled| cancelled).await
}

/// [`detached`] for any work with its own error type: runs `work` on a task of its own and
/// waits for its result, so that dropping the caller does not stop it between two steps. A
/// task cancelled by a runtime shutting down becomes `cancelled(DbError::Backend)`; a panic
/// resumes in the caller; outside a Tokio runtime `work` runs inline.
///
/// The manager ends sessions through it, and the axum crate's logout, so that a request
/// dropped midway (a client gone) never leaves some of a user's sessions ended and others not.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// #[derive(Debug)]
/// enum MyError {
///     Store(authward_core::DbError),
/// }
/// let answer = authward_core::db::run_to_end(async { Ok::<_, MyError>("done") }, MyError::Store)
///     .await;
/// assert_eq!(answer.ok(), Some("done"));
/// # });
/// ```
pub async fn run_to_end<T, E, F>(work: F, cancelled: fn(DbError) -> E) -> Result<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return work.await;
    };
    match runtime.spawn(work.in_current_span()).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(cancelled(DbError::backend(err))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// The write goes on after its caller is dropped.
    #[tokio::test]
    async fn a_dropped_caller_does_not_stop_the_write() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let call = detached(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            flag.store(true, Ordering::SeqCst);
            Ok(())
        });
        let outcome = tokio::time::timeout(Duration::from_millis(1), call).await;
        assert!(outcome.is_err(), "the caller gave up first");
        for _ in 0..200 {
            if done.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the write stopped with its caller");
    }

    /// Without a Tokio runtime the write runs inline.
    #[test]
    fn another_executor_runs_the_write_inline() {
        use std::task::{Context, Poll, Waker};
        let mut call = std::pin::pin!(detached(async { Ok(7) }));
        let mut cx = Context::from_waker(Waker::noop());
        match call.as_mut().poll(&mut cx) {
            Poll::Ready(answer) => assert_eq!(answer.ok(), Some(7)),
            Poll::Pending => panic!("an inline write that is ready at once is ready"),
        }
    }
}
