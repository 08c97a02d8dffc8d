//! Authorization server metadata (RFC 8414), built from the registries that define what the
//! server does — the grants in [`crate::grant::GRANTS`], the client authentication methods, the
//! JOSE allow-list and the signing keys — so a new grant appears in `grant_types_supported` by
//! being registered, not by a second list.
use tessera_proto::metadata::AuthorizationServerMetadata;

use crate::authority::Authority;
use crate::client::AuthMethod;
use crate::grant::GRANTS;
use crate::jose::ASYMMETRIC_ALGS;
use crate::keys::SigningAlg;

/// RFC 8414 §2: the metadata served at `/.well-known/oauth-authorization-server`.
pub fn metadata(authority: &Authority) -> AuthorizationServerMetadata {
    let issuer = authority.issuer();
    let config = authority.config();
    let methods: Vec<&'static str> = AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
    let url = |path: &str| format!("{issuer}{path}");
    let mtls = config.tls() || config.insecure_client_cert_header.is_some();
    AuthorizationServerMetadata {
        issuer: issuer.to_string(),
        authorization_endpoint: url("/authorize"),
        token_endpoint: authority.token_endpoint().to_string(),
        jwks_uri: url("/jwks"),
        response_types_supported: vec!["code"],
        code_challenge_methods_supported: vec!["S256"],
        authorization_response_iss_parameter_supported: true,
        grant_types_supported: GRANTS.iter().map(|g| g.grant_type().as_str()).collect(),
        token_endpoint_auth_methods_supported: methods.clone(),
        scopes_supported: Vec::new(),
        revocation_endpoint: url("/revoke"),
        revocation_endpoint_auth_methods_supported: methods.clone(),
        introspection_endpoint: url("/introspect"),
        // RFC 7662 §2.1: introspection needs an authenticated (confidential) caller.
        introspection_endpoint_auth_methods_supported: methods
            .into_iter()
            .filter(|m| *m != AuthMethod::None.as_str())
            .collect(),
        access_token_signing_alg_values_supported: authority
            .keys()
            .algorithms()
            .into_iter()
            .map(SigningAlg::as_str)
            .collect(),
        // RFC 9449 §5.1 and RFC 7523: proofs and client assertions are checked against the same
        // asymmetric allow-list (jose.rs); `none` and HMAC are never accepted.
        dpop_signing_alg_values_supported: ASYMMETRIC_ALGS.to_vec(),
        tls_client_certificate_bound_access_tokens: mtls,
        mtls_endpoint_aliases: mtls.then(|| {
            serde_json::json!({
                "token_endpoint": url("/token"),
                "introspection_endpoint": url("/introspect"),
                "revocation_endpoint": url("/revoke"),
                "pushed_authorization_request_endpoint": url(crate::authorize::par::PATH),
            })
        }),
        token_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS.to_vec(),
        pushed_authorization_request_endpoint: url(crate::authorize::par::PATH),
        require_pushed_authorization_requests: config.par.require_pushed_authorization_requests,
    }
}
