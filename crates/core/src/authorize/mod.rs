//! The authorization endpoint (RFC 6749 §4.1.1) with PKCE (RFC 7636), resource indicators
//! (RFC 8707), `dpop_jkt` (RFC 9449 §10) and `iss` in the response (RFC 9207).
//!
//! Until the client and its redirection URI are trusted, every error is shown to the user on an
//! error page and never redirected (RFC 6749 §4.1.2.1, the open-redirector rule of RFC 9700
//! §4.11); after that, errors go back to the client as a redirect carrying `error`, `state` and
//! `iss`. A valid request becomes a *pending authorization*, stored server-side under a random
//! single-use id that the login form carries in a hidden field (the form's CSRF protection).
//!
//! A request may also have been pushed beforehand (RFC 9126, `par`): then `/authorize` carries
//! only `client_id` and `request_uri`, and the pushed request stands in for the query.
pub mod flood;
pub mod login;
pub mod par;
pub mod pkce;
pub mod throttle;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use tessera_proto::{ErrorCode, OAuthError, Secret};

use crate::authority::Authority;
use crate::client::{Client, GrantType};
use crate::params::Params;
use crate::policy;

/// How long (seconds) a user has to fill in the login form.
pub const PENDING_TTL: u64 = 600;

/// Longest accepted `GET /authorize` query, in bytes: bounds what one pending request stores
/// (`state` and `scope` are the client's own, of any length otherwise).
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// A validated authorization request, waiting for the user's login and consent.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// Where the response goes (a registered URI, exactly).
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri` (then the token request must repeat it,
    /// RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The scope granted if the user allows it.
    pub scope: String,
    /// The one audience of the tokens.
    pub audience: String,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// RFC 7636 S256 challenge.
    pub code_challenge: String,
    /// RFC 9449 §10: the thumbprint the token request's DPoP key must have.
    pub dpop_jkt: Option<String>,
}

/// What the user is asked to approve, for the login page.
#[derive(Clone, Debug)]
pub struct Consent {
    /// The hidden form field naming the pending request (random, single use). A capability
    /// (whoever holds it may complete the login), hence a `Secret`.
    pub request_id: Secret,
    /// The client's human name.
    pub client_name: String,
    /// The client id.
    pub client_id: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

/// What the authorization endpoint answers.
#[derive(Debug)]
pub enum AuthorizeStep {
    /// Show the login and consent form.
    Login(Consent),
    /// Redirect the user agent to this URL (a response to the client).
    Redirect(String),
    /// Show an error page (400); the client or its redirection URI is not trusted.
    ErrorPage(OAuthError),
    /// Show an error page (429): too many login forms are open, from this address or in all
    /// (`flood`).
    TooMany(OAuthError),
}

/// A 256-bit random string in base64url (request ids, grant families).
pub(crate) fn random_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 6749 §4.1.2 / §4.1.2.1 and RFC 9207 §2: `redirect_uri` plus the response parameters
/// in its query, keeping any query the registered URI already has.
pub fn response_url(
    authority: &Authority,
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_string();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", authority.issuer());
    }
    url.to_string()
}

/// The error redirect of RFC 6749 §4.1.2.1.
pub fn error_redirect(
    authority: &Authority,
    request_redirect: &str,
    state: Option<&str>,
    error: &OAuthError,
) -> String {
    response_url(
        authority,
        request_redirect,
        &[
            ("error", error.code.as_str()),
            ("error_description", &error.description),
        ],
        state,
    )
}

fn page(description: &'static str) -> AuthorizeStep {
    AuthorizeStep::ErrorPage(OAuthError::invalid_request(description))
}

/// RFC 7636 §4.1: `code_verifier`/`code_challenge` characters are `[A-Z] / [a-z] / [0-9] / "-"
/// / "." / "_" / "~"`, 43 to 128 of them.
pub(crate) fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Handles `GET /authorize`.
#[tracing::instrument(level = "debug", skip_all, fields(client_id))]
pub async fn authorize(
    authority: &Authority,
    params: &Params,
    ip: Option<IpAddr>,
) -> Result<AuthorizeStep, OAuthError> {
    // 1. The client and the redirection URI, before anything may be redirected.
    let client_id = match params.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(page("client_id is missing")),
        Err(_) => return Ok(page("client_id is included more than once")),
    };
    tracing::Span::current().record("client_id", client_id);
    let client = match authority.client(client_id).await? {
        Some(c) if !c.disabled => c,
        _ => return Ok(page("unknown client")),
    };
    // RFC 9126 §4: a pushed request replaces the query's parameters (only `client_id`, to find
    // the client, is read besides `request_uri`; the rest of the query is ignored).
    match params.get("request_uri") {
        Err(_) => return Ok(page("request_uri is included more than once")),
        Ok(Some(uri)) => {
            return match par::take(authority, &client, uri).await? {
                Ok(request) => open_login(authority, &client, request, ip).await,
                Err(e) => Ok(AuthorizeStep::ErrorPage(e)),
            };
        }
        Ok(None) => {}
    }
    // RFC 9126 §5 and §6: the server or this client requires pushed requests.
    if client.require_par || authority.config().par.require_pushed_authorization_requests {
        return Ok(page(
            "this client must push its authorization request to the pushed authorization request endpoint first (RFC 9126)",
        ));
    }
    let (redirect_uri, sent) = match resolve_redirect_uri(&client, params) {
        Ok(r) => r,
        Err(description) => return Ok(page(description)),
    };
    // From here on, errors go back to the client. `state` first, so they can carry it.
    let state = match params.get("state") {
        Ok(s) => s.map(str::to_string),
        Err(e) => {
            return Ok(AuthorizeStep::Redirect(error_redirect(
                authority,
                &redirect_uri,
                None,
                &e,
            )));
        }
    };
    match validate(&client, params, redirect_uri.clone(), sent, state.clone()) {
        Ok(request) => open_login(authority, &client, request, ip).await,
        Err(e) => Ok(AuthorizeStep::Redirect(error_redirect(
            authority,
            &redirect_uri,
            state.as_deref(),
            &e,
        ))),
    }
}

/// Stores a validated request as a pending login form and shows the form.
async fn open_login(
    authority: &Authority,
    client: &Client,
    request: AuthorizationRequest,
    ip: Option<IpAddr>,
) -> Result<AuthorizeStep, OAuthError> {
    let request_id = Secret::new(random_id());
    let scopes = request
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !flood::admit(authority, ip).await? {
        return Ok(AuthorizeStep::TooMany(flood::too_many(
            "too many sign-in requests from your network: try again in a minute",
        )));
    }
    let body = serde_json::to_string(&request).expect("a request serialises");
    let now = authority.clock().now();
    let stored = authority
        .store()
        .insert_pending_authorization(
            request_id.hash(),
            body,
            now + PENDING_TTL,
            now,
            authority.config().login.max_pending,
        )
        .await?;
    if !stored {
        tracing::warn!("login.max_pending reached: sign-in forms refused");
        return Ok(AuthorizeStep::TooMany(flood::too_many(
            "too many sign-in requests are open right now: try again in a few minutes",
        )));
    }
    Ok(AuthorizeStep::Login(Consent {
        request_id,
        client_name: client.name.clone(),
        client_id: client.id.clone(),
        scopes,
    }))
}

/// The client's redirection URI for this request; `Err` describes why none can be trusted.
pub(crate) fn resolve_redirect_uri(
    client: &Client,
    params: &Params,
) -> Result<(String, bool), &'static str> {
    match params.get("redirect_uri") {
        Err(_) => Err("redirect_uri is included more than once"),
        // RFC 9700 §2.1: exact string matching against the registered URIs.
        Ok(Some(uri)) if client.redirect_uris.iter().any(|r| r == uri) => {
            Ok((uri.to_string(), true))
        }
        Ok(Some(_)) => {
            Err("redirect_uri does not match any redirection URI registered for this client")
        }
        // RFC 6749 §3.1.2.3: it may be omitted only when exactly one is registered.
        Ok(None) => match client.redirect_uris.as_slice() {
            [only] => Ok((only.clone(), false)),
            [] => Err("this client has no registered redirection URI"),
            _ => Err("redirect_uri is required: this client registered several"),
        },
    }
}

/// The rest of the request, once the redirection URI is trusted.
pub(crate) fn validate(
    client: &Client,
    params: &Params,
    redirect_uri: String,
    redirect_uri_sent: bool,
    state: Option<String>,
) -> Result<AuthorizationRequest, OAuthError> {
    // RFC 6749 §4.1.1: response_type=code.
    match params.get("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ));
    }
    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE with S256, for every client.
    let challenge = params.get("code_challenge")?.ok_or_else(|| {
        OAuthError::invalid_request("code_challenge is required (PKCE, RFC 7636)")
    })?;
    match params.get("code_challenge_method")? {
        Some("S256") => {}
        None | Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256 (plain is not supported)",
            ));
        }
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "transform algorithm not supported: use code_challenge_method=S256",
            ));
        }
    }
    // An S256 challenge is the base64url of a SHA-256: exactly 43 characters.
    if challenge.len() != 43 || !is_pkce_string(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be the 43-character base64url S256 of the code_verifier",
        ));
    }
    let scope = policy::scope::grant(client, params.get("scope")?)?;
    let audience = policy::audience::select(client, &params.all("resource"))?;
    // RFC 9449 §10: a JWK SHA-256 thumbprint, base64url, 43 characters.
    let dpop_jkt = params.get("dpop_jkt")?;
    if let Some(jkt) = dpop_jkt
        && (jkt.len() != 43
            || !jkt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(OAuthError::invalid_request(
            "dpop_jkt must be a base64url JWK SHA-256 thumbprint",
        ));
    }
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_uri_sent,
        scope,
        audience,
        state,
        code_challenge: challenge.to_string(),
        dpop_jkt: dpop_jkt.map(str::to_string),
    })
}
