//! SQL the two backends share for token lineage (RFC 8693 token exchange).

/// The query shared by both backends: walk up from a child, parent first.
pub(crate) const ANCESTORS: &str = "WITH RECURSIVE up(kind, id, client_id, issued_at, n) AS ( \
    SELECT parent_kind, parent_id, parent_client_id, parent_issued_at, 1 FROM token_lineage \
    WHERE child_kind = $1 AND child_id = $2 \
    UNION ALL \
    SELECT l.parent_kind, l.parent_id, l.parent_client_id, l.parent_issued_at, up.n + 1 \
    FROM token_lineage l JOIN up ON l.child_kind = up.kind AND l.child_id = up.id WHERE up.n < 64) \
    SELECT kind, id, client_id, issued_at FROM up ORDER BY n";
