//! The login and consent form's submission (`POST /login`): the pending request named by the
//! hidden `request` field, the user's name and password, and "allow" or "deny". Allow with a
//! good password issues the authorization code (RFC 6749 §4.1.2); deny answers `access_denied`.
//! A wrong password shows the form again with one generic message: no user enumeration. Too
//! many failures lock the name or address out for a while (`throttle`); passwords are checked
//! a bounded number at a time (`crate::password_gate`).
use tessera_proto::{ErrorCode, OAuthError, Secret, SecretHash, TokenKind, TokenString};

use super::throttle::{LOCKED_OUT, LoginKeys};
use super::{AuthorizationRequest, Consent, error_redirect, random_id, response_url};
use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::params::Params;
use crate::password_gate::Checked;
use crate::store::AuthorizationCodeRecord;
use crate::user;

/// The one message for every failed login.
pub const LOGIN_FAILED: &str = "Wrong user name or password.";
/// The message when every password-check slot stayed busy.
pub const BUSY: &str = "Too many people are signing in right now. Try again in a moment.";

/// What the login form's submission answers. No `Debug`: a redirect may carry a fresh code.
pub enum LoginStep {
    /// Redirect the user agent to the client (a code or an error).
    Redirect(String),
    /// Show the form again with a message (the pending request stays usable).
    Retry(Consent, &'static str),
    /// Show the form again with [`BUSY`]: no password-check slot freed up in time, the
    /// password was not checked and the attempt not counted.
    Busy(Consent),
    /// Show an error page (400): the form is missing, expired or was already used.
    ErrorPage(OAuthError),
}

fn stale() -> LoginStep {
    LoginStep::ErrorPage(OAuthError::invalid_request(
        "this login form has expired or was already used: start again from the application",
    ))
}

/// Handles one submission of the login form.
#[tracing::instrument(level = "debug", skip_all, fields(client_id))]
pub async fn login(
    authority: &Authority,
    params: &Params,
    ctx: &RequestContext,
) -> Result<LoginStep, OAuthError> {
    let Ok(Some(request_id)) = params.get("request") else {
        return Ok(stale());
    };
    let id = SecretHash::of(request_id.as_bytes());
    let now = authority.clock().now();
    let Some(body) = authority.store().get_pending_authorization(id, now).await? else {
        return Ok(stale());
    };
    let request: AuthorizationRequest = serde_json::from_str(&body)
        .map_err(|e| OAuthError::server_error(format!("corrupt pending authorization: {e}")))?;
    tracing::Span::current().record("client_id", request.client_id.as_str());
    let Some(client) = authority
        .client(&request.client_id)
        .await?
        .filter(|c| !c.disabled)
    else {
        return Ok(LoginStep::ErrorPage(OAuthError::invalid_request(
            "unknown client",
        )));
    };
    let consent = Consent {
        request_id: Secret::new(request_id),
        client_name: client.name.clone(),
        client_id: client.id.clone(),
        scopes: request
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let mut event_base = ctx.event(EventKind::AuthorizationDenied, authority.clock().now_ms());
    event_base.client_id = Some(client.id.clone());
    event_base.scope = Some(request.scope.clone());
    event_base.resource = Some(request.audience.clone());

    match params.get("action").ok().flatten() {
        Some("deny") => {
            if !authority
                .store()
                .consume_pending_authorization(id, now)
                .await?
            {
                return Ok(stale());
            }
            authority.record_durable(event_base).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            Ok(LoginStep::Redirect(error_redirect(
                authority,
                &request.redirect_uri,
                request.state.as_deref(),
                &error,
            )))
        }
        Some("allow") => {
            let username = params.get("username").ok().flatten().unwrap_or("");
            let password = params.get("password").ok().flatten().unwrap_or("");
            let subject: String = username.chars().take(user::MAX_USERNAME).collect();
            // The attempt is counted before the password is checked (see `throttle`).
            let admission = match LoginKeys::new(authority, username, ctx.ip)
                .reserve(authority)
                .await?
            {
                Ok(admission) => admission,
                Err(which) => {
                    let mut event = event_base;
                    event.kind = EventKind::UserLoginLocked;
                    event.subject = Some(subject);
                    event.reason = Some(which.as_str().into());
                    authority.record(event).await;
                    return Ok(LoginStep::Retry(consent, LOCKED_OUT));
                }
            };
            let candidate = if user::valid_username(username) {
                authority.store().get_user(username).await?
            } else {
                None
            };
            let user = match authority.password_gate().check(candidate, password).await {
                Checked::Match(user) => user,
                Checked::NoMatch => {
                    let mut event = event_base;
                    event.kind = EventKind::UserLoginFailed;
                    event.subject = Some(subject);
                    authority.record(event).await;
                    admission.failed(authority);
                    return Ok(LoginStep::Retry(consent, LOGIN_FAILED));
                }
                Checked::Busy => {
                    admission.refund(authority).await?;
                    return Ok(LoginStep::Busy(consent));
                }
            };
            admission.succeeded(authority).await?;
            // Single use: of two submissions of one form, one wins.
            if !authority
                .store()
                .consume_pending_authorization(id, now)
                .await?
            {
                return Ok(stale());
            }
            let code = TokenString::generate_random(TokenKind::AuthorizationCode);
            let record = AuthorizationCodeRecord {
                hash: code.hash(),
                family: random_id(),
                client_id: client.id.clone(),
                subject: user.username.clone(),
                scope: request.scope.clone(),
                audience: request.audience.clone(),
                redirect_uri: request
                    .redirect_uri_sent
                    .then(|| request.redirect_uri.clone()),
                code_challenge: request.code_challenge.clone(),
                dpop_jkt: request.dpop_jkt.clone(),
                issued_at: now,
                expires_at: now + authority.config().tokens.code_ttl,
                used_at: None,
            };
            authority.store().insert_authorization_code(record).await?;
            let mut event = event_base;
            event.kind = EventKind::AuthorizationGranted;
            event.subject = Some(user.username);
            authority.record_durable(event).await?;
            Ok(LoginStep::Redirect(response_url(
                authority,
                &request.redirect_uri,
                &[("code", code.expose_secret())],
                request.state.as_deref(),
            )))
        }
        _ => Ok(LoginStep::Retry(consent, "Choose Allow or Deny.")),
    }
}
