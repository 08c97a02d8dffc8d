//! The one way a password is checked on the login page: a bounded number of argon2id checks at
//! a time (each takes ~19 MiB and ~12 ms of a core), a short queue before a slot frees up, and
//! "try again" beyond it — so unauthenticated logins cannot take the node's memory or its
//! blocking-thread pool, whatever their number. An unknown or over-long user name is checked
//! against a dummy hash computed once when the node starts, under the same bound: the answer
//! takes as long as for a real user, and costs one hash, not two.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tessera_proto::Secret;
use tokio::sync::Semaphore;

use crate::config::LoginConfig;
use crate::store::UserRecord;
use crate::user;

/// What checking a login gave.
pub enum Checked {
    /// The user exists, is enabled and the password matches.
    Match(UserRecord),
    /// Wrong user name or password (or a disabled user): one answer for all.
    NoMatch,
    /// No check slot freed up within `login.hash_wait_ms`: the password was not checked.
    Busy,
}

/// Bounded password checking, shared by every request of a node.
pub struct PasswordGate {
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    dummy: Arc<str>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Counts one running check for as long as it lives (also if the hash panics).
struct Running(Arc<Counts>);

impl Running {
    fn start(counts: &Arc<Counts>) -> Self {
        let now = counts.running.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak.fetch_max(now, Ordering::SeqCst);
        Self(Arc::clone(counts))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordGate {
    /// A gate sized by `config` (`max_concurrent_hashes`, `0`: the number of CPU cores).
    /// Computes the dummy hash: call it once, when the node starts.
    pub fn new(config: &LoginConfig) -> Self {
        let size = match config.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let dummy = user::hash_password(&Secret::new("not a password")).unwrap_or_default();
        Self {
            slots: Arc::new(Semaphore::new(size)),
            size,
            wait: Duration::from_millis(config.hash_wait_ms),
            dummy: dummy.into(),
            counts: Arc::default(),
        }
    }

    /// How many checks may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Checks running now.
    pub fn running(&self) -> usize {
        self.counts.running.load(Ordering::SeqCst)
    }

    /// The most checks that ever ran at once on this node (never above [`PasswordGate::size`]).
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }

    /// Checks `password` against `user` (`None`: no such user, or a name that cannot exist; the
    /// dummy hash is checked instead). A password over `user::MAX_PASSWORD` bytes never matches
    /// and is not hashed: the dummy check runs on an empty one, so its length costs nothing.
    pub async fn check(&self, user: Option<UserRecord>, password: &str) -> Checked {
        let (user, password) = if password.len() > user::MAX_PASSWORD {
            (None, Secret::new(""))
        } else {
            (user, Secret::new(password))
        };
        let Ok(Ok(slot)) =
            tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned()).await
        else {
            return Checked::Busy;
        };
        let dummy = Arc::clone(&self.dummy);
        let counts = Arc::clone(&self.counts);
        // The slot moves into the blocking task: if this request is dropped mid-check (the
        // client went away), the slot stays taken until the hash really ends.
        let matched = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let _running = Running::start(&counts);
            let hash = user
                .as_ref()
                .map_or(&*dummy, |u| u.password_hash.expose_secret());
            let matches = user::verify_password(hash, &password);
            user.filter(|u| matches && !u.disabled)
        })
        .await
        .ok()
        .flatten();
        match matched {
            Some(user) => Checked::Match(user),
            None => Checked::NoMatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(password: &str) -> UserRecord {
        UserRecord {
            username: "alice".into(),
            password_hash: Secret::new(user::hash_password(&Secret::new(password)).unwrap()),
            disabled: false,
            created_at: 0,
        }
    }

    fn gate(size: usize, wait_ms: u64) -> PasswordGate {
        PasswordGate::new(&LoginConfig {
            max_concurrent_hashes: size,
            hash_wait_ms: wait_ms,
            ..LoginConfig::default()
        })
    }

    #[tokio::test]
    async fn matches_only_the_right_password_of_an_enabled_user() {
        let g = gate(1, 10_000);
        let alice = user("right");
        assert!(matches!(
            g.check(Some(alice.clone()), "right").await,
            Checked::Match(_)
        ));
        assert!(matches!(
            g.check(Some(alice.clone()), "wrong").await,
            Checked::NoMatch
        ));
        assert!(matches!(g.check(None, "right").await, Checked::NoMatch));
        let long = "x".repeat(user::MAX_PASSWORD + 1);
        let mut long_user = alice.clone();
        long_user.password_hash = Secret::new(user::hash_password(&Secret::new(&long)).unwrap());
        assert!(
            matches!(g.check(Some(long_user), &long).await, Checked::NoMatch),
            "an over-long password never matches"
        );
        let mut disabled = alice;
        disabled.disabled = true;
        assert!(matches!(
            g.check(Some(disabled), "right").await,
            Checked::NoMatch
        ));
        assert_eq!(g.running(), 0);
        assert_eq!(g.peak(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_runs_more_checks_than_its_size_and_refuses_past_the_wait() {
        let g = Arc::new(gate(2, 0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let g = Arc::clone(&g);
                tokio::spawn(async move { g.check(None, "guess").await })
            })
            .collect();
        let mut busy = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Checked::Busy) {
                busy += 1;
            }
        }
        assert!(g.peak() <= 2, "peak {}", g.peak());
        assert!(
            busy > 0,
            "with no wait, some of 16 concurrent checks are refused"
        );
        assert_eq!(g.running(), 0);
    }
}
