//! The authorization code flow, driven like a browser would: GET /authorize, read the login
//! form, POST it, follow nothing (the redirects are asserted).
use reqwest::header::LOCATION;
use tessera_core::client::{Client, Credential, GrantType};
use tessera_core::store::UserRecord;
use tessera_proto::Secret;

use super::{TestClient, TestServer};

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";

/// A browser that does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Registers a code-flow client (confidential unless `public`) and, once, the user alice.
pub async fn code_client(
    server: &TestServer,
    public: bool,
    f: impl FnOnce(&mut Client),
) -> TestClient {
    if server.store.get_user(USER).await.unwrap().is_none() {
        server
            .store
            .create_user(&UserRecord {
                username: USER.into(),
                password_hash: Secret::new(
                    tessera_core::user::hash_password(&Secret::new(PASSWORD)).unwrap(),
                ),
                disabled: false,
                created_at: 0,
            })
            .await
            .unwrap();
    }
    server
        .client(|c| {
            c.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
            c.redirect_uris = vec![REDIRECT.into()];
            if public {
                c.credential = Credential::None;
            }
            f(c);
        })
        .await
}

/// An S256 PKCE pair (verifier, challenge).
pub fn pkce() -> (String, String) {
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    (verifier.secret().clone(), challenge.as_str().to_string())
}

/// GET /authorize with `params`.
pub async fn authorize(server: &TestServer, params: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .get(server.url("/authorize"))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// The hidden `request` field of a login page.
pub fn request_field(html: &str) -> String {
    let start = html
        .find("name=\"request\" value=\"")
        .unwrap_or_else(|| panic!("no login form in {html}"))
        + "name=\"request\" value=\"".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

/// POST /login.
pub async fn post_login(server: &TestServer, form: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(server.url("/login"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Opens a login form for `c` (a fresh authorization request); its hidden `request` field.
pub async fn open_login_form(server: &TestServer, c: &TestClient) -> String {
    let (_, challenge) = pkce();
    let html = authorize(server, &request(c, &challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    request_field(&html)
}

/// Submits the login form `id` as `user` with `password`, choosing "allow".
pub async fn allow(server: &TestServer, id: &str, user: &str, password: &str) -> reqwest::Response {
    post_login(
        server,
        &[
            ("request", id),
            ("username", user),
            ("password", password),
            ("action", "allow"),
        ],
    )
    .await
}

/// Submits the login form `id` once per `(user, password)`, all in flight at once; each
/// answer's status and page, in order.
pub async fn concurrent_logins(
    server: &TestServer,
    id: &str,
    attempts: Vec<(String, String)>,
) -> Vec<(u16, String)> {
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(user, password)| {
            let url = server.url("/login");
            let form = [
                ("request", id.to_string()),
                ("username", user),
                ("password", password),
                ("action", "allow".to_string()),
            ];
            tokio::spawn(async move {
                let resp = browser().post(url).form(&form).send().await.unwrap();
                (
                    resp.status().as_u16(),
                    resp.text().await.unwrap_or_default(),
                )
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The query parameters of a redirect's Location.
pub fn location_params(resp: &reqwest::Response) -> Vec<(String, String)> {
    let location = resp.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    url_query(location)
}

pub fn url_query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The standard authorization request for `c` with the given challenge, plus `extra`.
pub fn request<'a>(
    c: &'a TestClient,
    challenge: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", c.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "deploy:read"),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(extra);
    q
}

/// Runs authorize + login (allow) and returns the code.
pub async fn get_code(
    server: &TestServer,
    c: &TestClient,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let resp = authorize(server, &request(c, challenge, extra)).await;
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    let resp = allow(server, &request_field(&html), USER, PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 303);
    let params = location_params(&resp);
    assert_eq!(param(&params, "state"), Some("xyz"));
    assert_eq!(param(&params, "iss"), Some(server.base.as_str()));
    param(&params, "code").unwrap().to_string()
}

/// POSTs to /token as `c` (Basic for a confidential client, client_id in the body for a
/// public one), with an optional DPoP proof.
pub async fn token_request(
    server: &TestServer,
    c: &TestClient,
    form: &[(&str, &str)],
    dpop: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = form.to_vec();
    let mut req = server.http.post(server.url("/token"));
    if c.secret.is_empty() {
        form.push(("client_id", c.id.as_str()));
    } else {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    if let Some(p) = dpop {
        req = req.header("DPoP", p);
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Exchanges a code.
pub async fn exchange(
    server: &TestServer,
    c: &TestClient,
    code: &str,
    verifier: &str,
    dpop: Option<&str>,
) -> (u16, serde_json::Value) {
    token_request(
        server,
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
        dpop,
    )
    .await
}

/// Refreshes.
pub async fn refresh(
    server: &TestServer,
    c: &TestClient,
    refresh_token: &str,
    dpop: Option<&str>,
) -> (u16, serde_json::Value) {
    token_request(
        server,
        c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        dpop,
    )
    .await
}
