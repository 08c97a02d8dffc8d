//! The `act` column of `access_tokens` (RFC 8693 §4.1 actor chain), shared by both backends:
//! JSON text, as the claim appears in a JWT.
use tessera_proto::act::Act;

/// The column's value for `act`.
pub(crate) fn write(act: &Act) -> String {
    serde_json::to_string(act).expect("an actor chain serialises")
}

/// The actor chain a column holds. A value that does not parse (never written by Tessera) reads
/// as no chain, and is logged: the row's other columns still decide whether the token is live.
pub(crate) fn read(text: Option<String>) -> Option<Act> {
    let text = text?;
    serde_json::from_str(&text)
        .inspect_err(|e| tracing::warn!(error = %e, "unreadable act column"))
        .ok()
}
