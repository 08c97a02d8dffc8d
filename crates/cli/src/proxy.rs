//! `tessera proxy`: protect any HTTP API without code. A reverse proxy (axum on hyper, reqwest
//! upstream) behind the same `ValidateTokenLayer` a Rust API would use: valid requests are
//! forwarded with the validated identity in `X-Tessera-*` headers the upstream can trust (any
//! such incoming header is stripped first); the rest are refused with RFC 6750 / RFC 9449 errors.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use tessera_core::config::LimitConfig;
use tessera_server::extract::PeerAddr;
use tessera_server::extract::forwarded::TrustedProxies;
use tessera_server::tls::ChainChecker;
use tessera_validate::{RouteScope, TokenClaims, ValidateConfig, ValidateTokenLayer};

/// Largest request or response body forwarded (bodies are buffered).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Headers the proxy sets; never taken from the client.
const SUBJECT: &str = "x-tessera-subject";
const CLIENT_ID: &str = "x-tessera-client-id";
const SCOPE: &str = "x-tessera-scope";

/// Headers that say who the client is and how it connected: a client may send any of them, so
/// they are removed and the proxy's own set (RFC 7239 and the `X-Forwarded-*` convention).
const FORWARDING: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-real-ip",
];

/// RFC 9110 §7.6.1 hop-by-hop headers, never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

#[derive(Args)]
pub struct ProxyArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The protected API, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    upstream: String,
    /// The authorization server's issuer URL (metadata is discovered from it).
    #[arg(long, env = "TESSERA_ISSUER")]
    issuer: String,
    /// This resource server's identifier: tokens must carry it in `aud`.
    #[arg(long)]
    audience: String,
    /// `ROUTE=SCOPE` (ROUTE is `/prefix` or `METHOD /prefix`); repeatable.
    #[arg(long = "require-scope")]
    require_scope: Vec<String>,
    /// The proxy's client id at the issuer (introspection of opaque tokens, revocation feed).
    #[arg(long, env = "TESSERA_PROXY_CLIENT_ID")]
    client_id: Option<String>,
    /// Its client secret.
    #[arg(long, env = "TESSERA_PROXY_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The origin clients use to reach the proxy (for DPoP `htu`), e.g. https://api.example.com.
    #[arg(long)]
    external_origin: Option<String>,
    /// Start without client credentials: no revocation feed, so a revoked JWT is accepted until
    /// it expires, and opaque tokens are refused.
    #[arg(long)]
    insecure_no_revocation: bool,
    /// Allow a plain-http `--upstream` off loopback (validated identities, and with
    /// `--forward-token` the tokens, cross the network in clear).
    #[arg(long)]
    insecure_http_upstream: bool,
    /// Forward the `Authorization` and `DPoP` headers to the upstream (stripped by default).
    #[arg(long)]
    forward_token: bool,
    /// Report `token.used` events to the issuer (needs client credentials).
    #[arg(long)]
    usage_events: bool,
    /// Most verified JWTs kept, so a token sent again skips the signature check (expiry,
    /// revocation, DPoP, certificate and scopes are still checked per request); 0: off.
    #[arg(long, default_value_t = 10_000)]
    jwt_cache: usize,
    /// Seconds a client has for its first request, each request's headers and each body (slow
    /// clients are cut off; a late body gets 408).
    #[arg(long, default_value_t = 30)]
    read_timeout_secs: u64,
    /// Open client connections beyond which new ones are closed at once.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
}

#[derive(Clone)]
struct Upstream {
    http: reqwest::Client,
    base: String,
    forward_token: bool,
    /// How long a request body may take to arrive.
    read_timeout: Duration,
    /// `X-Forwarded-Proto`: the external origin's scheme, else `http` (the proxy listens
    /// without TLS).
    proto: &'static str,
    /// `X-Forwarded-Host`: the external origin's authority, else the request's `Host`.
    host: Option<String>,
}

/// Builds the validation config from the flags.
fn config(args: &ProxyArgs) -> Result<ValidateConfig, String> {
    // One rule for every URL: https, or plain http only on a parsed loopback host.
    use tessera_proto::loopback::{InsecureUrl, https_or_loopback_http};
    match https_or_loopback_http(&args.upstream) {
        Ok(()) => {}
        Err(InsecureUrl::HttpOffLoopback) if args.insecure_http_upstream => {}
        Err(e) => {
            return Err(format!(
                "--upstream {}: {e} (or pass --insecure-http-upstream)",
                args.upstream
            ));
        }
    }
    https_or_loopback_http(&args.issuer).map_err(|e| format!("--issuer {}: {e}", args.issuer))?;
    let mut config = ValidateConfig::new(args.issuer.clone(), args.audience.clone());
    for spec in &args.require_scope {
        config.route_scopes.push(RouteScope::parse(spec)?);
    }
    match (&args.client_id, &args.client_secret) {
        (Some(id), Some(secret)) => config = config.with_client(id, secret),
        (None, None) if args.usage_events => {
            return Err("--usage-events needs --client-id and --client-secret".into());
        }
        // Without credentials there is no revocation feed: a revoked JWT would pass until it
        // expires. That is a choice to make out loud, not a default.
        (None, None) if !args.insecure_no_revocation => {
            return Err(
                "without --client-id and --client-secret (or TESSERA_PROXY_CLIENT_ID, \
                 TESSERA_PROXY_CLIENT_SECRET) the proxy cannot read the revocation feed and would \
                 accept revoked tokens until they expire; give the proxy's client credentials, \
                 or pass --insecure-no-revocation to accept that"
                    .into(),
            );
        }
        (None, None) => {}
        _ => return Err("--client-id and --client-secret go together".into()),
    }
    if let Some(origin) = &args.external_origin {
        config = config.with_external_origin(origin);
    }
    Ok(config
        .with_usage_events(args.usage_events)
        .with_jwt_cache(args.jwt_cache))
}

/// One line naming every check the proxy makes, and those it does not.
fn checks(config: &ValidateConfig) -> String {
    let on_off = |on: bool| if on { "on" } else { "OFF" };
    let with_client = config.client.is_some();
    let routes: Vec<String> = config
        .route_scopes
        .iter()
        .map(|r| match &r.method {
            Some(m) => format!("{m} {}={}", r.prefix, r.scope),
            None => format!("{}={}", r.prefix, r.scope),
        })
        .collect();
    format!(
        "JWT signature: on ({algs}); revocation feed: {feed}; introspection of opaque tokens: {intro}; \
         DPoP: {dpop}; mTLS: OFF (the proxy listens without TLS: certificate-bound tokens are refused); \
         route scopes: {routes}",
        algs = config
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        feed = on_off(with_client && config.revocation_poll.is_some()),
        intro = on_off(with_client),
        dpop = match &config.external_origin {
            Some(origin) => format!("on (htu origin {origin})"),
            None => "OFF (no --external-origin: DPoP-bound tokens are refused)".into(),
        },
        routes = if routes.is_empty() {
            "none".into()
        } else {
            routes.join(", ")
        },
    )
}

pub async fn run(args: ProxyArgs) -> Result<(), String> {
    let config = config(&args)?;
    if config.client.is_none() {
        tracing::warn!("--insecure-no-revocation: revoked tokens are accepted until they expire");
    }
    eprintln!("tessera proxy checks: {}", checks(&config));
    let origin = config.external_origin.clone();
    let layer = ValidateTokenLayer::new(config).await?;
    let upstream =
        Upstream {
            http: reqwest::Client::builder()
                .use_rustls_tls()
                .timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?,
            base: args.upstream.trim_end_matches('/').to_string(),
            proto: origin.as_deref().and_then(|o| o.split_once("://")).map_or(
                "http",
                |(scheme, _)| if scheme == "https" { "https" } else { "http" },
            ),
            host: origin
                .as_deref()
                .and_then(|o| o.split_once("://"))
                .map(|(_, host)| host.to_string()),
            forward_token: args.forward_token,
            read_timeout: Duration::from_secs(args.read_timeout_secs.max(1)),
        };
    let app = Router::new()
        .fallback(forward)
        .with_state(upstream)
        .layer(layer)
        .layer(axum::middleware::map_request(connect_info));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("tessera proxy listening on {addr}");
    // The same hardened accept loop as `tessera serve` (read timeouts, connection limit).
    let limits = LimitConfig {
        read_timeout_secs: args.read_timeout_secs.max(1),
        max_connections: args.max_connections.max(1),
        ..LimitConfig::default()
    };
    let chains = Arc::new(ChainChecker::new(None).map_err(|e| e.to_string())?);
    tokio::select! {
        () = tessera_server::listen::serve(listener, app, None, chains, limits, TrustedProxies::default()) => Ok(()),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Tessera's listener attaches the caller's address as `PeerAddr`; the validation layer (usage
/// events) reads axum's `ConnectInfo`.
async fn connect_info(mut req: Request) -> Request {
    if let Some(PeerAddr(peer)) = req.extensions().get::<PeerAddr>().copied() {
        req.extensions_mut().insert(ConnectInfo(peer));
    }
    req
}

fn bad_gateway(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "upstream request failed");
    (StatusCode::BAD_GATEWAY, "upstream unavailable").into_response()
}

/// Forwards one validated request.
async fn forward(State(up): State<Upstream>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(claims) = parts.extensions.get::<TokenClaims>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The layer checked the route scopes on the path in normal form and handed the request on
    // with it; forward nothing else.
    if tessera_validate::path::normalize(parts.uri.path()).as_deref() != Ok(parts.uri.path()) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let body =
        match tokio::time::timeout(up.read_timeout, axum::body::to_bytes(body, MAX_BODY)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            Err(_) => return StatusCode::REQUEST_TIMEOUT.into_response(),
        };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut headers = parts.headers.clone();
    for h in HOP_BY_HOP {
        headers.remove(h);
    }
    let client_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    headers.remove(header::HOST);
    for h in FORWARDING {
        headers.remove(h);
    }
    // Any other X-Forwarded-* too: none of it can be taken from the client.
    let forwarded_like: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("x-forwarded-"))
        .cloned()
        .collect();
    for h in forwarded_like {
        headers.remove(h);
    }
    headers.remove(header::CONTENT_LENGTH);
    for h in [SUBJECT, CLIENT_ID, SCOPE] {
        headers.remove(h);
    }
    if !up.forward_token {
        headers.remove(header::AUTHORIZATION);
        headers.remove("dpop");
    }
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set(&mut headers, SUBJECT, &claims.subject);
    set(&mut headers, CLIENT_ID, &claims.client_id);
    set(&mut headers, SCOPE, &claims.scope());
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        let ip = peer.ip();
        set(&mut headers, "x-forwarded-for", &ip.to_string());
        let node = match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("\"[{v6}]\""),
        };
        set(
            &mut headers,
            "forwarded",
            &format!("for={node};proto={}", up.proto),
        );
    }
    set(&mut headers, "x-forwarded-proto", up.proto);
    if let Some(host) = up.host.as_deref().or(client_host.as_deref()) {
        set(&mut headers, "x-forwarded-host", host);
    }
    let sent = up
        .http
        .request(parts.method, format!("{}{path_and_query}", up.base))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return bad_gateway(e),
    };
    let status = resp.status();
    let mut out_headers = resp.headers().clone();
    for h in HOP_BY_HOP {
        out_headers.remove(h);
    }
    out_headers.remove(header::CONTENT_LENGTH);
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return bad_gateway(e),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        proxy: ProxyArgs,
    }

    fn config_for(upstream: &str, issuer: &str, extra: &[&str]) -> Result<ValidateConfig, String> {
        // No credentials here: the address rules are what is tested.
        let mut argv = vec![
            "proxy",
            "--insecure-no-revocation",
            "--audience",
            "https://api",
        ];
        argv.extend(["--upstream", upstream]);
        argv.extend(["--issuer", issuer]);
        argv.extend(extra);
        config(&Cli::try_parse_from(argv).unwrap().proxy)
    }

    /// Issue 13, finding 9: upstream and issuer follow the one loopback rule.
    #[test]
    fn upstream_and_issuer_are_https_or_parsed_loopback() {
        let local = "http://127.0.0.1:8080";
        assert!(config_for("http://127.0.0.1:3000", local, &[]).is_ok());
        assert!(config_for("https://api.internal", "https://as.example", &[]).is_ok());
        for bad in [
            "http://127.attacker.example",
            "http://localhost.attacker.example",
            "http://127.0.0.1@evil.example",
            "http://0x7f.1",
        ] {
            let up = config_for(bad, local, &[]).err().unwrap();
            assert!(up.contains("loopback"), "{bad}: {up}");
            let iss = config_for(local, bad, &[]).err().unwrap();
            assert!(iss.contains("loopback"), "{bad}: {iss}");
        }
        assert!(config_for("http://api:3000", local, &["--insecure-http-upstream"]).is_ok());
        assert!(config_for("ftp://api", local, &["--insecure-http-upstream"]).is_err());
    }
}
