//! The test harness: boots a server on a fresh SQLite file and registers clients.
pub mod pg_cluster;

use std::sync::Arc;

use serde_json::Value;
use tessera_core::Config;
use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::client::{
    Client, ClientSecrets, Credential, GrantType, SecretMethod, TokenFormat,
};
use tessera_core::clock::{Clock, FixedClock, SystemClock};
use tessera_core::keys::SigningAlg;
use tessera_core::store::Store;
use tessera_proto::{TokenKind, TokenString};
use tessera_server::Running;

pub mod flow;

pub const API: &str = "https://api.example.com";

/// A running test server.
pub struct TestServer {
    pub running: Running,
    pub store: Arc<dyn Store>,
    pub base: String,
    pub http: reqwest::Client,
    server_cert_pem: Option<String>,
    _pem_dir: Option<tempfile::TempDir>,
    _dir: tempfile::TempDir,
}

/// A registered client and its raw secret.
pub struct TestClient {
    pub id: String,
    pub secret: String,
}

pub fn test_config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        change_poll_ms: 50,
        ..Config::default()
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(test_config(), Arc::new(SystemClock)).await
    }

    /// A server serving HTTPS with a fresh self-signed certificate for 127.0.0.1; `http` trusts it.
    pub async fn start_tls() -> Self {
        Self::start_tls_with(test_config()).await
    }

    /// `start_tls` with a given configuration.
    pub async fn start_tls_with(mut config: Config) -> Self {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let pem_dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (pem_dir.path().join("c.pem"), pem_dir.path().join("k.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        config.tls_cert = Some(cert_path);
        config.tls_key = Some(key_path);
        let mut server = Self::start_with(config, Arc::new(SystemClock)).await;
        server.base = format!("https://{}", server.running.addr);
        server.server_cert_pem = Some(cert.cert.pem());
        server.http = server.https_client(None);
        server._pem_dir = Some(pem_dir);
        server
    }

    /// An HTTPS client trusting this server's certificate, optionally with a client identity.
    pub fn https_client(&self, identity: Option<reqwest::Identity>) -> reqwest::Client {
        let pem = self.server_cert_pem.as_ref().expect("a TLS server");
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().unwrap()
    }

    /// A server on the database `url` names (e.g. a private PostgreSQL), on the system clock.
    pub async fn start_on(mut config: Config, url: &str) -> Self {
        config.database = url.to_string();
        let store = tessera_store::open(url).await.unwrap();
        let running = tessera_server::start(config, store.clone()).await.unwrap();
        let base = format!("http://{}", running.addr);
        Self {
            running,
            store,
            base,
            http: reqwest::Client::new(),
            server_cert_pem: None,
            _pem_dir: None,
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn start_with(mut config: Config, clock: Arc<dyn Clock>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        config.database = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = tessera_store::open(&config.database).await.unwrap();
        let running = tessera_server::start_with_clock(config, store.clone(), clock)
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        Self {
            running,
            store,
            base,
            http: reqwest::Client::new(),
            server_cert_pem: None,
            _pem_dir: None,
            _dir: dir,
        }
    }

    /// Registers a client_credentials client with the given settings.
    pub async fn client(&self, f: impl FnOnce(&mut Client)) -> TestClient {
        let secret = TokenString::generate_random(TokenKind::ClientSecret);
        let mut bytes = [0u8; 8];
        aws_lc_rs_rand(&mut bytes);
        let mut c = Client {
            id: format!("client-{}", u64::from_be_bytes(bytes)),
            name: "test".into(),
            credential: Credential::Secret {
                method: SecretMethod::Basic,
                secrets: ClientSecrets {
                    current: secret.hash(),
                    previous: None,
                },
            },
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            scopes: vec!["deploy:read".into(), "deploy:write".into()],
            default_scopes: vec!["deploy:read".into()],
            audiences: vec![API.into()],
            token_format: TokenFormat::Jwt,
            jwt_alg: SigningAlg::ES256,
            access_token_ttl: None,
            require_dpop: false,
            allow_impersonation: false,
            require_par: false,
            tokens_not_before: None,
            resource_uris: vec![],
            disabled: false,
            created_at: SystemClock.now(),
            updated_at: SystemClock.now(),
        };
        f(&mut c);
        self.store.create_client(&c).await.unwrap();
        TestClient {
            id: c.id,
            // A public client has no secret: the empty string says so.
            secret: if c.credential.secrets().is_some() {
                secret.expose_secret().to_string()
            } else {
                String::new()
            },
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a form with Basic credentials; returns status, headers and JSON body (Null if empty).
    pub async fn post(
        &self,
        path: &str,
        auth: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = auth {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, body)
    }

    pub async fn token(&self, c: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
        let mut f = vec![("grant_type", "client_credentials")];
        f.extend_from_slice(form);
        let (status, _, body) = self.post("/token", Some((&c.id, &c.secret)), &f).await;
        (status, body)
    }

    pub async fn access_token(&self, c: &TestClient) -> String {
        let (status, body) = self.token(c, &[]).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn introspect(&self, c: &TestClient, token: &str) -> Value {
        let (status, _, body) = self
            .post("/introspect", Some((&c.id, &c.secret)), &[("token", token)])
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Every event recorded so far (after flushing the batch writer).
    pub async fn events(&self) -> Vec<AuditEvent> {
        self.store.flush_events().await.unwrap();
        self.store
            .list_events(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    pub async fn events_of(&self, kind: EventKind) -> Vec<AuditEvent> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }
}

fn aws_lc_rs_rand(buf: &mut [u8]) {
    // Any randomness will do for ids; reuse the token-string generator's entropy.
    let s = TokenString::generate_random(TokenKind::AccessToken);
    let h = s.hash();
    buf.copy_from_slice(&h.as_bytes()[..buf.len()]);
}

/// A fixed clock shared with the server.
pub fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at(SystemClock.now()))
}

/// The exact error body.
pub fn error(code: &str, description: &str) -> Value {
    serde_json::json!({"error": code, "error_description": description})
}

/// The `Authorization: Basic` credentials of `id` and `secret`, for raw-socket requests.
pub fn basic_credentials(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}
