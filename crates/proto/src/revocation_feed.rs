//! The revocation feed's wire format (`GET /revocations?after=CURSOR`, docs/validate.md): what
//! the authorization server answers and resource servers read. Unknown entry types and fields are
//! ignored by readers, so the feed can grow new kinds without breaking deployed validators.
use serde::{Deserialize, Serialize};

/// What an entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    /// A revoked JWT access token; `id` is its `jti`.
    Jwt,
    /// A revoked opaque access token; `id` is its selector.
    Opaque,
    /// A client disabled, deleted or given `tokens_not_before`; `id` is its `client_id`. Its
    /// tokens issued before `not_before`, or all of them while `disabled`, are refused.
    Client,
    /// A signing key withdrawn before its tokens expired; `id` is its `kid`.
    Key,
    /// A type this reader does not know (sent by a newer server): ignored.
    #[serde(other)]
    Unknown,
}

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What it names.
    #[serde(rename = "type")]
    pub kind: EntryType,
    /// The `jti`, selector, `client_id` or `kid`.
    pub id: String,
    /// When a reader may forget the entry, seconds since the epoch: no token it concerns is
    /// valid after this.
    pub expires_at: u64,
    /// When it was revoked (for a client: its last such change).
    #[serde(default)]
    pub revoked_at: u64,
    /// `client`: tokens issued (`iat`) before this time are revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    /// `client`: disabled or deleted, every token it holds is refused. `false` (omitted) means
    /// enabled again: tokens not caught by `not_before` are valid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// One page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Entries after the cursor, in the feed's order.
    pub revocations: Vec<Entry>,
    /// The opaque cursor for the next request (`after=`); exact, however many revocations share
    /// a second. Absent from servers older than it (readers then use `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Deprecated: the cursor's time in seconds, the cursor of the first feed version.
    pub next: u64,
    /// Another page follows at once: ask again with `cursor` before waiting.
    #[serde(default)]
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_fields_are_tolerated() {
        let page: Page = serde_json::from_str(
            r#"{"revocations":[{"type":"session","id":"s","expires_at":9,"extra":1},
                {"type":"jwt","id":"j","expires_at":9}],"next":3}"#,
        )
        .unwrap();
        assert_eq!(page.revocations[0].kind, EntryType::Unknown);
        assert_eq!(page.revocations[1].kind, EntryType::Jwt);
        assert_eq!((page.cursor, page.more), (None, false));
    }

    #[test]
    fn client_entries_carry_not_before_and_disabled_only_when_set() {
        let e = Entry {
            kind: EntryType::Client,
            id: "c".into(),
            expires_at: 9,
            revoked_at: 5,
            not_before: Some(6),
            disabled: false,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"type":"client","id":"c","expires_at":9,"revoked_at":5,"not_before":6})
        );
    }
}
