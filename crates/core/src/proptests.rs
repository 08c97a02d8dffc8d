//! Property tests of the outside-input parsers whose code lives in files other work changes
//! often: ingested event batches (`POST /admin/events` bodies), JWTs presented for introspection
//! (headers and claims, signed and not), client-assertion headers, and fetched JWK Sets.
//! Properties: no input panics; valid input round-trips.
use proptest::prelude::*;

use crate::audit::{AuditEvent, EventKind};
use crate::junk::json_junk;
use crate::keys::{KeyRing, KeyState, SigningAlg, generate_key};
use crate::mint::jwt::AccessTokenClaims;
use crate::ops::ingest::EventBatch;

fn ring() -> &'static KeyRing {
    static RING: std::sync::OnceLock<KeyRing> = std::sync::OnceLock::new();
    RING.get_or_init(|| {
        let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 1000).unwrap();
        KeyRing::load(&[key], None, 1000, 60).unwrap()
    })
}

fn event() -> impl Strategy<Value = AuditEvent> {
    (
        0u64..253_402_300_800_000,
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(any::<std::net::IpAddr>()),
        prop::option::of("\\PC{0,20}"),
    )
        .prop_map(|(time, token_id, path, ip, method)| {
            let mut e = AuditEvent::new(EventKind::TokenUsed, time);
            e.token_id = token_id;
            e.path = path;
            e.ip = ip;
            e.method = method;
            e
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn event_batches_from_junk_never_panic(body in json_junk(), inner in json_junk()) {
        let _ = serde_json::from_str::<EventBatch>(&body);
        let _ = serde_json::from_str::<EventBatch>(&format!(r#"{{"events":[{inner}]}}"#));
        let _ = serde_json::from_str::<EventBatch>(&format!(
            r#"{{"events":[{{"type":"token.used","time":{inner}}}]}}"#
        ));
    }

    #[test]
    fn event_times_of_any_shape_never_panic(time in "\\PC{0,40}", digits in "[0-9:TZ.+-]{0,40}") {
        for t in [time, digits] {
            let body = serde_json::json!({"events": [{"type": "token.used", "time": t}]});
            if let Ok(batch) = serde_json::from_value::<EventBatch>(body) {
                // Whatever was accepted serialises again (to_json must not panic).
                let _ = batch.events[0].event.to_json();
            }
        }
    }

    #[test]
    fn events_round_trip(events in prop::collection::vec(event(), 0..4)) {
        let body = serde_json::json!({
            "events": events.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.to_json()).unwrap()).collect::<Vec<_>>()
        });
        let back: EventBatch = serde_json::from_value(body).unwrap();
        let back: Vec<_> = back.events.into_iter().map(|u| u.event).collect();
        prop_assert_eq!(back, events);
    }

    #[test]
    fn presented_jwts_never_panic(h in json_junk(), c in json_junk(), sig in "[A-Za-z0-9_-]{0,90}", s in any::<String>()) {
        // jsonwebtoken fixes its crypto provider at first use: ours must be the one (keys/provider.rs).
        crate::keys::install_crypto_provider();
        use base64::Engine;
        let b64 = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
        let _ = ring().verify::<AccessTokenClaims>(&s, "https://as");
        let _ = ring().verify::<AccessTokenClaims>(&format!("{}.{}.{sig}", b64(&h), b64(&c)), "https://as");
        let _ = jsonwebtoken::decode_header(&s);
        let _ = crate::client_auth::private_key_jwt::claimed_client_id(&s);
        let _ = crate::client_auth::private_key_jwt::claimed_client_id(&format!("{}.{}.{sig}", b64(&h), b64(&c)));
    }

    /// Claims of any shape, validly signed by our own key: refused or read, never a panic.
    #[test]
    fn our_signature_over_junk_claims_never_panics(c in json_junk()) {
        let claims = serde_json::from_str::<serde_json::Value>(&c).unwrap_or(serde_json::Value::String(c));
        let jwt = ring().sign(SigningAlg::ES256, &claims).unwrap();
        let _ = ring().verify::<AccessTokenClaims>(&jwt, "https://as");
    }

    #[test]
    fn jwk_sets_from_junk_never_panic(doc in json_junk(), key in json_junk()) {
        // jsonwebtoken fixes its crypto provider at first use: ours must be the one (keys/provider.rs).
        crate::keys::install_crypto_provider();
        use crate::client_auth::jwks_uri::{has_key, parse_set};
        let _ = ring(); // installs the crypto provider first, as the server does
        for body in [doc, format!(r#"{{"keys":[{key}]}}"#), format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":{key},"y":{key}}}]}}"#)] {
            if let Ok(set) = parse_set(body.as_bytes()) {
                let _ = has_key(&set, None);
                for jwk in &set.keys {
                    let _ = jsonwebtoken::DecodingKey::from_jwk(jwk);
                }
            }
        }
    }

    /// Our own published set parses back to the same keys.
    #[test]
    fn our_jwks_round_trips(_x in 0u8..1) {
        let set = crate::client_auth::jwks_uri::parse_set(ring().jwks_json().as_bytes()).unwrap();
        let doc: serde_json::Value = serde_json::from_str(ring().jwks_json()).unwrap();
        prop_assert_eq!(set.keys.len(), doc["keys"].as_array().unwrap().len());
    }
}
