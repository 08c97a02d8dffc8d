//! Alerts raised by the monitor and their acknowledgement.
use async_trait::async_trait;

use super::StoreResult;

/// Whether a person has looked at an alert yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Raised, nobody has acknowledged it.
    Open,
    /// Acknowledged by someone (`acked_by`, `acked_at`).
    Acked,
}

impl AlertStatus {
    /// The lowercase name used in the database, JSON and the CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acked => "acked",
        }
    }

    /// Parses [`AlertStatus::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "acked" => Some(Self::Acked),
            _ => None,
        }
    }
}

/// An alert the monitor raised, as stored. The store does not interpret `severity`, `evidence`
/// or `actions`: the monitor owns their vocabulary, the store keeps them for people to read.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    /// Assigned by the store on insert (ignored when inserting).
    pub id: i64,
    /// The detector that raised it (`impossible_travel`, `multi_client`, …).
    pub detector: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    /// The token concerned (JWT `jti` or opaque selector), if the alert is about one token.
    pub token_id: Option<String>,
    /// The client concerned.
    pub client_id: Option<String>,
    /// The time of the event that raised the alert (not of the insert), ms since the epoch.
    pub time_ms: u64,
    /// One sentence for a person.
    pub summary: String,
    /// Detector-specific facts, a JSON object.
    pub evidence: serde_json::Value,
    /// Automatic actions taken, e.g. `revoke_token:done`.
    pub actions: Vec<String>,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// When it was acknowledged, seconds since the epoch.
    pub acked_at: Option<u64>,
    /// Who acknowledged it (a client id, or `cli:<user>`).
    pub acked_by: Option<String>,
}

/// Which alerts to list. The default lists every alert, newest first, at most 100.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only alerts with this status (`None`: both).
    pub status: Option<AlertStatus>,
    /// Only alerts of this detector.
    pub detector: Option<String>,
    /// Only alerts whose event time is at or after this, ms since the epoch.
    pub since_ms: Option<u64>,
    /// At most this many.
    pub limit: u32,
}

impl Default for AlertFilter {
    fn default() -> Self {
        Self {
            status: None,
            detector: None,
            since_ms: None,
            limit: 100,
        }
    }
}

/// What acknowledging an alert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// It was open and is now acknowledged.
    Acked,
    /// It had been acknowledged before; the first acknowledgement stands.
    AlreadyAcked,
    /// No alert has that id.
    NotFound,
}

/// Alerts raised by the monitor, and their acknowledgement by people.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a new alert (status open) and returns its id; returns once the row is durable.
    async fn insert_alert(&self, alert: &AlertRecord) -> StoreResult<i64>;
    /// Alerts matching `filter`, newest event time first (ties: newest id first).
    async fn list_alerts(&self, filter: &AlertFilter) -> StoreResult<Vec<AlertRecord>>;
    /// One alert by id.
    async fn get_alert(&self, id: i64) -> StoreResult<Option<AlertRecord>>;
    /// Acknowledges an open alert in one statement, so two people acknowledging at once do not
    /// both win: the second gets `AlreadyAcked` and the first `acked_by` stands.
    async fn ack_alert(&self, id: i64, by: &str, now: u64) -> StoreResult<AckOutcome>;
}
