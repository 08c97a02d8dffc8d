//! A randomized sweep of hostile requests over every endpoint (a fixed seed, so a failure
//! reproduces): random and half-valid forms, bodies, content types and credentials. Whatever
//! arrives, the answer is never a 5xx, a JSON error names an RFC error code, and the server
//! keeps serving afterwards.
use serde_json::Value;
use tessera_core::client::TokenFormat;

use crate::support::TestServer;

/// xorshift64*: a reproducible stream of numbers for choosing inputs (not for secrets).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "grant_type",
    "scope",
    "resource",
    "audience",
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "client_assertion",
    "client_assertion_type",
    "request",
    "username",
    "password",
    "action",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
    "dpop_jkt",
    "after",
    "limit",
];

const RFC_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    "unsupported_token_type",
    "access_denied",
    "temporarily_unavailable",
];

/// Characters of one to four bytes, to put multi-byte text where parsers split by length.
const WIDE: &[&str] = &["A", "é", "€", "😀", "\u{301}", "ß", "\u{0}"];

/// A token-shaped value: a Tessera prefix, then 60 bytes' worth of base62 and multi-byte
/// characters (the length check passes, the split may fall inside a character).
fn wide_token(rng: &mut Rng) -> String {
    let mut s = rng
        .pick(&["tsr_at_", "tsr_rt_", "tsr_cs_", "tsr_ac_", "tsr_rat_"])
        .to_string();
    let start = s.len();
    while s.len() - start < 60 {
        let c = if rng.below(4) == 0 {
            rng.pick(WIDE)
        } else {
            "A"
        };
        if s.len() - start + c.len() <= 60 {
            s.push_str(c);
        }
    }
    s
}

/// A value: valid material, near-valid material, or junk.
fn value(rng: &mut Rng, valid: &[&str]) -> String {
    match rng.below(14) {
        12 => wide_token(rng),
        13 => {
            // A valid value with one character replaced by a multi-byte one.
            let mut v: Vec<char> = rng.pick(valid).chars().collect();
            if !v.is_empty() {
                let i = rng.below(v.len());
                v[i] = rng.pick(WIDE).chars().next().unwrap_or('é');
            }
            v.into_iter().collect()
        }
        0 => rng.pick(valid).to_string(),
        1 => {
            // A valid value with one character changed.
            let mut v: Vec<char> = rng.pick(valid).chars().collect();
            if !v.is_empty() {
                let i = rng.below(v.len());
                v[i] = if v[i] == 'A' { 'B' } else { 'A' };
            }
            v.into_iter().collect()
        }
        2 => {
            let most = if rng.below(4) == 0 { 70_000 } else { 300 };
            "A".repeat(1 + rng.below(most))
        }
        3 => String::new(),
        4 => "tsr_at_".to_string() + &"z".repeat(rng.below(80)),
        5 => "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into(),
        6 => "a.b.c.d.e".into(),
        7 => "%00%ff%fe\u{0}\u{202e}💥".into(),
        8 => "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
        9 => rng
            .pick(&[
                "client_credentials",
                "authorization_code",
                "refresh_token",
                "password",
                "implicit",
            ])
            .into(),
        10 => "https://api.example.com#frag".into(),
        _ => (0..rng.below(40))
            .map(|_| char::from(b' ' + rng.below(95) as u8))
            .collect(),
    }
}

fn body(rng: &mut Rng, valid: &[&str]) -> Vec<u8> {
    match rng.below(6) {
        0 if rng.below(3) == 0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        1 if rng.below(3) == 0 => b"{\"token\": [1, 2, {\"x\": null}]}".to_vec(),
        _ => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            if rng.below(2) == 0 {
                form.append_pair("grant_type", "client_credentials");
            }
            for _ in 0..rng.below(8) {
                let key = rng.pick(KEYS);
                form.append_pair(key, &value(rng, valid));
            }
            let mut s = form.finish();
            if rng.below(4) == 0 {
                s.push_str("&%zz=%&&==");
            }
            s.into_bytes()
        }
    }
}

/// A valid request for `path` with one thing changed: a value replaced, a parameter added
/// (perhaps twice) or one removed.
fn near_valid(rng: &mut Rng, path: &str, valid: &[&str]) -> Vec<u8> {
    let mut pairs: Vec<(String, String)> = match path {
        "/token" => vec![
            ("grant_type".into(), "client_credentials".into()),
            ("scope".into(), "deploy:read".into()),
            ("resource".into(), "https://api.example.com".into()),
        ],
        _ => vec![
            ("token".into(), rng.pick(&valid[..2]).into()),
            ("token_type_hint".into(), "access_token".into()),
        ],
    };
    match rng.below(3) {
        0 => {
            let i = rng.below(pairs.len());
            pairs[i].1 = value(rng, valid);
        }
        1 => pairs.push((rng.pick(KEYS).into(), value(rng, valid))),
        _ => {
            let i = rng.below(pairs.len());
            pairs.remove(i);
        }
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

#[tokio::test]
async fn a_hostile_sweep_gets_rfc_errors_never_a_server_error() {
    let server = TestServer::start().await;
    let jwt_client = server.client(|_| {}).await;
    let opaque_client = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let jwt = server.access_token(&jwt_client).await;
    let opaque = server.access_token(&opaque_client).await;
    let valid = [
        jwt.as_str(),
        opaque.as_str(),
        jwt_client.id.as_str(),
        jwt_client.secret.as_str(),
        "client_credentials",
        "deploy:read",
        "https://api.example.com",
    ];
    let endpoints = [
        ("POST", "/token"),
        ("POST", "/introspect"),
        ("POST", "/revoke"),
        ("POST", "/login"),
        ("GET", "/authorize"),
        ("GET", "/revocations"),
        ("POST", "/admin/events"),
        ("POST", "/admin/leaks"),
        ("GET", "/admin/alerts"),
    ];
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ];
    let http = reqwest::Client::new();
    // HOSTILE_SWEEP_SEED / HOSTILE_SWEEP_N run a longer or different sweep by hand.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(env("HOSTILE_SWEEP_SEED", 0x7e55_e7a0_5eed_0001));
    let mut answered = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..env("HOSTILE_SWEEP_N", 1200) as usize {
        let (method, path) = endpoints[i % endpoints.len()];
        let mut url = server.url(path);
        if method == "GET" || rng.below(8) == 0 {
            let query = String::from_utf8_lossy(&body(&mut rng, &valid)).replace(['#', ' '], "");
            url = format!("{url}?{query}");
        }
        let payload = if rng.below(2) == 0 {
            near_valid(&mut rng, path, &valid)
        } else {
            body(&mut rng, &valid)
        };
        let mut req = if method == "GET" {
            http.get(&url)
        } else {
            http.post(&url).body(payload)
        };
        // Mostly well-formed envelopes, so the sweep reaches the grants, not just the parser.
        let content_type = if rng.below(3) > 0 {
            content_types[0]
        } else {
            content_types[rng.below(content_types.len())]
        };
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        req = match rng.below(6) {
            0 | 4 => req.basic_auth(&jwt_client.id, Some(&jwt_client.secret)),
            1 => req.basic_auth(value(&mut rng, &valid), Some(value(&mut rng, &valid))),
            2 => req.header(
                "authorization",
                format!("Basic {}", value(&mut rng, &valid)),
            ),
            3 => req.header("authorization", format!("Bearer {jwt}")),
            _ => req,
        };
        if rng.below(5) == 0 {
            req = req.header("dpop", value(&mut rng, &valid));
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            // Invalid header bytes are refused by the client library before sending.
            Err(e) if e.is_builder() => continue,
            Err(e) => panic!("request {i} to {path} failed: {e}"),
        };
        let status = resp.status().as_u16();
        *answered.entry(status).or_default() += 1;
        assert!(status < 500, "request {i} to {method} {path}: {status}");
        let is_json = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let text = resp.text().await.unwrap();
        if is_json && status >= 400 {
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("request {i} to {path}: not JSON: {text}"));
            let code = body["error"].as_str().unwrap_or_default();
            assert!(
                RFC_ERRORS.contains(&code),
                "request {i} to {path}: {status} {text}"
            );
        }
    }
    eprintln!("hostile sweep answers: {answered:?}");
    // Both kinds of answers happened, and the server is unharmed.
    assert!(answered.keys().any(|s| *s >= 400), "{answered:?}");
    let (status, _) = server.token(&jwt_client, &[]).await;
    assert_eq!(
        status, 200,
        "the server still issues after the sweep: {answered:?}"
    );
}
