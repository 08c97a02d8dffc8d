//! The audit event: every issuance, introspection, revocation and failed authentication is a
//! typed [`AuditEvent`] with a `noun.verb` name. Events are the monitor's input, and resource
//! servers report `token.used` in the same shape (`tessera-validate`), so the type lives here,
//! where both sides reach it without the authorization server; the JSON schema is documented in
//! docs/events.md.
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What happened, named `noun.verb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// An access token was issued.
    #[serde(rename = "token.issued")]
    TokenIssued,
    /// A token was introspected (whatever the answer).
    #[serde(rename = "token.introspected")]
    TokenIntrospected,
    /// A token was revoked.
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    /// A client failed to authenticate.
    #[serde(rename = "client.authentication_failed")]
    ClientAuthenticationFailed,
    /// A client was registered.
    #[serde(rename = "client.created")]
    ClientCreated,
    /// A client was changed (enabled, disabled, settings).
    #[serde(rename = "client.updated")]
    ClientUpdated,
    /// A client was deleted.
    #[serde(rename = "client.deleted")]
    ClientDeleted,
    /// A client's secret was rotated.
    #[serde(rename = "client.secret_rotated")]
    ClientSecretRotated,
    /// A signing key was generated and published as `next` (it signs later).
    #[serde(rename = "key.created")]
    KeyCreated,
    /// A signing key became current (it signs new tokens from now on).
    #[serde(rename = "key.rotated")]
    KeyRotated,
    /// A current signing key stopped signing; it stays published until its tokens expire.
    #[serde(rename = "key.retired")]
    KeyRetired,
    /// A signing key was revoked: unpublished at once, its tokens inactive.
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    /// A retired or revoked key was removed from the store (its tokens have all expired).
    #[serde(rename = "key.removed")]
    KeyRemoved,
    /// A resource server accepted or refused a token (reported by `tessera-validate` / the proxy).
    #[serde(rename = "token.used")]
    TokenUsed,
    /// A refresh token was presented again after rotation (a theft signal).
    #[serde(rename = "refresh_token.reused")]
    RefreshTokenReused,
    /// An authorization code was presented again after redemption; every token issued from it
    /// was revoked (RFC 6749 §4.1.2).
    #[serde(rename = "authorization_code.reused")]
    AuthorizationCodeReused,
    /// A user approved an authorization request on the login page; a code was issued.
    #[serde(rename = "authorization.granted")]
    AuthorizationGranted,
    /// A user denied an authorization request.
    #[serde(rename = "authorization.denied")]
    AuthorizationDenied,
    /// A login on the built-in login page failed (unknown user, wrong password, disabled user:
    /// the reason is not recorded apart, as it is not shown).
    #[serde(rename = "user.login_failed")]
    UserLoginFailed,
    /// A login was refused unchecked because its user name or address is locked out after too
    /// many failures (`[login]`); `reason` says which (`user` or `ip`).
    #[serde(rename = "user.login_locked")]
    UserLoginLocked,
    /// The CLI created, disabled, enabled, deleted or unlocked a user or set its password;
    /// `reason` says which.
    #[serde(rename = "user.changed")]
    UserChanged,
    /// RFC 8693: a client exchanged a subject token for a delegated (or, for a client registered
    /// with `--allow-impersonation`, impersonating) token; `token_id` is the new token,
    /// `subject_token_id` the one exchanged, `actor_chain` the `act` chain, current actor first.
    #[serde(rename = "token.exchanged")]
    TokenExchanged,
    /// A token or secret was found leaked (by `tessera scan`).
    #[serde(rename = "token.leaked")]
    TokenLeaked,
    /// The monitor raised an alert.
    #[serde(rename = "alert.raised")]
    AlertRaised,
    /// The retention janitor deleted expired rows or old events (only recorded when it did).
    #[serde(rename = "janitor.swept")]
    JanitorSwept,
}

impl EventKind {
    /// The `noun.verb` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::TokenIssued => "token.issued",
            Self::TokenIntrospected => "token.introspected",
            Self::TokenRevoked => "token.revoked",
            Self::ClientAuthenticationFailed => "client.authentication_failed",
            Self::ClientCreated => "client.created",
            Self::ClientUpdated => "client.updated",
            Self::ClientDeleted => "client.deleted",
            Self::ClientSecretRotated => "client.secret_rotated",
            Self::KeyCreated => "key.created",
            Self::KeyRotated => "key.rotated",
            Self::KeyRetired => "key.retired",
            Self::KeyRevoked => "key.revoked",
            Self::KeyRemoved => "key.removed",
            Self::TokenUsed => "token.used",
            Self::RefreshTokenReused => "refresh_token.reused",
            Self::AuthorizationCodeReused => "authorization_code.reused",
            Self::AuthorizationGranted => "authorization.granted",
            Self::AuthorizationDenied => "authorization.denied",
            Self::UserLoginFailed => "user.login_failed",
            Self::UserLoginLocked => "user.login_locked",
            Self::UserChanged => "user.changed",
            Self::TokenExchanged => "token.exchanged",
            Self::TokenLeaked => "token.leaked",
            Self::AlertRaised => "alert.raised",
            Self::JanitorSwept => "janitor.swept",
        }
    }
}

/// Where an event's facts come from: what this server observed itself, or what a resource
/// server reported through `POST /admin/events`. The monitor alerts on both, but only acts on its
/// own (revokes, disables) on reported evidence when the reporter is trusted for that
/// (`tessera:events:act`): anyone holding `tessera:events` can otherwise make the monitor revoke.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Recorded by this server (absent from the JSON).
    #[default]
    Observed,
    /// Ingested from a reporter holding `tessera:events`: evidence for alerts, never for
    /// automatic actions.
    Reported,
    /// Ingested from a reporter that also holds `tessera:events:act`: may trigger actions.
    ReportedTrusted,
}

impl Provenance {
    /// Whether the monitor may act on its own on this evidence.
    pub const fn may_act(self) -> bool {
        matches!(self, Self::Observed | Self::ReportedTrusted)
    }

    fn is_observed(&self) -> bool {
        *self == Self::Observed
    }
}

/// One audit event. Never holds a token or a secret: tokens are named by `token_id` (the JWT's
/// `jti`, or an opaque token's selector), never by value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The event's `noun.verb` name.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it happened, milliseconds since the epoch (serialised as RFC 3339 in `time`).
    #[serde(rename = "time", with = "rfc3339_ms")]
    pub time_ms: u64,
    /// The client the event is about: the token's owner, or the client that failed to authenticate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// The authenticated client that made the request, when it is not `client_id` (an
    /// introspection by a resource server, say).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub caller_id: Option<String>,
    /// The authenticated client that reported the event through `POST /admin/events` (a
    /// resource server), set by the server and never taken from the report: kept apart from
    /// `caller_id`, which names the client that presented the token.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reported_by: Option<String>,
    /// Observed here, or reported (and whether the reporter is trusted to trigger actions); set
    /// by the server on ingestion, never taken from the report.
    #[serde(skip_serializing_if = "Provenance::is_observed", default)]
    pub provenance: Provenance,
    /// The token's identifier (JWT `jti` or opaque selector); never the token itself.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token_id: Option<String>,
    /// Space-separated scope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
    /// The RFC 8707 resource (audience) of the token.
    #[serde(skip_serializing_if = "Option::is_none", default, alias = "audience")]
    pub resource: Option<String>,
    /// The caller's IP address.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<IpAddr>,
    /// The caller's User-Agent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_agent: Option<String>,
    /// The outcome or reason, short and machine-readable (e.g. `unknown_client`, `active`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Token format (`jwt` or `opaque`) or key algorithm, where it applies.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub format: Option<String>,
    /// The resource owner (user name) of a login or authorization event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    /// HTTP method of a `token.used` request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub method: Option<String>,
    /// Path (template) of a `token.used` request, or a leak's location for `token.leaked`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// For `janitor.swept`: rows deleted, by table (`access_tokens`, `events`, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deleted: Option<BTreeMap<String, u64>>,
    /// For `token.exchanged`: the id of the subject token that was exchanged (never its value).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject_token_id: Option<String>,
    /// For `token.exchanged`: the new token's actors (RFC 8693 `act`), current actor first;
    /// empty for an impersonation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor_chain: Option<Vec<String>>,
}

impl AuditEvent {
    /// An event of `kind` at `time_ms` with every optional field empty.
    pub fn new(kind: EventKind, time_ms: u64) -> Self {
        Self {
            kind,
            time_ms,
            client_id: None,
            caller_id: None,
            reported_by: None,
            provenance: Provenance::Observed,
            token_id: None,
            scope: None,
            resource: None,
            ip: None,
            user_agent: None,
            reason: None,
            format: None,
            subject: None,
            method: None,
            path: None,
            deleted: None,
            subject_token_id: None,
            actor_chain: None,
        }
    }

    /// The event as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an AuditEvent always serialises")
    }
}

mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(*ms) * 1_000_000)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&t.format(&Rfc3339).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        let t = OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)?;
        u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_noun_verb_names_and_rfc3339_time() {
        let mut e = AuditEvent::new(EventKind::TokenIssued, 1_700_000_000_123);
        e.client_id = Some("c1".into());
        let json = e.to_json();
        assert_eq!(
            json,
            r#"{"type":"token.issued","time":"2023-11-14T22:13:20.123Z","client_id":"c1"}"#
        );
        let back: AuditEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
