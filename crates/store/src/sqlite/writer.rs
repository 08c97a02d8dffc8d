//! Group commit: one writer thread owns the write connection and commits whatever jobs are
//! queued as one transaction, each multi-statement job in its own savepoint (a failing job does
//! not sink its neighbours), and answers each caller only after the commit. One transaction per request caps
//! near 10k writes/s here; batching lifts it several times (DESIGN.md, "Measured on this machine").
//!
//! Detached jobs (audit events no response reports: introspections, failed authentications)
//! have nobody waiting for them, so a batch made of nothing else lingers up to [`LINGER`] (a few
//! milliseconds) for more before it commits: under load, one commit then carries hundreds of
//! events instead of a few, which was a quarter of the server's CPU on the introspection path.
//! A job somebody waits for (a token row with its event, a JWT's `token.issued`, a revocation's
//! event) ends the lingering at once.
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tessera_core::error::StoreError;
use tokio::sync::{mpsc, oneshot};

/// Called after the batch's commit with whether it committed.
type Finisher = Box<dyn FnOnce(bool) + Send>;
/// A job's work inside the batch transaction (`None`: the transaction could not start).
type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Option<Finisher>) + Send>;
/// A queued job.
struct Job {
    /// Whether it needs a savepoint. Multi-statement jobs run in one so a failure undoes all
    /// their statements; a single statement needs none (SQLite rolls a failed statement back by
    /// itself), which saves two statements per job on the hot paths (token rows, events).
    savepoint: bool,
    /// Whether a caller waits for its commit (`false` for detached jobs).
    awaited: bool,
    work: Work,
}

/// Most jobs committed in one transaction.
const MAX_BATCH: usize = 1024;

/// How long a batch of detached jobs only waits for more before it commits.
const LINGER: Duration = Duration::from_millis(5);

/// A detached-only batch at least this large commits without lingering.
const LINGER_UNTIL: usize = 256;

/// Handle to the writer thread.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// The writer thread, unparked when an awaited job is queued (see [`linger`]).
    thread: std::thread::Thread,
}

pub(super) fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn spawn(conn: Connection) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(8192);
        let handle = std::thread::Builder::new()
            .name("tessera-sqlite-writer".into())
            .spawn(move || run(conn, rx))?;
        Ok(Self {
            jobs: tx,
            thread: handle.thread().clone(),
        })
    }

    /// Runs `f` in the next batch and returns its result once the batch is committed.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(true, f).await
    }

    /// [`Writer::run`] for a job that executes exactly one statement (no savepoint needed).
    pub async fn run_statement<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(false, f).await
    }

    async fn submit<T, F>(&self, savepoint: bool, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            let result = match conn {
                Some(c) => f(c).map_err(map_err),
                None => Err(StoreError::Unavailable(
                    "could not begin a write transaction".into(),
                )),
            };
            let ok = result.is_ok();
            let finish: Finisher = Box::new(move |committed| {
                let _ = tx.send(match result {
                    Ok(_) if !committed => Err(StoreError::Unavailable("commit failed".into())),
                    other => other,
                });
            });
            (ok, Some(finish))
        });
        self.jobs
            .send(Job {
                savepoint,
                awaited: true,
                work,
            })
            .await
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?;
        // Ends a linger at once (an unpark of a thread that is not parked is one atomic store).
        self.thread.unpark();
        rx.await
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?
    }

    /// Queues `f` for the next batch without waiting for it (audit events).
    pub async fn detached<F>(&self, f: F)
    where
        F: FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    {
        let work: Work = Box::new(move |conn| match conn {
            Some(c) => match f(c) {
                Ok(()) => (true, None),
                Err(e) => {
                    tracing::error!(error = %e, "detached write failed");
                    (false, None)
                }
            },
            None => (false, None),
        });
        let job = Job {
            savepoint: false,
            awaited: false,
            work,
        };
        if self.jobs.send(job).await.is_err() {
            tracing::error!("writer stopped; a detached write was lost");
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut finishers: Vec<Finisher> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        linger(&mut rx, &mut batch);
        let began = exec(&conn, "BEGIN IMMEDIATE");
        for Job {
            savepoint, work, ..
        } in batch.drain(..)
        {
            if !began {
                let (_, finish) = work(None);
                finishers.extend(finish);
                continue;
            }
            if !savepoint {
                let (_, finish) = work(Some(&conn));
                finishers.extend(finish);
                continue;
            }
            exec(&conn, "SAVEPOINT job");
            let (ok, finish) = work(Some(&conn));
            if !ok {
                exec(&conn, "ROLLBACK TO job");
            }
            exec(&conn, "RELEASE job");
            finishers.extend(finish);
        }
        let committed = began && exec(&conn, "COMMIT");
        if began && !committed {
            exec(&conn, "ROLLBACK");
        }
        for finish in finishers.drain(..) {
            finish(committed);
        }
    }
}

/// Lets a batch of detached jobs wait up to [`LINGER`] for more, until it holds
/// [`LINGER_UNTIL`] jobs or a job somebody awaits arrives. The writer parks rather than waiting
/// on the channel: a waiting receiver would be woken by every single event (a futex wake and a
/// context switch each, 7 % of the CPU in a profile), while events sent to a parked writer cost
/// their senders nothing. Whoever queues an awaited job unparks the writer, so that job does
/// not wait for the linger to end.
fn linger(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    let deadline = Instant::now() + LINGER;
    while batch.len() < LINGER_UNTIL && !batch.iter().any(|j| j.awaited) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::park_timeout(deadline - now);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> bool {
    match conn.prepare_cached(sql).and_then(|mut s| s.execute([])) {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, statement = sql, "sqlite writer statement failed");
            false
        }
    }
}
