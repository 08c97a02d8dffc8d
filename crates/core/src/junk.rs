//! Test-only generators of hostile input for the property tests of core's parsers (DPoP proofs,
//! JWT headers and claims, JWK Sets, ingested events): JSON of the wrong shapes, and text that
//! only looks like JSON.
use proptest::prelude::*;

/// JSON-ish text: real JSON values whose members have protocol names and the wrong types,
/// huge and odd numbers, multi-byte strings, and broken JSON.
pub fn json_junk() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("1e999".to_string()),
        Just("-0".to_string()),
        Just("18446744073709551616".to_string()),
    ];
    let keys = prop::sample::select(vec![
        "typ", "alg", "kid", "jwk", "keys", "kty", "crv", "x", "y", "n", "e", "d", "use", "jti",
        "htm", "htu", "iat", "exp", "nbf", "iss", "sub", "aud", "nonce", "events", "time",
        "token_id", "é", "",
    ]);
    let value = leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| {
                let members: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    });
    prop_oneof![4 => value, 1 => "\\PC{0,40}"]
}
