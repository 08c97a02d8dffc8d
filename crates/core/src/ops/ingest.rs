//! Event ingestion for resource servers that do not run `tessera-validate` in-process with the
//! server: they report each token use as a `token.used` event, in batches, and the events enter
//! the audit trail — and the live monitor — marked as reported.
//!
//! A reporter is a registered resource server (`--resource-uri`) holding `tessera:events`, and
//! it may only report uses of tokens addressed to it. It names the token by sending the token
//! itself (`token`, as presented to it — never stored): the server resolves it, keeps the use
//! only when the token's `aud` is one of the reporter's resource URIs, and fills in `token_id`,
//! `client_id`, `scope` and `resource` from the token, never from the report. A use with no
//! token (a request that carried none) keeps only its request facts. The reporter is named in
//! `reported_by`; the presenter (`caller_id`) and its address (`ip`) are kept as reported.
//! Reported evidence raises alerts but acts (revokes, disables) only when the reporter also
//! holds `tessera:events:act` ([`Provenance`]).
use std::collections::BTreeMap;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tessera_proto::{OAuthError, Secret};

use super::admin::{ADMIN_SCOPE, EVENTS_ACT_SCOPE, EVENTS_SCOPE, require_any_scope};
use crate::audit::{AuditEvent, EventKind, Provenance};
use crate::authority::Authority;
use crate::client::Client;
use crate::resolve::{Resolved, resolve};

/// Most events in one request.
pub const MAX_EVENTS: usize = 1000;

/// A reported `time` may run ahead of this server's clock by this much (clock skew), ms. A time
/// further ahead would let a reporter place evidence where a detector's window cannot see it.
pub const MAX_FUTURE_MS: u64 = 60_000;

/// A reported `time` may lie this far in the past, ms: reporters send within seconds; older
/// evidence would land outside every detector's window or rewrite history.
pub const MAX_AGE_MS: u64 = 3_600_000;

/// One reported use: a `token.used` event in the docs/events.md schema plus the token itself.
#[derive(Debug, Deserialize)]
pub struct ReportedUse {
    /// The token the use was made with, as the resource server received it: resolved, never
    /// stored, never printed; absent when the request carried none.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The event; its token facts are replaced by the resolved token's.
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// The request body: `{"events": [ReportedUse, …]}`.
#[derive(Debug, Deserialize)]
pub struct EventBatch {
    /// The reported uses.
    pub events: Vec<ReportedUse>,
}

/// Why a reported use was not recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dropped {
    /// The token is not one of ours (unknown, forged, malformed) or is a refresh token.
    UnknownToken,
    /// The token is ours but addressed to another resource.
    NotAddressedToReporter,
    /// `time` is too far ahead of this server's clock.
    TimeInFuture,
    /// `time` is too far in the past.
    TimeTooOld,
}

/// What happened to a batch.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Uses recorded.
    pub accepted: usize,
    /// Uses not recorded, by reason (absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<Dropped, usize>,
}

/// The token facts the server vouches for.
#[derive(Clone)]
struct Facts {
    token_id: Option<String>,
    client_id: String,
    scope: String,
    audience: Option<String>,
}

async fn facts(authority: &Authority, token: &str) -> Result<Option<Facts>, OAuthError> {
    Ok(match resolve(authority, token).await? {
        Resolved::Opaque(t) => Some(Facts {
            token_id: Some(crate::token_id::opaque(t.id, &t.hash)),
            client_id: t.client_id,
            scope: t.scope,
            audience: t.audience,
        }),
        Resolved::Jwt(c) => Some(Facts {
            token_id: Some(c.jti),
            client_id: c.client_id,
            scope: c.scope,
            audience: Some(c.aud),
        }),
        // A refresh token is never presented to a resource server.
        Resolved::Refresh(_) | Resolved::Unknown => None,
    })
}

/// Records a batch reported by `caller`. The batch's shape is all or nothing (one event of
/// another type, or too many, refuses it whole); each use is then judged on its own — a use
/// of a token not addressed to the reporter, or out of the time window, is dropped and counted.
pub async fn ingest(
    authority: &Authority,
    caller: &Client,
    batch: EventBatch,
) -> Result<Outcome, OAuthError> {
    require_any_scope(caller, &[ADMIN_SCOPE, EVENTS_SCOPE])?;
    if batch.events.len() > MAX_EVENTS {
        return Err(OAuthError::invalid_request(format!(
            "too many events in one request (at most {MAX_EVENTS})"
        )));
    }
    if let Some(i) = batch
        .events
        .iter()
        .position(|e| e.event.kind != EventKind::TokenUsed)
    {
        return Err(OAuthError::invalid_request(format!(
            "events[{i}]: only token.used events may be reported"
        )));
    }
    let provenance = if caller.scopes.iter().any(|s| s == EVENTS_ACT_SCOPE) {
        Provenance::ReportedTrusted
    } else {
        Provenance::Reported
    };
    let now_ms = authority.clock().now_ms();
    let mut outcome = Outcome::default();
    // One batch often reports one token many times: resolve each once.
    let mut resolved: HashMap<String, Option<Facts>> = HashMap::new();
    for ReportedUse { token, mut event } in batch.events {
        let verdict = if event.time_ms > now_ms.saturating_add(MAX_FUTURE_MS) {
            Err(Dropped::TimeInFuture)
        } else if event.time_ms < now_ms.saturating_sub(MAX_AGE_MS) {
            Err(Dropped::TimeTooOld)
        } else {
            match token {
                None => Ok(None),
                Some(token) => {
                    let token = token.expose_secret();
                    let f = match resolved.get(token) {
                        Some(f) => f.clone(),
                        None => {
                            let f = facts(authority, token).await?;
                            resolved.insert(token.to_string(), f.clone());
                            f
                        }
                    };
                    match f {
                        None => Err(Dropped::UnknownToken),
                        Some(f)
                            if f.audience
                                .as_deref()
                                .is_some_and(|a| caller.is_resource_server_for(a)) =>
                        {
                            Ok(Some(f))
                        }
                        Some(_) => Err(Dropped::NotAddressedToReporter),
                    }
                }
            }
        };
        match verdict {
            Err(reason) => *outcome.dropped.entry(reason).or_default() += 1,
            Ok(facts) => {
                // The token facts come from the token alone; a use without a token names none.
                event.token_id = None;
                event.client_id = None;
                event.scope = None;
                event.resource = None;
                if let Some(f) = facts {
                    event.token_id = f.token_id;
                    event.client_id = Some(f.client_id);
                    event.scope = Some(f.scope);
                    event.resource = f.audience;
                } else {
                    event.caller_id = None;
                }
                event.reported_by = Some(caller.id.clone());
                event.provenance = provenance;
                authority.record(event).await;
                outcome.accepted += 1;
            }
        }
    }
    if outcome.accepted > 0 {
        // The answer counts the accepted events: they are committed before it leaves (one
        // group commit for the whole batch), so a reporter never drops evidence it was told
        // is stored.
        authority.store().flush_events().await?;
    }
    if !outcome.dropped.is_empty() {
        tracing::info!(
            reporter = caller.id.as_str(),
            dropped = ?outcome.dropped,
            "reported token uses dropped"
        );
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_token_never_shows_in_debug() {
        let batch: EventBatch = serde_json::from_str(
            r#"{"events":[{"type":"token.used","time":"2026-01-01T00:00:00Z","token":"tsr_at_secret"}]}"#,
        )
        .unwrap();
        let text = format!("{batch:?}");
        assert!(
            !text.contains("tsr_at_secret") && text.contains("redacted"),
            "{text}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_json_body_parses_or_fails_without_panicking(s in "\\PC{0,200}") {
            let _ = serde_json::from_str::<EventBatch>(&s);
        }

        #[test]
        fn event_shaped_bodies_never_panic(
            time in "\\PC{0,40}",
            token in proptest::option::of("\\PC{0,80}"),
            ip in "\\PC{0,40}",
        ) {
            let body = serde_json::json!({"events": [{
                "type": "token.used", "time": time, "token": token, "ip": ip,
            }]});
            let _ = serde_json::from_value::<EventBatch>(body);
        }
    }
}
