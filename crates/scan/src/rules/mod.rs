//! The rule vocabulary: what a detection rule is, its severity and its validator.
//!
//! Rules are data ([`RULES`] in `table.rs`); the only code per rule is an optional validator
//! (`validate.rs`) for checks a regex cannot express — a checksum, a JSON header, entropy.
//! Adding a rule is one row in the table with its own positive and negative examples, which the
//! table's unit test runs.

mod table;
pub mod validate;

use serde::Serialize;

pub use table::RULES;
pub use validate::Validator;

/// How bad a finding is; maps onto SARIF levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Probably a typo or a near-miss (a Tessera string whose checksum fails): worth a look.
    Low,
    /// A likely secret whose shape cannot be verified (generic assignments, test-mode keys).
    Medium,
    /// A verified or unambiguous live-credential shape.
    High,
}

impl Severity {
    /// The lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// The SARIF 2.1.0 `level` for this severity.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Low => "note",
            Self::Medium => "warning",
            Self::High => "error",
        }
    }
}

/// One detection rule. A candidate must contain a keyword (the prefilter), match `pattern`
/// (whose `secret` group, or the whole match, is the secret) and pass `validator`.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, used in reports, SARIF `ruleId` and fingerprints.
    pub id: &'static str,
    /// One line for humans.
    pub description: &'static str,
    /// Severity of a finding from this rule.
    pub severity: Severity,
    /// Literals (ASCII case-insensitive) of which at least one must occur near a match; the
    /// single Aho-Corasick pass over every byte looks only for these.
    pub keywords: &'static [&'static str],
    /// Byte regex applied to the line around a keyword hit (or the next `span` bytes).
    pub pattern: &'static str,
    /// How far past the start of the keyword's line a match may reach (0 = the line only).
    pub span: usize,
    /// The check a regex cannot express.
    pub validator: Validator,
    /// Inputs that must produce exactly one finding of this rule (may be built with `concat!`
    /// so that this source file does not itself contain a contiguous secret).
    pub examples: &'static [&'static str],
    /// Inputs that must produce no finding of this rule: placeholders, typos, documentation values.
    pub decoys: &'static [&'static str],
}

/// Looks a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
