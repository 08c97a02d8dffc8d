//! SARIF 2.1.0 output (OASIS), the format GitHub code scanning and other UIs ingest.
//!
//! One run; `tool.driver.rules` lists every rule of the table (so `ruleIndex` is stable); each
//! result carries its location, `partialFingerprints["tesseraScan/v1"]` (so UIs track it across
//! commits) and the commit, `atHead`, preview and server verdict in `properties`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::Report;
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.description },
                "defaultConfiguration": { "level": r.severity.sarif_level() },
                "properties": { "severity": r.severity.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
            let mut message = format!("{}: {}", f.description, f.preview);
            if let Some(v) = &f.server {
                message.push_str(&format!(" (server: live={}, action={})", v.live, v.action));
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": f.severity.sarif_level(),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
                "partialFingerprints": { "tesseraScan/v1": f.fingerprint },
                "properties": {
                    "commit": f.commit,
                    "atHead": f.at_head,
                    "preview": f.preview,
                    "severity": f.severity.as_str(),
                    "live": f.server.as_ref().map(|v| v.live),
                    "action": f.server.as_ref().map(|v| v.action.as_str()),
                },
            })
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tessera-scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/tessera-auth/tessera/blob/main/docs/scan.md",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
