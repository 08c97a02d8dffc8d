//! Auto-revoke end to end: a running `tessera-server` on 127.0.0.1:0 with a fresh SQLite store
//! issues real tokens; an attack replayed into a monitor acting on the same store makes
//! introspection answer `active: false`, and every step is in the audit trail.
use std::sync::Arc;

use serde_json::Value;
use tessera_core::Config;
use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::client::{
    Client, ClientSecrets, Credential, GrantType, SecretMethod, TokenFormat,
};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::SigningAlg;
use tessera_core::store::Store;
use tessera_monitor::{GeoIp, Monitor, MonitorConfig, StoreActions};
use tessera_proto::{TokenKind, TokenString};

use crate::support::*;

const API: &str = "https://api.example.com";

struct Server {
    _running: tessera_server::Running,
    store: Arc<dyn Store>,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            database: format!("sqlite:{}", dir.path().join("t.db").display()),
            ..Config::default()
        };
        let store = tessera_store::open(&config.database).await.unwrap();
        let running = tessera_server::start(config, store.clone()).await.unwrap();
        Self {
            base: format!("http://{}", running.addr),
            _running: running,
            store,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Registers a client; returns its id and secret.
    async fn client(&self, id: &str, format: TokenFormat) -> (String, String) {
        let secret = TokenString::generate_random(TokenKind::ClientSecret);
        let now = SystemClock.now();
        let c = Client {
            id: id.into(),
            name: id.into(),
            credential: Credential::Secret {
                method: SecretMethod::Basic,
                secrets: ClientSecrets {
                    current: secret.hash(),
                    previous: None,
                },
            },
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            scopes: vec!["read".into()],
            default_scopes: vec!["read".into()],
            audiences: vec![API.into()],
            token_format: format,
            jwt_alg: SigningAlg::ES256,
            access_token_ttl: None,
            resource_uris: vec![],
            tokens_not_before: None,
            require_dpop: false,
            allow_impersonation: false,
            require_par: false,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        self.store.create_client(&c).await.unwrap();
        (id.to_string(), secret.expose_secret().to_string())
    }

    async fn post(&self, path: &str, (id, secret): (&str, &str), form: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.json().await.unwrap()
    }

    async fn events(&self) -> Vec<AuditEvent> {
        self.store.flush_events().await.unwrap();
        self.store
            .list_events(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }
}

fn monitor(store: Arc<dyn Store>) -> Monitor {
    let config = MonitorConfig::default();
    let geo = GeoIp::from_bytes(database()).unwrap();
    Monitor::new(&config, Some(geo)).with_actions(Arc::new(StoreActions::new(store, 3600)))
}

/// The attack: the token used in Paris, then a minute later in Tokyo.
fn attack(issued: &AuditEvent) -> Vec<AuditEvent> {
    let token = issued.token_id.clone().unwrap();
    let client = issued.client_id.clone().unwrap();
    let t = issued.time_ms;
    vec![
        Ev::used(t + 1_000, &client, &token, ip(PARIS, 1, 1)).done(),
        Ev::used(t + 61_000, &client, &token, ip(TOKYO, 1, 1)).done(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_jump_revokes_opaque_and_jwt_tokens_at_a_running_server() {
    let server = Server::start().await;
    let opaque = server.client("mobile", TokenFormat::Opaque).await;
    let jwt = server.client("ci", TokenFormat::Jwt).await;
    let creds = |c: &(String, String)| (c.0.clone(), c.1.clone());
    let mut tokens = Vec::new();
    for c in [creds(&opaque), creds(&jwt)] {
        let body = server
            .post(
                "/token",
                (&c.0, &c.1),
                &[("grant_type", "client_credentials")],
            )
            .await;
        let token = body["access_token"].as_str().unwrap().to_string();
        let intro = server
            .post("/introspect", (&c.0, &c.1), &[("token", &token)])
            .await;
        assert_eq!(intro["active"], true);
        tokens.push((c, token));
    }

    // The live path: the server's own events, then the attack, through a spawned monitor feed.
    let monitor = Arc::new(monitor(server.store.clone()));
    let feed = monitor.clone().spawn(1024);
    let history = server.events().await;
    let issued: Vec<AuditEvent> = history
        .iter()
        .filter(|e| e.kind == EventKind::TokenIssued)
        .cloned()
        .collect();
    assert_eq!(issued.len(), 2);
    for e in &history {
        assert!(feed.submit(e));
    }
    for e in issued.iter().flat_map(attack) {
        assert!(feed.submit(&e));
    }
    feed.shutdown().await;
    assert_eq!(monitor.stats().alerts, 2);

    for ((id, secret), token) in &tokens {
        let intro = server
            .post("/introspect", (id, secret), &[("token", token)])
            .await;
        assert_eq!(intro["active"], false, "{id}'s token is still active");
    }
    let events = server.events().await;
    for e in &issued {
        let of_token = |kind: EventKind| {
            events
                .iter()
                .filter(|x| x.kind == kind && x.token_id == e.token_id)
                .collect::<Vec<_>>()
        };
        let raised = of_token(EventKind::AlertRaised);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].reason.as_deref(), Some("impossible_travel"));
        assert_eq!(raised[0].format.as_deref(), Some("high"));
        let revoked = of_token(EventKind::TokenRevoked);
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            revoked[0].reason.as_deref(),
            Some("monitor:impossible_travel:revoke_token")
        );
        assert_eq!(revoked[0].client_id, e.client_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_medium_alert_does_not_act_and_disable_client_is_opt_in() {
    let server = Server::start().await;
    let (id, secret) = server.client("agent", TokenFormat::Opaque).await;
    let body = server
        .post(
            "/token",
            (&id, &secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let issued = server
        .events()
        .await
        .into_iter()
        .find(|e| e.kind == EventKind::TokenIssued)
        .unwrap();

    // Multi-IP is medium severity: by default it only alerts.
    let m = monitor(server.store.clone());
    let t = issued.time_ms;
    let token_id = issued.token_id.clone().unwrap();
    let mut alerts = Vec::new();
    // Six places (not addresses: multi-IP counts metro areas), each hop short enough that
    // impossible travel stays silent: Marseille, Lyon, Paris, Lille, Frankfurt, Berlin.
    let hops = [
        ip(MARSEILLE, 10, 1),
        ip(LYON, 10, 1),
        ip(PARIS, 10, 1),
        crate::support::world::city_ip(4, 10, 1),
        ip(FRANKFURT, 10, 1),
        ip(BERLIN, 10, 1),
    ];
    for (k, hop) in hops.into_iter().enumerate() {
        alerts.extend(
            m.observe(&Ev::used(t + k as u64 * 1000, &id, &token_id, hop).done())
                .await,
        );
    }
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].detector, "multi_ip");
    let intro = server
        .post("/introspect", (&id, &secret), &[("token", &token)])
        .await;
    assert_eq!(intro["active"], true);

    // A policy that disables the client on multi-IP alerts.
    let config = MonitorConfig::from_toml(
        "[[actions.rules]]\ndetector = \"multi_ip\"\nmin_severity = \"medium\"\nactions = [\"disable_client\"]\n",
    )
    .unwrap();
    let strict = Monitor::new(&config, Some(GeoIp::from_bytes(database()).unwrap()))
        .with_actions(Arc::new(StoreActions::new(server.store.clone(), 3600)));
    let done = strict.handle(&alerts[0]).await;
    assert_eq!(
        done,
        [(
            tessera_monitor::Action::DisableClient,
            tessera_monitor::ActionOutcome::Done
        )]
    );
    assert!(
        server
            .store
            .get_client(&id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let events = server.events().await;
    assert!(events.iter().any(|e| e.kind == EventKind::ClientUpdated
        && e.reason.as_deref() == Some("monitor:multi_ip:disable_client")));
}
