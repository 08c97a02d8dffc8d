//! Output formats, exit codes and baselines; no format ever carries a raw secret.

use tessera_proto::TokenKind;
use tessera_scan::{Format, ScanOptions, SourceMode};

use crate::support::{Tree, run, secrets};

fn leaky_tree() -> (Tree, Vec<String>) {
    let t = Tree::new();
    let raw = vec![
        secrets::tessera(TokenKind::AccessToken, 1),
        secrets::github(2),
        secrets::password(3),
        secrets::pem(4),
    ];
    t.write(
        "a.env",
        format!("T={}\nG={}\nDB_PASSWORD={}\n", raw[0], raw[1], raw[2]),
    );
    t.write("key.pem", &raw[3]);
    (t, raw)
}

#[test]
fn every_format_reports_findings_without_the_secret() {
    let (t, raw) = leaky_tree();
    for format in [Format::Text, Format::Json, Format::Sarif] {
        let opts = ScanOptions {
            format,
            ..t.options(SourceMode::Files)
        };
        let (code, out) = run(&opts);
        assert_eq!(code, 1, "{format:?}");
        for secret in &raw {
            let body = secret.lines().nth(1).unwrap_or(secret);
            assert!(!out.contains(body), "{format:?} leaked a secret");
        }
        assert!(out.contains("tessera-access-token"), "{format:?}");
    }
}

#[test]
fn json_carries_the_documented_fields() {
    let (t, _) = leaky_tree();
    let opts = ScanOptions {
        format: Format::Json,
        ..t.options(SourceMode::Files)
    };
    let (_, out) = run(&opts);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["findings"], 4);
    let first = &doc["findings"][0];
    assert_eq!(first["rule"], "tessera-access-token");
    assert_eq!(first["path"], "a.env");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(first["severity"], "high");
    assert_eq!(first["tessera"]["kind"], "at");
    assert_eq!(first["fingerprint"].as_str().unwrap().len(), 32);
    assert!(first["preview"].as_str().unwrap().starts_with("tsr_at_"));
    assert!(first["commit"].is_null() && first["server"].is_null());
}

#[test]
fn sarif_is_2_1_0_with_rules_locations_and_fingerprints() {
    let (t, _) = leaky_tree();
    let opts = ScanOptions {
        format: Format::Sarif,
        ..t.options(SourceMode::Files)
    };
    let (_, out) = run(&opts);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), tessera_scan::rules::RULES.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string());
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert_eq!(
            r["partialFingerprints"]["tesseraScan/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
}

#[test]
fn text_is_plain_without_colour_and_summarises() {
    let (t, _) = leaky_tree();
    let (_, out) = run(&t.options(SourceMode::Files));
    assert!(!out.contains('\x1b'));
    assert!(out.contains("a.env:1:3"));
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("4 findings (3 high, 1 medium, 0 low)"),
        "{out}"
    );
    let colored = ScanOptions {
        color: true,
        ..t.options(SourceMode::Files)
    };
    assert!(run(&colored).1.contains("\x1b[1;31mHIGH"));
}

#[test]
fn clean_tree_exits_zero() {
    let t = Tree::new();
    t.write(
        "main.rs",
        "fn main() { let token = std::env::var(\"TOKEN\").unwrap(); }\n",
    );
    let (code, out) = run(&t.options(SourceMode::Files));
    assert_eq!(code, 0);
    assert!(out.starts_with("No secrets found"));
}

#[test]
fn baseline_suppresses_known_findings_by_fingerprint_only() {
    let (t, _) = leaky_tree();
    let baseline = t.path().join(".tessera-baseline.json");
    let write = ScanOptions {
        write_baseline: Some(baseline.clone()),
        ..t.options(SourceMode::Files)
    };
    assert_eq!(
        run(&write).0,
        0,
        "writing a baseline accepts the current findings"
    );

    // Moving a known secret to another line keeps it suppressed; a new secret is reported.
    let mut content = std::fs::read_to_string(t.path().join("a.env")).unwrap();
    content.insert_str(0, "# moved down\n");
    content.push_str(&format!("NEW={}\n", secrets::stripe_live(9)));
    t.write("a.env", content);
    let opts = ScanOptions {
        baseline: Some(baseline.clone()),
        format: Format::Json,
        ..t.options(SourceMode::Files)
    };
    let (code, out) = run(&opts);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["suppressed"], 4);
    let rules: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    assert_eq!(rules, ["stripe-live-key"]);

    // A JSON report works as a baseline too.
    let report = t.path().join("report.json");
    std::fs::write(&report, &out).unwrap();
    let opts = ScanOptions {
        baseline: Some(report),
        ..opts
    };
    std::fs::remove_file(&baseline).unwrap();
    assert_eq!(
        run(&opts).0,
        1,
        "the report lists only the stripe key; the rest come back"
    );
}
