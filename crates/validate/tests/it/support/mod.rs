//! The harness: a Tessera server on a fresh SQLite file, clients, and a protected axum app.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::Value;
use tessera_core::Config;
use tessera_core::client::{
    Client, ClientSecrets, Credential, GrantType, SecretMethod, TokenFormat,
};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{KeyState, SigningAlg};
use tessera_core::store::Store;
use tessera_proto::{TokenKind, TokenString};
use tessera_server::Running;
use tessera_validate::{TokenClaims, ValidateConfig, ValidateTokenLayer};

pub const API: &str = "https://api.example.com";

pub struct As {
    /// Held so the server runs as long as the test.
    #[allow(dead_code)]
    pub running: Running,
    pub store: Arc<dyn Store>,
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct TestClient {
    pub id: String,
    pub secret: String,
}

impl As {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            change_poll_ms: 50,
            database: format!("sqlite:{}", dir.path().join("t.db").display()),
            ..Config::default()
        };
        let store = tessera_store::open(&config.database).await.unwrap();
        let running =
            tessera_server::start_with_clock(config, store.clone(), Arc::new(SystemClock))
                .await
                .unwrap();
        let base = format!("http://{}", running.addr);
        Self {
            running,
            store,
            base,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub async fn client(&self, f: impl FnOnce(&mut Client)) -> TestClient {
        let secret = TokenString::generate_random(TokenKind::ClientSecret);
        let id = format!("client-{}", &secret.hash().to_hex()[..12]);
        let mut c = Client {
            id: id.clone(),
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
            id,
            secret: secret.expose_secret().to_string(),
        }
    }

    /// The resource server's own client, registered as the resource server of `API`:
    /// introspects its tokens, reads the revocation feed and reports usage events.
    pub async fn rs_client(&self) -> TestClient {
        self.client(|c| {
            c.resource_uris = vec![API.into()];
            c.scopes = vec!["tessera:revocations".into(), "tessera:events".into()];
        })
        .await
    }

    /// A token for `c` with extra form parameters; panics unless issued.
    pub async fn token_with(
        &self,
        c: &TestClient,
        form: &[(&str, &str)],
        dpop: Option<&str>,
    ) -> String {
        let mut f = vec![("grant_type", "client_credentials")];
        f.extend_from_slice(form);
        let mut req = self
            .http
            .post(format!("{}/token", self.base))
            .basic_auth(&c.id, Some(&c.secret))
            .form(&f);
        if let Some(p) = dpop {
            req = req.header("DPoP", p);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string()
    }

    pub async fn token(&self, c: &TestClient) -> String {
        self.token_with(c, &[], None).await
    }

    /// Signs arbitrary claims with the server's current ES256 key (to forge edge cases).
    pub async fn sign(&self, claims: &Value) -> String {
        let keys = self.store.list_keys().await.unwrap();
        let k = keys
            .iter()
            .rev()
            .find(|k| k.alg == SigningAlg::ES256 && k.state == KeyState::Current)
            .unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(k.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(k.private_key.expose_secret()),
        )
        .unwrap()
    }

    /// Valid claims for `API`, to be altered.
    pub fn claims(&self) -> Value {
        let now = SystemClock.now();
        serde_json::json!({
            "iss": self.base, "sub": "alice", "aud": API, "exp": now + 300, "iat": now,
            "nbf": now, "jti": format!("j{now}"), "client_id": "c1", "scope": "deploy:read"
        })
    }
}

/// A protected app: `GET /whoami` echoes the claims; `POST /deploys` needs `deploy:write`.
pub struct Rs {
    pub addr: SocketAddr,
    #[allow(dead_code)]
    pub layer: ValidateTokenLayer,
    pub http: reqwest::Client,
}

async fn whoami(claims: TokenClaims) -> Json<TokenClaims> {
    Json(claims)
}

impl Rs {
    /// The app on 127.0.0.1:0, its external origin (for DPoP `htu`) set to its own address as
    /// a deployment sets it, unless the config names one.
    pub async fn start(config: ValidateConfig) -> Self {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Rs::start`] with the layer reading the time from `clock`.
    pub async fn start_with_clock(config: ValidateConfig, clock: Arc<dyn Clock>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = if config.external_origin.is_some() {
            config
        } else {
            config.with_external_origin(format!("http://{addr}"))
        };
        Self::serve(listener, config, clock).await
    }

    /// The app with the config exactly as given (no external origin unless it names one).
    pub async fn start_as_configured(config: ValidateConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, config, Arc::new(SystemClock)).await
    }

    async fn serve(
        listener: tokio::net::TcpListener,
        config: ValidateConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let layer = ValidateTokenLayer::with_clock(config, clock).await.unwrap();
        let app = Router::new()
            .route("/whoami", get(whoami))
            .route("/deploys", post(whoami))
            .route("/items/{id}", get(whoami))
            .layer(layer.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            addr,
            layer,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GETs `path` with `Authorization: Bearer token`; returns status, challenge and body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, String, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.unwrap()).await
    }
}

pub async fn read(resp: reqwest::Response) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        challenge,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// The configuration used by most tests: no client credentials (JWT only, no feed).
pub fn rs_config(issuer: &As) -> ValidateConfig {
    ValidateConfig::new(issuer.base.clone(), API)
        .require_route_scope("POST /deploys", "deploy:write")
        .unwrap()
}

/// `Bearer error="invalid_token", error_description="…"`.
pub fn invalid_token(description: &str) -> String {
    format!("Bearer error=\"invalid_token\", error_description=\"{description}\"")
}

/// Sends `METHOD path` exactly as written (no client-side URL normalisation, unlike reqwest)
/// with a bearer token; returns the status and the body.
pub async fn raw_request(addr: SocketAddr, method: &str, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
