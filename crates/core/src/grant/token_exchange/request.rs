//! The token exchange request's own parameters (RFC 8693 §2.1) and the down-scoping rules that
//! apply to them: one target the client may address, a scope within the subject token's.
use tessera_proto::{ErrorCode, OAuthError};

use crate::client::Client;
use crate::params::Params;
use crate::policy;

/// RFC 8693 §3: "Indicates that the token is an OAuth 2.0 access token issued by the given
/// authorization server." The only type Tessera exchanges and issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

fn invalid_request(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, description)
}

/// The validated parameters.
#[derive(Debug)]
pub struct ExchangeRequest<'a> {
    /// `subject_token` (raw; never logged).
    pub subject_token: &'a str,
    /// `actor_token`, when present.
    pub actor_token: Option<&'a str>,
    /// `scope`, when present.
    pub scope: Option<&'a str>,
}

impl<'a> ExchangeRequest<'a> {
    /// RFC 8693 §2.1: `subject_token` and `subject_token_type` are REQUIRED; `actor_token_type`
    /// "is REQUIRED when the actor_token parameter is present in the request but MUST NOT be
    /// included otherwise"; `requested_token_type` is OPTIONAL. Every parameter at most once.
    pub fn parse(params: &'a Params) -> Result<Self, OAuthError> {
        let subject_token = params.require("subject_token")?;
        let subject_type = params.require("subject_token_type")?;
        // RFC 8693 §2.2.2: "If the request itself is not valid … the authorization server MUST
        // construct an error response … The value of the error parameter MUST be the
        // invalid_request error code."
        if subject_type != ACCESS_TOKEN_TYPE {
            return Err(invalid_request(
                "subject_token_type must be urn:ietf:params:oauth:token-type:access_token",
            ));
        }
        let actor_token = params.get("actor_token")?;
        match (actor_token, params.get("actor_token_type")?) {
            (Some(_), Some(ACCESS_TOKEN_TYPE)) | (None, None) => {}
            (Some(_), Some(_)) => {
                return Err(invalid_request(
                    "actor_token_type must be urn:ietf:params:oauth:token-type:access_token",
                ));
            }
            (Some(_), None) => {
                return Err(invalid_request(
                    "actor_token_type is required with actor_token",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid_request(
                    "actor_token_type must not be sent without actor_token",
                ));
            }
        }
        match params.get("requested_token_type")? {
            None | Some(ACCESS_TOKEN_TYPE) => {}
            Some(_) => {
                return Err(invalid_request(
                    "requested_token_type: only urn:ietf:params:oauth:token-type:access_token is issued",
                ));
            }
        }
        Ok(Self {
            subject_token,
            actor_token,
            scope: params.get("scope")?,
        })
    }
}

/// The one audience of the new token: `resource` (RFC 8707, an absolute URI) or `audience`
/// (RFC 8693 §2.1, a logical name) — together at most one distinct value — which must be one of
/// the client's own audiences; the client's only audience when neither is sent.
pub fn target(client: &Client, params: &Params) -> Result<String, OAuthError> {
    let resources = params.all("resource");
    let audiences = params.all("audience");
    let mut all: Vec<&str> = resources.iter().chain(&audiences).copied().collect();
    all.sort_unstable();
    all.dedup();
    match all.as_slice() {
        [] => policy::audience::select(client, &[]),
        [_] if !resources.is_empty() => policy::audience::select(client, &resources[..1]),
        [one] if client.audiences.iter().any(|a| a == one) => Ok((*one).to_string()),
        // RFC 8693 §2.2.2: "If the authorization server is unwilling or unable to issue a token
        // for any target service indicated by the resource or audience parameters, the
        // invalid_target error code SHOULD be used in the error response."
        [_] => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "the requested audience is not allowed for this client",
        )),
        _ => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "a token is issued for exactly one resource or audience",
        )),
    }
}

/// Down-scoping only: the requested scope must lie within the subject token's scope and the
/// client's own (`invalid_scope` otherwise); with no `scope`, that intersection.
pub fn scope(
    client: &Client,
    subject_scope: &str,
    requested: Option<&str>,
) -> Result<String, OAuthError> {
    let held: Vec<&str> = subject_scope
        .split(' ')
        .filter(|s| !s.is_empty() && client.scopes.iter().any(|c| c == s))
        .collect();
    let wanted = match requested {
        Some(r) => policy::scope::parse(r)?,
        None => Vec::new(),
    };
    if wanted.is_empty() {
        return Ok(held.join(" "));
    }
    if let Some(extra) = wanted.iter().find(|w| !held.contains(w)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the requested scope exceeds the subject token's scope or this client's",
        )
        .with_detail(format!("scope {extra:?} not held")));
    }
    Ok(wanted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn client(scopes: &[&str]) -> Client {
        Client {
            id: "agent".into(),
            name: "agent".into(),
            credential: crate::client::Credential::None,
            grant_types: vec![crate::client::GrantType::TokenExchange],
            redirect_uris: vec![],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            default_scopes: vec![],
            audiences: vec!["https://tool.example".into(), "urn:example:mail".into()],
            resource_uris: vec![],
            token_format: crate::client::TokenFormat::Jwt,
            jwt_alg: crate::keys::SigningAlg::ES256,
            access_token_ttl: None,
            require_dpop: false,
            allow_impersonation: false,
            require_par: false,
            tokens_not_before: None,
            disabled: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn scope_is_only_narrowed() {
        let c = client(&["read", "write", "admin"]);
        assert_eq!(scope(&c, "read write", None).unwrap(), "read write");
        assert_eq!(scope(&c, "read write", Some("read")).unwrap(), "read");
        // Held by the subject but not by the client: dropped, and refused when asked for.
        let narrow = client(&["read"]);
        assert_eq!(scope(&narrow, "read write", None).unwrap(), "read");
        for wider in ["write", "read admin", "read\u{7f}"] {
            let e = scope(&narrow, "read write", Some(wider)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidScope, "{wider}");
        }
    }

    #[test]
    fn one_target_of_the_clients_own() {
        let c = client(&["read"]);
        let t = |p: &[(&str, &str)]| target(&c, &params(p));
        assert_eq!(
            t(&[("resource", "https://tool.example")]).unwrap(),
            "https://tool.example"
        );
        assert_eq!(
            t(&[("audience", "urn:example:mail")]).unwrap(),
            "urn:example:mail"
        );
        assert_eq!(
            t(&[
                ("audience", "https://tool.example"),
                ("resource", "https://tool.example")
            ])
            .unwrap(),
            "https://tool.example"
        );
        for bad in [
            &[("resource", "https://other.example")][..],
            &[("audience", "other")],
            &[
                ("resource", "https://tool.example"),
                ("audience", "urn:example:mail"),
            ],
            &[],
        ] {
            assert_eq!(
                t(bad).unwrap_err().code,
                ErrorCode::InvalidTarget,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn token_types_are_checked() {
        let good = params(&[
            ("subject_token", "t"),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ]);
        assert!(ExchangeRequest::parse(&good).is_ok());
        for bad in [
            &[("subject_token", "t")][..],
            &[("subject_token_type", ACCESS_TOKEN_TYPE)],
            &[
                ("subject_token", "t"),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
            ],
            &[
                ("subject_token", "t"),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("actor_token", "a"),
            ],
            &[
                ("subject_token", "t"),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ],
            &[
                ("subject_token", "t"),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ],
        ] {
            let e = ExchangeRequest::parse(&params(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Outside input never panics and never widens: whatever is asked, the answer is a
        /// subset of what both the subject token and the client hold.
        #[test]
        fn any_scope_request_is_a_subset_or_refused(held in "[a-z ]{0,20}", asked in "\\PC{0,30}") {
            let c = client(&["a", "b", "read"]);
            if let Ok(granted) = scope(&c, &held, Some(&asked)) {
                for s in granted.split(' ').filter(|s| !s.is_empty()) {
                    prop_assert!(held.split(' ').any(|h| h == s));
                    prop_assert!(c.scopes.iter().any(|h| h == s));
                }
            }
        }

        #[test]
        fn any_parameters_parse_or_fail_cleanly(pairs in proptest::collection::vec(("[a-z_]{1,20}", "\\PC{0,20}"), 0..6)) {
            let p = Params::new(pairs);
            let _ = ExchangeRequest::parse(&p);
            let _ = target(&client(&[]), &p);
        }
    }
}
