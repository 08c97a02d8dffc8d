//! Fetching clients' `jwks_uri` documents (RFC 7591 §2) over HTTP for core's JWK Set cache:
//! a GET that follows no redirect, connects only to addresses the [`AddressPolicy`] allows
//! (checked on the resolved addresses, at connection time), times out, and stops reading past
//! the size limit.
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tessera_core::client_auth::jwks_uri::{AddressPolicy, FETCH_TIMEOUT, FetchError, JwksFetcher};

/// The reqwest-backed fetcher.
pub struct HttpJwksFetcher {
    http: reqwest::Client,
    policy: AddressPolicy,
}

/// The refusal the resolver returns, found again in the request error's source chain.
#[derive(Debug)]
struct AddressRefused;

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the jwks_uri host resolves to no address this server may fetch from")
    }
}

impl std::error::Error for AddressRefused {}

/// Resolves with the system resolver and keeps only the addresses the policy allows; the HTTP
/// client connects to what this returns, so the address checked is the address used.
struct PolicyResolver(AddressPolicy);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(AddressRefused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpJwksFetcher {
    /// A client that follows no redirect (the registered URI is the one trusted, not wherever it
    /// points), uses no proxy from the environment (the address check must see the real
    /// destination), resolves through the policy and gives up after [`FETCH_TIMEOUT`].
    pub fn new(policy: AddressPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(policy)))
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, policy })
    }

    /// An IP-literal host never reaches the resolver: it is checked here.
    fn literal_allowed(&self, uri: &str) -> bool {
        let Some(host) = reqwest::Url::parse(uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        else {
            return false;
        };
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            Ok(ip) => self.policy.allows(ip),
            Err(_) => true,
        }
    }
}

/// The policy of this server: private networks only with
/// `client_auth.insecure_jwks_uri_private_addresses`; loopback with it too, or when the issuer
/// itself is on loopback (a development setup, where clients' key servers are local as well).
pub fn address_policy(config: &tessera_core::Config, issuer: &str) -> AddressPolicy {
    let insecure = config.client_auth.insecure_jwks_uri_private_addresses;
    let issuer_on_loopback = reqwest::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    AddressPolicy {
        loopback: insecure || issuer_on_loopback,
        private: insecure,
    }
}

fn refused(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<AddressRefused>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, uri: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        if !self.literal_allowed(uri) {
            return Err(FetchError::AddressNotAllowed);
        }
        let mut response = self
            .http
            .get(uri)
            .header(
                reqwest::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .send()
            .await
            .map_err(|e| {
                if refused(&e) {
                    FetchError::AddressNotAllowed
                } else {
                    FetchError::Unreachable
                }
            })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Unreachable);
        }
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(FetchError::TooLarge);
        }
        // Read chunk by chunk: a missing or lying Content-Length must not make us buffer more.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| FetchError::Unreachable)?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
