//! Leaked-token scanner (placeholder until its issue lands).
