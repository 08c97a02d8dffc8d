//! Pushed authorization requests (RFC 9126): a client authenticates and posts its authorization
//! request to `POST /par`; the request is validated exactly as `GET /authorize` validates it and
//! stored, bound to the client, under a fresh `request_uri`. The user agent is then sent to
//! `/authorize` with only `client_id` and that `request_uri`, which [`take`] redeems once.
//!
//! The request's parameters never travel through the browser, so they can be neither read nor
//! altered there, and errors go straight back to the client as JSON (§2.3) instead of through a
//! redirect. A pushed request is a row of the pending-authorization store with the pushing
//! client's id on it (the login forms' rows have none, and neither kind can stand for the other).
use tessera_proto::{ErrorCode, OAuthError, SecretHash};

use super::{AuthorizationRequest, random_id, resolve_redirect_uri, validate};
use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::client::Client;
use crate::client_auth::{self, PresentedCredentials};
use crate::params::Params;

/// Where clients push (RFC 9126 §5 `pushed_authorization_request_endpoint`).
pub const PATH: &str = "/par";

/// RFC 9126 §2.2: the `request_uri` is a URN of this form (the suffix is 256 random bits).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Seconds a `request_uri` stays valid (RFC 9126 §2.2 `expires_in`; §7.3 advises a short
/// lifetime, and the user agent is redirected right after the push).
pub const LIFETIME: u64 = 60;

/// A successful push (RFC 9126 §2.2). No `Debug`: the `request_uri` stands for the request
/// until it is used.
pub struct Pushed {
    /// The single-use reference to the stored request.
    pub request_uri: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

/// Handles `POST /par`: client authentication as at the token endpoint (RFC 9126 §2: "the
/// same rules for client authentication as would be applied for the token endpoint"; a public
/// client identifies itself with `client_id` alone), then the authorization request's own
/// checks. Errors are the token endpoint's JSON errors (§2.3).
#[tracing::instrument(level = "debug", skip_all, fields(client_id))]
pub async fn push(
    authority: &Authority,
    presented: &PresentedCredentials,
    params: &Params,
    ctx: &RequestContext,
) -> Result<Pushed, OAuthError> {
    let client = client_auth::authenticate(authority, presented, ctx).await?;
    tracing::Span::current().record("client_id", client.id.as_str());
    let request = check(&client, params)?;
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_id());
    let body = serde_json::to_string(&request).expect("a request serialises");
    let now = authority.clock().now();
    let stored = authority
        .store()
        .insert_pushed_authorization(
            SecretHash::of(request_uri.as_bytes()),
            &client.id,
            body,
            now + LIFETIME,
            now,
            authority.config().par.max_per_client,
        )
        .await?;
    if !stored {
        tracing::warn!(client_id = %client.id, "par.max_per_client reached: push refused");
        // RFC 9126 §2.3: 429 when the client sends too many requests (the edge sets it).
        return Err(OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "too many pushed authorization requests are open for this client: use or let some expire",
        ));
    }
    Ok(Pushed {
        request_uri,
        expires_in: LIFETIME,
    })
}

/// The pushed request's own checks, all answered as JSON to the authenticated client.
fn check(client: &Client, params: &Params) -> Result<AuthorizationRequest, OAuthError> {
    // RFC 9126 §2.1: "The request_uri authorization request parameter is one exception, and it
    // MUST NOT be provided."
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed (RFC 9126 §2.1)",
        ));
    }
    // The authenticated client is the request's client: a different `client_id` in the body
    // is a contradiction, not a second identity.
    if let Some(id) = params.get("client_id")?
        && id != client.id
    {
        return Err(OAuthError::invalid_request(
            "client_id does not match the authenticated client",
        ));
    }
    let (redirect_uri, sent) =
        resolve_redirect_uri(client, params).map_err(OAuthError::invalid_request)?;
    let state = params.get("state")?.map(str::to_string);
    validate(client, params, redirect_uri, sent, state)
}

/// Redeems `request_uri` for `client`: the pushed request, once (RFC 9126 §2.2: the request
/// URI "MUST be bound to the client that posted the authorization request" and is "a
/// single-use reference"). Unknown, expired, used or another client's: `invalid_request_uri`
/// (RFC 9101 §7), shown on the error page — nothing in it may be trusted to redirect to.
pub(super) async fn take(
    authority: &Authority,
    client: &Client,
    request_uri: &str,
) -> Result<Result<AuthorizationRequest, OAuthError>, OAuthError> {
    let now = authority.clock().now();
    let body = authority
        .store()
        .take_pushed_authorization(SecretHash::of(request_uri.as_bytes()), &client.id, now)
        .await?;
    let Some(body) = body else {
        return Ok(Err(OAuthError::new(
            ErrorCode::InvalidRequestUri,
            "the request_uri is unknown, expired, already used or was pushed by another client",
        )));
    };
    let request: AuthorizationRequest = serde_json::from_str(&body)
        .map_err(|e| OAuthError::server_error(format!("corrupt pushed authorization: {e}")))?;
    Ok(Ok(request))
}
