//! Audience (RFC 8707 resource indicators): every token is for exactly one resource server.
use tessera_proto::{ErrorCode, OAuthError};

use crate::client::Client;

fn invalid_target(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, description)
}

/// RFC 8707 §2: "The value of the resource parameter MUST be an absolute URI … MUST NOT include
/// a fragment component."
pub fn is_valid_resource(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    scheme_ok
        && !rest.is_empty()
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The one audience of the token: the requested `resource` if the client may have it, or the
/// client's only audience when it requested none.
pub fn select(client: &Client, requested: &[&str]) -> Result<String, OAuthError> {
    match requested {
        [] => match client.audiences.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(invalid_target(
                "this client has no audience it may request tokens for",
            )),
            _ => Err(invalid_target(
                "resource is required: this client may request tokens for several audiences",
            )),
        },
        [one] => {
            if !is_valid_resource(one) {
                return Err(invalid_target(
                    "resource must be an absolute URI without a fragment",
                ));
            }
            if client.audiences.iter().any(|a| a == one) {
                Ok((*one).to_string())
            } else {
                Err(invalid_target(
                    "the requested resource is not allowed for this client",
                ))
            }
        }
        _ => Err(invalid_target("a token is issued for exactly one resource")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_must_be_absolute_without_fragment() {
        assert!(is_valid_resource("https://api.example.com"));
        assert!(is_valid_resource("urn:example:api"));
        assert!(!is_valid_resource("api.example.com"));
        assert!(!is_valid_resource("https://api.example.com/#frag"));
        assert!(!is_valid_resource("1http://x"));
    }
}
