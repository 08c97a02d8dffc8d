//! Issue 13, finding 7: token strings with a multi-byte character where the parser splits body
//! and checksum used to panic the handler (connection dropped, backtrace in the log). Each
//! endpoint that reads a token answers with its RFC refusal instead, and the server stays up.
use tessera_core::client::GrantType;

use crate::support::TestServer;

/// The reported input: `tsr_rt_` + 53×`A` + `é` + 5×`B` (60 bytes after the prefix).
fn reported() -> String {
    format!("tsr_rt_{}é{}", "A".repeat(53), "B".repeat(5))
}

/// The same shape for every prefix, with characters of 2, 3 and 4 bytes at the split.
fn variants() -> Vec<String> {
    let mut out = vec![reported()];
    for prefix in ["tsr_at_", "tsr_rt_", "tsr_cs_", "tsr_ac_", "tsr_rat_"] {
        for c in ["é", "€", "😀"] {
            let pad = 60 - c.len();
            out.push(format!(
                "{prefix}{}{c}{}",
                "A".repeat(53),
                "B".repeat(pad - 53)
            ));
        }
    }
    out
}

#[tokio::test]
async fn the_reported_token_gets_invalid_grant_and_active_false_and_the_server_stays_up() {
    let server = TestServer::start().await;
    let c = server
        .client(|c| c.grant_types = vec![GrantType::ClientCredentials, GrantType::RefreshToken])
        .await;
    for token in variants() {
        let (status, _, body) = server
            .post(
                "/token",
                Some((&c.id, &c.secret)),
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await;
        assert_eq!(status, 400, "{token}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{token}: {body}");

        let body = server.introspect(&c, &token).await;
        assert_eq!(body, serde_json::json!({"active": false}), "{token}");

        let (status, _, body) = server
            .post("/revoke", Some((&c.id, &c.secret)), &[("token", &token)])
            .await;
        assert_eq!(status, 200, "{token}: {body}");

        // As a client secret, too: an authentication failure, not a dropped connection.
        let (status, _, body) = server
            .post(
                "/token",
                Some((&c.id, &token)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(status, 401, "{token}: {body}");
        assert_eq!(body["error"], "invalid_client", "{token}: {body}");
    }
    let (status, body) = server.token(&c, &[]).await;
    assert_eq!(status, 200, "the server still issues: {body}");
}
