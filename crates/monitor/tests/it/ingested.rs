//! End to end through the HTTP edge: a running server with the live monitor on its event tap
//! (as `tessera serve` wires it); a resource server reports `token.used` events through
//! `POST /admin/events`; the monitor raises an alert that `GET /admin/alerts` lists with the
//! action taken, and introspection of the stolen token then says `active: false`.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
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

struct Server {
    running: tessera_server::Running,
    store: Arc<dyn Store>,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

type Creds = (String, String);

impl Server {
    /// A server whose every recorded event feeds a live monitor acting on its store.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = tessera_core::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            database: format!("sqlite:{}", dir.path().join("t.db").display()),
            ..tessera_core::Config::default()
        };
        let store = tessera_store::open(&config.database).await.unwrap();
        let running = tessera_server::start(config, store.clone()).await.unwrap();
        let geo = GeoIp::from_bytes(database()).unwrap();
        let monitor = Monitor::new(&MonitorConfig::default(), Some(geo))
            .with_actions(Arc::new(StoreActions::new(store.clone(), 3600)));
        let feed = Arc::new(monitor).spawn(1024);
        assert!(running.authority.set_event_tap(Box::new(move |e| {
            feed.submit(e);
        })));
        Self {
            base: format!("http://{}", running.addr),
            running,
            store,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn client(&self, id: &str, format: TokenFormat, scopes: &[&str]) -> Creds {
        let secret = TokenString::generate_random(TokenKind::ClientSecret);
        let now = SystemClock.now();
        let c_reports = scopes.contains(&"tessera:events");
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
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
            default_scopes: scopes.clone(),
            scopes,
            audiences: vec!["https://api.example.com".into()],
            token_format: format,
            jwt_alg: SigningAlg::ES256,
            access_token_ttl: None,
            // A reporter is a resource server for the API: it may report uses of its tokens.
            resource_uris: if c_reports {
                vec!["https://api.example.com".into()]
            } else {
                vec![]
            },
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

    async fn form(&self, path: &str, (id, secret): &Creds, form: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// A token for `c` and the `token.issued` event the server recorded for it.
    async fn token(&self, c: &Creds) -> (String, AuditEvent) {
        let body = self
            .form("/token", c, &[("grant_type", "client_credentials")])
            .await;
        let token = body["access_token"].as_str().unwrap().to_string();
        self.store.flush_events().await.unwrap();
        let issued = self
            .store
            .list_events(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .rfind(|e| e.kind == EventKind::TokenIssued && e.client_id.as_deref() == Some(&c.0))
            .unwrap();
        (token, issued)
    }

    /// Reports `events`, each made with `token` (the server resolves it: the report's own
    /// token facts are not kept).
    async fn report(
        &self,
        (id, secret): &Creds,
        token: &str,
        events: &[AuditEvent],
    ) -> (u16, Value) {
        let events: Vec<Value> = events
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap();
                v["token"] = json!(token);
                v
            })
            .collect();
        let resp = self
            .http
            .post(format!("{}/admin/events", self.base))
            .basic_auth(id, Some(secret))
            .json(&json!({ "events": events }))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// `GET /admin/alerts` until it lists something (the monitor runs behind a queue), at most
    /// ten seconds.
    async fn wait_for_alerts(&self, (id, secret): &Creds) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let resp = self
                .http
                .get(format!("{}/admin/alerts", self.base))
                .basic_auth(id, Some(secret))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            let body: Value = resp.json().await.unwrap();
            let alerts = body["alerts"].as_array().unwrap().clone();
            if !alerts.is_empty() || Instant::now() > deadline {
                return alerts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_uses_from_paris_then_tokyo_revoke_the_token_and_list_the_alert() {
    let server = Server::start().await;
    let mobile = server
        .client("mobile", TokenFormat::Opaque, &["read"])
        .await;
    // Trusted to act: reported evidence alone revokes only for such a reporter.
    let rs = server
        .client(
            "orders-api",
            TokenFormat::Jwt,
            &["tessera:events", "tessera:events:act"],
        )
        .await;
    let ops = server
        .client("ops", TokenFormat::Jwt, &["tessera:admin"])
        .await;
    let (token, issued) = server.token(&mobile).await;
    assert_eq!(
        server
            .form("/introspect", &mobile, &[("token", &token)])
            .await["active"],
        true
    );

    let token_id = issued.token_id.clone().unwrap();
    let t = issued.time_ms;
    let uses = [
        Ev::used(t + 1_000, "mobile", &token_id, ip(PARIS, 1, 1))
            .caller("mobile")
            .done(),
        Ev::used(t + 50_000, "mobile", &token_id, ip(TOKYO, 1, 1))
            .caller("mobile")
            .done(),
    ];
    assert_eq!(
        server.report(&rs, &token, &uses).await,
        (200, json!({"accepted": 2}))
    );

    let alerts = server.wait_for_alerts(&ops).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["detector"], "impossible_travel");
    assert_eq!(a["severity"], "high");
    assert_eq!(a["token_id"], token_id.as_str());
    assert_eq!(a["client_id"], "mobile");
    assert_eq!(a["status"], "open");
    assert_eq!(a["actions"], json!(["revoke_token:done"]));
    assert_eq!(a["evidence"]["ip"], ip(TOKYO, 1, 1).to_string());
    assert_eq!(
        server
            .form("/introspect", &mobile, &[("token", &token)])
            .await,
        json!({"active": false})
    );
    // The trail: the reporter on each use, then the alert and the revocation.
    server.store.flush_events().await.unwrap();
    let events: Vec<AuditEvent> = server
        .store
        .list_events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let used: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::TokenUsed)
        .collect();
    assert_eq!(used.len(), 2);
    assert!(
        used.iter()
            .all(|e| e.reported_by.as_deref() == Some("orders-api"))
    );
    assert!(
        events.iter().any(|e| e.kind == EventKind::AlertRaised
            && e.reason.as_deref() == Some("impossible_travel"))
    );
    assert!(events.iter().any(|e| e.kind == EventKind::TokenRevoked
        && e.reason.as_deref() == Some("monitor:impossible_travel:revoke_token")));
    drop(server.running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_presented_by_another_client_is_revoked_but_the_reporter_is_no_suspect() {
    let server = Server::start().await;
    let ci = server.client("ci", TokenFormat::Jwt, &["read"]).await;
    let rs = server
        .client(
            "orders-api",
            TokenFormat::Jwt,
            &["tessera:events", "tessera:events:act"],
        )
        .await;
    let ops = server
        .client("ops", TokenFormat::Jwt, &["tessera:admin"])
        .await;
    let (token, issued) = server.token(&ci).await;
    let token_id = issued.token_id.clone().unwrap();
    let t = issued.time_ms;

    // Honest uses, reported by a resource server that is not the token's owner: no alert.
    let honest: Vec<AuditEvent> = (0..3)
        .map(|k| {
            Ev::used(t + 1_000 * k, "ci", &token_id, ip(PARIS, 1, 1))
                .caller("ci")
                .done()
        })
        .collect();
    assert_eq!(
        server.report(&rs, &token, &honest).await,
        (200, json!({"accepted": 3}))
    );
    // Then the token presented by a client it was not issued to.
    let stolen = Ev::used(t + 5_000, "ci", &token_id, ip(PARIS, 1, 1))
        .caller("intruder")
        .done();
    assert_eq!(
        server.report(&rs, &token, &[stolen]).await,
        (200, json!({"accepted": 1}))
    );

    let alerts = server.wait_for_alerts(&ops).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["detector"], "multi_client");
    assert_eq!(alerts[0]["evidence"]["caller"], "intruder");
    assert_eq!(alerts[0]["actions"], json!(["revoke_token:done"]));
    assert_eq!(
        server.form("/introspect", &ci, &[("token", &token)]).await["active"],
        false
    );
    drop(server.running);
}

/// The review's attack: a `tessera:events` reporter (not trusted to act) reports a token as
/// presented by another client. The alert is raised and listed, marked as reported evidence,
/// but nothing is revoked until a person decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_reported_evidence_raises_an_alert_but_revokes_nothing() {
    let server = Server::start().await;
    let ci = server.client("ci", TokenFormat::Opaque, &["read"]).await;
    let rs = server
        .client("orders-api", TokenFormat::Jwt, &["tessera:events"])
        .await;
    let ops = server
        .client("ops", TokenFormat::Jwt, &["tessera:admin"])
        .await;
    let (token, issued) = server.token(&ci).await;
    let t = issued.time_ms;
    let stolen = Ev::used(t + 1_000, "ci", "1", ip(PARIS, 1, 1))
        .caller("intruder")
        .done();
    assert_eq!(
        server.report(&rs, &token, &[stolen]).await,
        (200, json!({"accepted": 1}))
    );
    let alerts = server.wait_for_alerts(&ops).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["detector"], "multi_client");
    assert_eq!(
        alerts[0]["token_id"],
        issued.token_id.clone().unwrap().as_str()
    );
    assert_eq!(alerts[0]["evidence"]["provenance"], "reported");
    assert_eq!(alerts[0]["actions"], json!([]));
    assert_eq!(
        server.form("/introspect", &ci, &[("token", &token)]).await["active"],
        true
    );
    drop(server.running);
}
