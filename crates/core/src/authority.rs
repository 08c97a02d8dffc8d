//! The authorization server's state, shared by every request: configuration, store, clock,
//! keys and caches. Endpoints are free functions in their own modules taking `&Authority`.
use std::ops::Range;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tessera_proto::OAuthError;

use crate::audit::AuditEvent;
use crate::binding::nonce::NonceSource;
use crate::client::Client;
use crate::client_auth::jwks_uri::{JwksFetcher, RemoteJwks};
use crate::client_cache::ClientCache;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{StartupError, StoreError};
use crate::keys::lifecycle::{KeyChange, run_schedule};
use crate::keys::{KeyError, KeyPolicy, KeyRing, Sealer};
use crate::password_gate::PasswordGate;
use crate::store::{ChangeVersions, Store};

pub use crate::keys::lifecycle::rotate_key;

/// How many opaque-token selectors a node reserves from the store at a time.
const SELECTOR_BLOCK: u64 = 4096;

/// The authorization server.
pub struct Authority {
    config: Config,
    issuer: String,
    /// `{issuer}/token`, built once: DPoP's `htu` and client assertions' `aud` are checked
    /// against it on every token request.
    token_endpoint: String,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sealer: Option<Sealer>,
    keys: RwLock<Arc<KeyRing>>,
    clients: ClientCache,
    selectors: tokio::sync::Mutex<Range<u64>>,
    versions: Mutex<ChangeVersions>,
    dpop_nonces: NonceSource,
    remote_jwks: RemoteJwks,
    event_tap: std::sync::OnceLock<EventTap>,
    password_gate: PasswordGate,
}

/// Receives every audit event this node records (the live monitor's feed). Must not block.
pub type EventTap = Box<dyn Fn(&AuditEvent) + Send + Sync>;

impl Authority {
    /// Opens the authority: checks the configuration, runs the key schedule once (which makes
    /// sure every algorithm has a current signing key), and loads the key ring.
    pub async fn open(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, StartupError> {
        let sealer = config
            .keys
            .encryption_key
            .as_ref()
            .map(|k| Sealer::from_base64(k.expose_secret()))
            .transpose()?;
        if config.refresh.reuse_grace_secs > 0 && sealer.is_none() {
            return Err(StartupError::GraceWithoutKek);
        }
        if let Some(sealer) = &sealer {
            let n = crate::keys::lifecycle::reseal_keys(store.as_ref(), sealer).await?;
            if n > 0 {
                tracing::info!(
                    keys = n,
                    "sealed stored private keys under the key-encryption key"
                );
            }
        }
        let policy = KeyPolicy::from_config(&config);
        // First start: a current key per algorithm. Later: catch up on what fell due while no
        // node ran (a next key to publish or promote, expired keys to remove).
        run_schedule(store.as_ref(), sealer.as_ref(), &policy, clock.now()).await?;
        let versions = store.change_versions().await?;
        let keys = load_keys(store.as_ref(), sealer.as_ref(), clock.now(), &policy).await?;
        let issuer = config.issuer();
        // The dummy hash of the login page, computed once now (argon2id: off the async threads).
        let login = config.login.clone();
        let password_gate = tokio::task::spawn_blocking(move || PasswordGate::new(&login))
            .await
            .map_err(|e| StartupError::Task(e.to_string()))?;
        Ok(Arc::new(Self {
            token_endpoint: format!("{issuer}/token"),
            issuer,
            store,
            clock,
            sealer,
            keys: RwLock::new(Arc::new(keys)),
            clients: ClientCache::default(),
            selectors: tokio::sync::Mutex::new(0..0),
            versions: Mutex::new(versions),
            dpop_nonces: NonceSource::new(
                config
                    .dpop
                    .nonce_secret
                    .as_ref()
                    .map(|s| s.expose_secret().as_bytes()),
                config.dpop.nonce_period_secs,
            ),
            remote_jwks: RemoteJwks::default(),
            config,
            event_tap: std::sync::OnceLock::new(),
            password_gate,
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The login page's bounded password checking.
    pub fn password_gate(&self) -> &PasswordGate {
        &self.password_gate
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token endpoint's URL.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The current key ring.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().expect("key ring lock poisoned").clone()
    }

    /// The DPoP nonce source (RFC 9449 §8).
    pub fn dpop_nonces(&self) -> &NonceSource {
        &self.dpop_nonces
    }

    /// The cache of clients' JWK Sets fetched from their `jwks_uri` (RFC 7591).
    pub fn remote_jwks(&self) -> &RemoteJwks {
        &self.remote_jwks
    }

    /// Installs how `jwks_uri` documents are fetched (the HTTP edge does it; core does no I/O).
    /// Without one, `jwks_uri` clients fail authentication. Once; later calls return `false`.
    pub fn set_jwks_fetcher(&self, fetcher: Arc<dyn JwksFetcher>) -> bool {
        self.remote_jwks.set_fetcher(fetcher)
    }

    /// Whether private keys are sealed at rest.
    pub fn keys_sealed(&self) -> bool {
        self.sealer.is_some()
    }

    /// The key-encryption key's sealer (signing keys, refresh successors in their grace window).
    pub(crate) fn sealer(&self) -> Option<&Sealer> {
        self.sealer.as_ref()
    }

    /// A client by id, from the cache or the store.
    pub async fn client(&self, id: &str) -> Result<Option<Arc<Client>>, OAuthError> {
        if let Some(c) = self.clients.get(id) {
            return Ok(Some(c));
        }
        let generation = self.clients.generation();
        let Some(client) = self.store.get_client(id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        self.clients.insert(client.clone(), generation);
        Ok(Some(client))
    }

    /// Drops cached clients at once (after this node changed one itself; other nodes notice
    /// through the change watcher).
    pub fn invalidate_clients(&self) {
        self.clients.invalidate();
    }

    /// Queues an audit event no response reports (written in batches by the store, without
    /// holding up the caller; a crash may lose the last few). For an event tied to a change the
    /// response reports, [`Authority::record_durable`].
    pub async fn record(&self, event: AuditEvent) {
        if let Some(tap) = self.event_tap.get() {
            tap(&event);
        }
        self.store.record_event(event).await;
    }

    /// Records an event a response reports (a revocation, a replay that revoked a family) and
    /// returns once it is committed, group-committed with other requests' writes: answer only
    /// after it, and an acknowledged change always has its audit record, even after a crash
    /// (issue 13). The monitor sees it once committed.
    pub async fn record_durable(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.record_with(event, |e| self.store.record_event_durable(e))
            .await
    }

    /// Runs `write`, which stores `event` together with the change it reports, then hands the
    /// event to the monitor: only once committed, so an action the monitor takes on it (a
    /// revocation) finds the change in the store.
    pub(crate) async fn record_with<F>(
        &self,
        event: AuditEvent,
        write: impl FnOnce(AuditEvent) -> F,
    ) -> Result<(), StoreError>
    where
        F: Future<Output = Result<(), StoreError>>,
    {
        let tap = self.event_tap.get();
        let copy = tap.map(|_| event.clone());
        write(event).await?;
        if let (Some(tap), Some(event)) = (tap, copy) {
            tap(&event);
        }
        Ok(())
    }

    /// Hands an event the store already committed (with the change it reports, in a store
    /// method of its own) to the monitor, as [`Authority::record_with`] does after its write.
    pub(crate) fn tap_committed(&self, event: &AuditEvent) {
        if let Some(tap) = self.event_tap.get() {
            tap(event);
        }
    }

    /// Installs the event tap (once; later calls are ignored and return `false`).
    pub fn set_event_tap(&self, tap: EventTap) -> bool {
        self.event_tap.set(tap).is_ok()
    }

    /// A fresh opaque-token selector, from a block reserved in the store.
    pub async fn next_selector(&self) -> Result<u64, OAuthError> {
        let mut block = self.selectors.lock().await;
        if block.is_empty() {
            *block = self.store.reserve_selectors(SELECTOR_BLOCK).await?;
        }
        Ok(block.next().expect("a fresh block is not empty"))
    }

    /// Polls the store's change versions once; drops the client cache or reloads keys if another
    /// process changed them.
    pub async fn sync_changes(&self) -> Result<(), StoreError> {
        let now = self.store.change_versions().await?;
        let before = *self.versions.lock().expect("versions lock poisoned");
        if now.clients != before.clients {
            self.clients.invalidate();
        }
        if now.keys != before.keys {
            let ring = load_keys(
                self.store.as_ref(),
                self.sealer.as_ref(),
                self.clock.now(),
                &self.key_policy(),
            )
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
            *self.keys.write().expect("key ring lock poisoned") = Arc::new(ring);
        }
        *self.versions.lock().expect("versions lock poisoned") = now;
        Ok(())
    }

    /// Runs [`Authority::sync_changes`] every `change_poll_ms` until the task is dropped.
    pub fn spawn_change_watcher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::downgrade(self);
        let period = Duration::from_millis(self.config.change_poll_ms.max(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(this) = this.upgrade() else { return };
                if let Err(e) = this.sync_changes().await {
                    tracing::warn!(error = %e, "polling the store for changes failed");
                }
            }
        })
    }

    /// The signing-key lifecycle's timing, from the configuration.
    pub fn key_policy(&self) -> KeyPolicy {
        KeyPolicy::from_config(&self.config)
    }

    /// Runs the key schedule once at the clock's time (publish, promote, remove what is due; see
    /// [`crate::keys::plan`]) and reloads the ring at once if anything changed. Safe on every
    /// node at once: the store's conditional writes let exactly one act.
    pub async fn run_key_schedule(&self) -> Result<Vec<KeyChange>, KeyError> {
        let changes = run_schedule(
            self.store.as_ref(),
            self.sealer.as_ref(),
            &self.key_policy(),
            self.clock.now(),
        )
        .await?;
        if !changes.is_empty() {
            self.sync_changes().await?;
        }
        Ok(changes)
    }

    /// Runs [`Authority::run_key_schedule`] every `keys.check_interval` seconds until the task is
    /// dropped (the first run is [`Authority::open`]'s).
    pub fn spawn_key_scheduler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::downgrade(self);
        let period = Duration::from_secs(self.config.keys.check_interval.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(this) = this.upgrade() else { return };
                match this.run_key_schedule().await {
                    Ok(changes) => {
                        for change in changes {
                            tracing::info!(?change, "signing key lifecycle");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "running the key schedule failed"),
                }
            }
        })
    }
}

async fn load_keys(
    store: &dyn Store,
    sealer: Option<&Sealer>,
    now: u64,
    policy: &KeyPolicy,
) -> Result<KeyRing, KeyError> {
    let stored = store.list_keys().await?;
    KeyRing::load(&stored, sealer, now, policy.retired_published_for)
}
