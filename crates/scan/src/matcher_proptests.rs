//! Property tests of the scanner's matcher on arbitrary bytes (kept apart from the rule table,
//! which changes often): no input panics it, and a real Tessera token in any surrounding text
//! is found.
use proptest::prelude::*;
use tessera_proto::{TokenKind, TokenString};

use crate::matcher::Matcher;
use crate::rules::RULES;

fn matcher() -> &'static Matcher {
    static M: std::sync::OnceLock<Matcher> = std::sync::OnceLock::new();
    M.get_or_init(Matcher::new)
}

/// Bytes built from rule examples (cut anywhere), keywords, multi-byte text and raw bytes.
fn near_secrets() -> impl Strategy<Value = Vec<u8>> {
    let examples: Vec<&'static str> = RULES
        .iter()
        .flat_map(|r| r.examples.iter().copied())
        .collect();
    let piece = prop_oneof![
        (
            prop::sample::select(examples),
            any::<prop::sample::Index>(),
            any::<bool>()
        )
            .prop_map(|(e, i, head)| {
                let bytes = e.as_bytes();
                let at = i.index(bytes.len() + 1);
                if head {
                    bytes[..at].to_vec()
                } else {
                    bytes[at..].to_vec()
                }
            }),
        prop::sample::select(vec![
            "\n", "\r\n", " ", "=", "\"", "é", "😀", "\u{0}", "tsr_", "_", "ghp_", "eyJ"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(data in any::<Vec<u8>>()) {
        let _ = matcher().scan(&data);
    }

    #[test]
    fn spliced_rule_examples_never_panic(data in near_secrets()) {
        for hit in matcher().scan(&data) {
            prop_assert!(hit.line >= 1 && hit.column >= 1);
        }
    }

    #[test]
    fn a_tessera_token_is_found_in_any_text(
        kind in prop::sample::select(TokenKind::ALL.to_vec()),
        before in "[ -~\\n]{0,40}",
        after in "[ -~\\n]{0,40}",
    ) {
        let secret = TokenString::generate(kind, 5);
        let data = format!("{before} {} {after}", secret.expose_secret());
        let hits = matcher().scan(data.as_bytes());
        prop_assert!(
            hits.iter().any(|h| h.secret == secret.expose_secret().as_bytes()),
            "not found in {:?}", data.replace(secret.expose_secret(), "<token>")
        );
    }
}
