//! Group commit for PostgreSQL: a background task takes whatever callers have queued and writes
//! it as one multi-row statement, answering each caller only after its batch is committed. One
//! round trip and one WAL flush then serve many requests (the SQLite writer's idea, DESIGN.md
//! "Measured on this machine"), while the caller of a fire-and-forget write (audit events) only
//! pays a channel send.
use std::future::Future;
use std::sync::Arc;

use deadpool_postgres::Pool;
use tessera_core::error::StoreError;
use tessera_core::store::StoreResult;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most items written by one statement.
const MAX_BATCH: usize = 1024;
/// Queued items before callers wait (back-pressure instead of unbounded memory).
const QUEUE: usize = 8192;

/// One queued item, or (without an item) a flush marker; `answer` receives the outcome.
struct Job<T> {
    item: Option<T>,
    answer: Option<oneshot::Sender<StoreResult<()>>>,
}

/// Handle to a batching task.
pub struct Batcher<T> {
    jobs: mpsc::Sender<Job<T>>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("store writer stopped".into())
}

/// Copies an error for every caller of a failed batch (`StoreError` is not `Clone`).
pub fn dup(e: &StoreError) -> StoreError {
    match e {
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
    }
}

impl<T: Send + 'static> Batcher<T> {
    /// Starts the task. `write` stores one batch and returns one result per item, in order.
    /// At most `in_flight` batches run at once: with 1, batches are written in queue order and
    /// [`Batcher::flush`] waits for everything queued before it.
    pub fn spawn<F, Fut>(pool: Pool, in_flight: usize, write: F) -> Self
    where
        F: Fn(Pool, Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<StoreResult<()>>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, rx, in_flight, write));
        Self { jobs: tx }
    }

    /// Writes `item` in the next batch; returns once that batch is committed.
    pub async fn write(&self, item: T) -> StoreResult<()> {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            item: Some(item),
            answer: Some(tx),
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Queues `item` without waiting for it to be written; `false` if the task has stopped.
    pub async fn queue(&self, item: T) -> bool {
        let job = Job {
            item: Some(item),
            answer: None,
        };
        self.jobs.send(job).await.is_ok()
    }

    /// Waits until the items queued before this call are written (all of them when
    /// `in_flight` is 1); reports the first failure of the flushing batch.
    pub async fn flush(&self) -> StoreResult<()> {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            item: None,
            answer: Some(tx),
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

async fn run<T, F, Fut>(pool: Pool, mut rx: mpsc::Receiver<Job<T>>, in_flight: usize, write: F)
where
    T: Send + 'static,
    F: Fn(Pool, Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<StoreResult<()>>> + Send + 'static,
{
    let write = Arc::new(write);
    let permits = Arc::new(Semaphore::new(in_flight.max(1)));
    loop {
        // The permit first: while every slot is busy, new items pile up in the channel and
        // leave together as the next, larger batch.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::new();
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (pool, write) = (pool.clone(), write.clone());
        tokio::spawn(async move {
            finish(batch, |items| write(pool, items)).await;
            drop(permit);
        });
    }
}

/// Writes one batch's items and answers its callers.
async fn finish<T, Fut>(batch: Vec<Job<T>>, write: impl FnOnce(Vec<T>) -> Fut)
where
    Fut: Future<Output = Vec<StoreResult<()>>>,
{
    let mut items = Vec::with_capacity(batch.len());
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        let index = job.item.map(|item| {
            items.push(item);
            items.len() - 1
        });
        answers.extend(job.answer.map(|a| (index, a)));
    }
    let mut results: Vec<Option<StoreResult<()>>> = if items.is_empty() {
        Vec::new()
    } else {
        write(items).await.into_iter().map(Some).collect()
    };
    let first_error = results
        .iter()
        .flatten()
        .find_map(|r| r.as_ref().err())
        .map(dup);
    for (index, answer) in answers {
        let result = match index {
            Some(i) => results
                .get_mut(i)
                .and_then(Option::take)
                .unwrap_or_else(|| Err(stopped())),
            None => first_error.as_ref().map_or(Ok(()), |e| Err(dup(e))),
        };
        let _ = answer.send(result);
    }
}
