//! The client side of the authorization server's leak endpoint (`--server URL [--revoke]`).
//!
//! Contract (implemented by the server's admin routes):
//! `POST {URL}/admin/leaks`, HTTP Basic with an admin client's credentials (scope
//! `tessera:admin`), each of `client_id` and `client_secret` form-urlencoded first as
//! RFC 6749 §2.3.1 requires; body `{"revoke": bool, "leaks": [{"sha256", "kind", "selector",
//! "location"}]}`; answer `200 {"results": [{"sha256", "live", "action"}]}` or
//! `401 {"error": "invalid_client"}`.
//!
//! Only Tessera findings with a valid checksum are sent, as the SHA-256 the server stores: the
//! raw token never leaves this process, so checking a leak cannot leak it further.
//!
//! The admin credentials go only where [`target`] allows (https with a verified certificate, or
//! http on loopback), to exactly that URL: a redirect is an error, never followed, so the
//! `Authorization` header cannot be replayed to another host or scheme.

pub mod target;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tessera_proto::Secret;

use crate::ScanError;
use crate::finding::{Finding, ServerVerdict};

/// Where and as whom to check leaked Tessera tokens.
#[derive(Clone, Debug)]
pub struct ServerCheck {
    /// Base URL of the authorization server, e.g. `https://auth.example.com`.
    pub url: String,
    /// An admin client's id.
    pub client_id: String,
    /// That client's secret.
    pub client_secret: Secret,
    /// Revoke live tokens (rotate live client secrets) instead of only asking.
    pub revoke: bool,
}

#[derive(Serialize)]
struct LeakRequest<'a> {
    revoke: bool,
    leaks: Vec<Leak<'a>>,
}

#[derive(Serialize)]
struct Leak<'a> {
    sha256: &'a str,
    kind: &'a str,
    selector: u64,
    location: String,
}

#[derive(Deserialize)]
struct LeakResponse {
    results: Vec<LeakResult>,
}

#[derive(Deserialize)]
struct LeakResult {
    sha256: String,
    live: bool,
    action: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_auth(client_id: &str, client_secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(client_secret)))
    )
}

impl ServerCheck {
    /// The checked endpoint; an error (before any connection) if the URL breaks the policy.
    pub fn target(&self) -> Result<target::Target, ScanError> {
        target::parse(&self.url)
    }
}

/// Asks the server about every distinct Tessera token among `findings` (one entry per SHA-256,
/// located at its first finding) and writes the verdict into each finding carrying that token.
/// Does nothing, and sends nothing, when there is no Tessera finding.
pub fn check(server: &ServerCheck, findings: &mut [Finding]) -> Result<(), ScanError> {
    let mut leaks: Vec<Leak<'_>> = Vec::new();
    for f in findings.iter() {
        if let Some(t) = &f.tessera
            && !leaks.iter().any(|l| l.sha256 == t.sha256)
        {
            leaks.push(Leak {
                sha256: &t.sha256,
                kind: t.kind,
                selector: t.selector,
                location: f.location(),
            });
        }
    }
    if leaks.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_string(&LeakRequest {
        revoke: server.revoke,
        leaks,
    })
    .expect("serialises");
    let verdicts = post(server, body)?;
    for f in findings.iter_mut() {
        if let Some(t) = &f.tessera {
            f.server = verdicts.get(&t.sha256).cloned();
        }
    }
    Ok(())
}

fn post(server: &ServerCheck, body: String) -> Result<HashMap<String, ServerVerdict>, ScanError> {
    let target = server.target()?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // The server's certificate is verified against the web PKI roots; there is no way to turn
    // that off, because the request carries an admin secret.
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .disable_verification(false)
        .build();
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .https_only(!target.plain_http)
        // No redirect is followed: a 3xx comes back as a response and is refused below.
        .max_redirects(0)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .tls_config(tls);
    if target.plain_http {
        // Loopback over plain http: never through a proxy from the environment, which would
        // see the credentials in clear.
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let url = target.leaks_url;
    let err = |e: ureq::Error| ScanError::Server(format!("POST {url}: {e}"));
    let mut response = agent
        .post(&url)
        .header(
            "Authorization",
            basic_auth(&server.client_id, server.client_secret.expose_secret()),
        )
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .send(body)
        .map_err(err)?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(ScanError::Server(format!(
            "POST {url}: HTTP {status} redirect refused (the admin credentials are sent only to \
             the URL given; pass the server's final address)"
        )));
    }
    let text = response.body_mut().read_to_string().map_err(err)?;
    if status != 200 {
        let code = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or_default();
        return Err(ScanError::Server(match (status, code.as_str()) {
            (401, "invalid_client") => {
                "the server rejected the admin client's credentials (invalid_client)".into()
            }
            (_, "") => format!("POST {url}: HTTP {status}"),
            (_, code) => format!("POST {url}: HTTP {status} ({code})"),
        }));
    }
    let parsed: LeakResponse = serde_json::from_str(&text)
        .map_err(|e| ScanError::Server(format!("POST {url}: bad response body: {e}")))?;
    Ok(parsed
        .results
        .into_iter()
        .map(|r| {
            (
                r.sha256,
                ServerVerdict {
                    live: r.live,
                    action: r.action,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_urlencodes_each_part_first() {
        // RFC 6749 §2.3.1: "a:b c" → "a%3Ab+c".
        let header = basic_auth("admin:1", "s p/x");
        let decoded = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "admin%3A1:s+p%2Fx");
    }

    /// Issue 13, finding 9: nothing is sent to a loopback look-alike over plain http.
    #[test]
    fn credentials_go_only_to_https_or_a_parsed_loopback_host() {
        for (url, why) in [
            ("http://127.attacker.example", "loopback"),
            ("http://localhost.attacker.example", "loopback"),
            // Userinfo is refused before the host is judged (target.rs).
            ("http://127.0.0.1@evil.example", "credentials in the URL"),
            ("http://auth.example.com", "loopback"),
        ] {
            let server = ServerCheck {
                url: url.into(),
                client_id: "admin".into(),
                client_secret: Secret::new("s"),
                revoke: false,
            };
            let err = post(&server, "{}".into()).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
