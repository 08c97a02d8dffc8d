//! What the monitor raises: an [`Alert`] naming the detector, its severity, the token and client
//! it concerns, the time of the event that raised it, and the evidence a person needs to judge it.
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_core::audit::{AuditEvent, EventKind, Provenance};
use tessera_core::store::{AlertRecord, AlertStatus};

/// How sure and how bad: drives the action policy (auto-revoke only at `High` by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Unusual, worth a look (off-hours use).
    Low,
    /// Likely abuse, a person should decide.
    Medium,
    /// Near-certain abuse: the default policy acts on it without waiting for a person.
    High,
}

impl Severity {
    /// The lowercase name used in JSON and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert. Serialised as one JSON object per line by `tessera monitor replay`; `token_id` and
/// `client_id` are always present (null when the alert is not about one), so consumers can rely
/// on the keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The detector's name (`impossible_travel`, `burst`, …).
    pub detector: String,
    /// How sure and how bad.
    pub severity: Severity,
    /// The token concerned (JWT `jti` or opaque selector), when the alert is about one token.
    #[serde(default)]
    pub token_id: Option<String>,
    /// The client concerned: the token's owner, or the client under attack.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The time of the event that raised the alert (never the wall clock, so a replay gives the
    /// same alerts on every run), milliseconds since the epoch, serialised as RFC 3339.
    #[serde(rename = "time", with = "rfc3339_ms")]
    pub time_ms: u64,
    /// The address of the event that raised the alert, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// One sentence for a person.
    pub summary: String,
    /// Detector-specific facts (distances, counts, thresholds) behind the alert.
    #[serde(default)]
    pub evidence: Map<String, Value>,
    /// Where the event that raised the alert came from: reported evidence from an untrusted
    /// reporter raises alerts but never triggers an automatic action ([`crate::action`]).
    #[serde(default, skip_serializing_if = "is_observed")]
    pub provenance: Provenance,
}

fn is_observed(p: &Provenance) -> bool {
    *p == Provenance::Observed
}

impl Alert {
    /// An alert from `detector` about `event`, carrying the event's token, client, time and ip.
    pub fn from_event(
        detector: &str,
        severity: Severity,
        event: &AuditEvent,
        summary: String,
    ) -> Self {
        Self {
            detector: detector.to_string(),
            severity,
            token_id: event.token_id.clone(),
            client_id: event.client_id.clone(),
            time_ms: event.time_ms,
            ip: event.ip,
            summary,
            evidence: Map::new(),
            provenance: event.provenance,
        }
    }

    /// Adds one piece of evidence.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    /// The alert as one JSON line (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an Alert always serialises")
    }

    /// The stored form of this alert, with the actions taken about it. The address of the event
    /// rides in the evidence (`ip`), since the record has no column of its own for it.
    pub fn to_record(&self, actions: &[String]) -> AlertRecord {
        let mut evidence = self.evidence.clone();
        if let Some(ip) = self.ip {
            evidence
                .entry("ip")
                .or_insert_with(|| Value::String(ip.to_string()));
        }
        if self.provenance != Provenance::Observed {
            evidence.insert(
                "provenance".into(),
                serde_json::to_value(self.provenance).expect("serialises"),
            );
        }
        AlertRecord {
            id: 0,
            detector: self.detector.clone(),
            severity: self.severity.as_str().to_string(),
            token_id: self.token_id.clone(),
            client_id: self.client_id.clone(),
            time_ms: self.time_ms,
            summary: self.summary.clone(),
            evidence: Value::Object(evidence),
            actions: actions.to_vec(),
            status: AlertStatus::Open,
            acked_at: None,
            acked_by: None,
        }
    }

    /// The `alert.raised` audit event recording this alert: `reason` carries the detector and
    /// `format` the severity, since the event schema has no alert-specific fields.
    pub fn to_event(&self) -> AuditEvent {
        let mut e = AuditEvent::new(EventKind::AlertRaised, self.time_ms);
        e.client_id = self.client_id.clone();
        e.token_id = self.token_id.clone();
        e.ip = self.ip;
        e.reason = Some(self.detector.clone());
        e.format = Some(self.severity.as_str().to_string());
        e
    }
}

/// RFC 3339 with milliseconds, the same form the audit events use.
pub(crate) mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Formats milliseconds since the epoch.
    pub fn format(ms: u64) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| ms.to_string())
    }

    pub fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*ms))
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
    fn alert_json_always_names_token_and_client() {
        let e = AuditEvent::new(EventKind::TokenUsed, 1_700_000_000_123);
        let a = Alert::from_event("burst", Severity::Medium, &e, "x".into()).with("count", 5);
        let json = a.to_json();
        assert_eq!(
            json,
            r#"{"detector":"burst","severity":"medium","token_id":null,"client_id":null,"time":"2023-11-14T22:13:20.123Z","summary":"x","evidence":{"count":5}}"#
        );
        let back: Alert = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }
}
