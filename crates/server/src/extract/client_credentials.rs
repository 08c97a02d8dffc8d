//! What the client presented to authenticate (RFC 6749 §2.3.1): HTTP Basic, or `client_id` and
//! `client_secret` in the body — never both.
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tessera_core::client_auth::{PresentedCredentials, private_key_jwt};
use tessera_core::params::Params;
use tessera_proto::{OAuthError, Secret};

/// RFC 6749 §2.3.1: id and secret are encoded "using the application/x-www-form-urlencoded
/// encoding algorithm" before Basic — so `+` is a space and `%XX` an octet.
fn form_decode(s: &str) -> Option<String> {
    let plus_decoded = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// RFC 7523 §2.2.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn malformed() -> OAuthError {
    OAuthError::invalid_request("malformed HTTP Basic credentials")
}

fn parse_basic(value: &str) -> Result<Option<(String, Secret)>, OAuthError> {
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((id, Secret::new(secret))))
}

/// Extracts the presented credentials.
pub fn extract(
    headers: &HeaderMap,
    params: &Params,
    has_certificate: bool,
) -> Result<PresentedCredentials, OAuthError> {
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    let header = authorization.next();
    if authorization.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    if let Some(value) = header {
        let value = value.to_str().map_err(|_| malformed())?;
        let Some((id, secret)) = parse_basic(value)? else {
            return Err(
                OAuthError::invalid_client().with_detail("unsupported Authorization scheme")
            );
        };
        // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
        if body_secret.is_some() || params.contains("client_assertion") {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        if body_id.is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the Authorization header",
            ));
        }
        return Ok(PresentedCredentials::Basic {
            client_id: id,
            secret,
        });
    }
    // RFC 7521 §4.2: client_assertion_type + client_assertion.
    let assertion_type = params.get("client_assertion_type")?;
    let assertion = params.get("client_assertion")?;
    if assertion_type.is_some() || assertion.is_some() {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        if assertion_type != Some(JWT_BEARER) {
            return Err(OAuthError::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        let assertion =
            assertion.ok_or_else(|| OAuthError::invalid_request("client_assertion is missing"))?;
        let claimed = private_key_jwt::claimed_client_id(assertion).ok_or_else(|| {
            OAuthError::invalid_client().with_detail("unreadable client assertion")
        })?;
        if body_id.is_some_and(|id| id != claimed) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the client assertion",
            ));
        }
        return Ok(PresentedCredentials::Assertion {
            client_id: claimed,
            assertion: Secret::new(assertion),
        });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(PresentedCredentials::Post {
            client_id: id.to_string(),
            secret: Secret::new(secret),
        }),
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "client_secret without client_id",
        )),
        // RFC 8705 §2: client_id in the body, the certificate on the connection.
        (Some(id), None) if has_certificate => Ok(PresentedCredentials::Certificate {
            client_id: id.to_string(),
        }),
        // RFC 6749 §2.1: a public client (`none`) identifies itself with client_id alone.
        (Some(id), None) => Ok(PresentedCredentials::ClientId {
            client_id: id.to_string(),
        }),
        _ => Ok(PresentedCredentials::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my+client%3A1:s%2Bec+ret"));
        let (id, secret) = parse_basic(&header).unwrap().unwrap();
        assert_eq!(id, "my client:1");
        assert_eq!(secret.expose_secret(), "s+ec ret");
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
        assert!(parse_basic("Bearer abc").unwrap().is_none());
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn basic(id: &str, secret: &str) -> String {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_header_value_never_panics(
                value in any::<String>(),
                b64 in "Basic [A-Za-z0-9+/=é ]{0,40}",
                raw in any::<Vec<u8>>(),
            ) {
                let _ = parse_basic(&value);
                let _ = parse_basic(&b64);
                let _ = parse_basic(&format!("Basic {}", STANDARD.encode(&raw)));
            }

            #[test]
            fn encoded_credentials_round_trip(id in ".{1,20}", secret in any::<String>()) {
                let (got_id, got_secret) = parse_basic(&basic(&id, &secret)).unwrap().unwrap();
                prop_assert_eq!(got_id, id);
                prop_assert_eq!(got_secret.expose_secret(), secret.as_str());
            }
        }
    }
}
