//! RFC 8414 metadata discovery: the endpoints the layer needs, read once at start-up.
use serde::Deserialize;

/// The endpoints of the authorization server this layer uses.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `introspection_endpoint`, if advertised.
    pub introspection: Option<String>,
    /// The revocation feed, `{issuer}/revocations` (a Tessera extension, not in RFC 8414).
    pub revocations: String,
    /// The usage-event sink, `{issuer}/admin/events`.
    pub events: String,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    introspection_endpoint: Option<String>,
}

/// Fetches `{issuer}/.well-known/oauth-authorization-server`.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Endpoints, String> {
    // Keys and token verdicts are fetched from these: https, or plain http on loopback only.
    let secure = |what: &str, uri: &str| {
        tessera_proto::loopback::https_or_loopback_http(uri)
            .map_err(|e| format!("{what} {uri}: {e}"))
    };
    secure("issuer", issuer)?;
    let url = format!("{issuer}/.well-known/oauth-authorization-server");
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("metadata discovery at {url} failed: {e}"))?;
    let metadata: Metadata = crate::outbound::json(response)
        .await
        .map_err(|e| format!("metadata discovery at {url} failed: {e}"))?;
    // RFC 8414 §3.3: the issuer in the document must be identical to the one we asked about,
    // or an attacker-controlled document could substitute its own keys.
    if metadata.issuer != issuer {
        return Err(format!(
            "metadata issuer {:?} is not the configured issuer {issuer:?}",
            metadata.issuer
        ));
    }
    secure("jwks_uri", &metadata.jwks_uri)?;
    if let Some(introspection) = &metadata.introspection_endpoint {
        secure("introspection_endpoint", introspection)?;
    }
    Ok(Endpoints {
        jwks_uri: metadata.jwks_uri,
        introspection: metadata.introspection_endpoint,
        revocations: format!("{issuer}/revocations"),
        events: format!("{issuer}/admin/events"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, finding 9: a look-alike of loopback is refused before anything is fetched.
    #[tokio::test]
    async fn a_plain_http_issuer_must_be_on_a_parsed_loopback_host() {
        let http = reqwest::Client::new();
        for issuer in [
            "http://127.attacker.example",
            "http://localhost.attacker.example",
            "http://127.0.0.1@evil.example",
            "http://as.example.com",
        ] {
            let err = discover(&http, issuer).await.err().unwrap();
            assert!(err.contains("loopback"), "{issuer}: {err}");
        }
    }
}
