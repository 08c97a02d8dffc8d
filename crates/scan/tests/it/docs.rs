//! docs/scan.md stays in step with the rule table.

use tessera_scan::rules::RULES;

#[test]
fn every_rule_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scan.md"))
        .unwrap();
    for rule in RULES {
        assert!(
            doc.contains(&format!("| `{}` |", rule.id)),
            "docs/scan.md lacks rule {}",
            rule.id
        );
    }
}
