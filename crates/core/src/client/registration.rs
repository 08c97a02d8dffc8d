//! The rules a client registration must keep, wherever it comes from: `tessera client
//! create|update`, the admin API, dynamic registration (RFC 7591). Two entry points:
//! [`CredentialMetadata::into_credential`] turns the loose authentication metadata into the one
//! [`Credential`] it describes (or says which field is wrong), and [`check`] judges a whole
//! registration before it is stored. Errors name the RFC 7591 metadata field; a caller with its
//! own names for the fields (the CLI's flags) renders them with [`RegistrationError::describe`].
use super::credential::{ClientKeys, ClientSecrets, Credential, SecretMethod, TlsCredential};
use super::{AuthMethod, Client, GrantType, check_redirect_uri, check_resource_uri};
use crate::binding::dn::DistinguishedName;
use crate::binding::mtls::TlsClientAuth;
use crate::client_auth::jwks_uri;
use crate::policy::{audience, scope};

/// A registration field, by its RFC 7591 §2 / RFC 8705 §2.1.2 name (Tessera's own name where the
/// RFCs have none: `audience`, `resource_uris`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `grant_types`.
    GrantTypes,
    /// `redirect_uris`.
    RedirectUris,
    /// `scope`.
    Scope,
    /// The RFC 8707 resources the client may request tokens for.
    Audience,
    /// The resource identifiers tokens are addressed to when the client is a resource server.
    ResourceUris,
    /// `token_endpoint_auth_method`.
    TokenEndpointAuthMethod,
    /// `jwks`.
    Jwks,
    /// `jwks_uri`.
    JwksUri,
    /// Any of RFC 8705's `tls_client_auth_*` values.
    TlsClientAuth,
    /// `tls_client_auth_subject_dn`.
    TlsClientAuthSubjectDn,
    /// `client_secret`.
    ClientSecret,
}

impl Field {
    /// The metadata name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GrantTypes => "grant_types",
            Self::RedirectUris => "redirect_uris",
            Self::Scope => "scope",
            Self::Audience => "audience",
            Self::ResourceUris => "resource_uris",
            Self::TokenEndpointAuthMethod => "token_endpoint_auth_method",
            Self::Jwks => "jwks",
            Self::JwksUri => "jwks_uri",
            Self::TlsClientAuth => "tls_client_auth_*",
            Self::TlsClientAuthSubjectDn => "tls_client_auth_subject_dn",
            Self::ClientSecret => "client_secret",
        }
    }
}

/// Why a registration is refused (RFC 7591 §3.2.2 `invalid_client_metadata` or
/// `invalid_redirect_uri` when it comes over HTTP). Displayed with the RFC 7591 field names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe(&Field::as_str))]
pub enum RegistrationError {
    /// A redirection URI that may not be registered (the reason names it).
    RedirectUri(String),
    /// The authorization code grant without a redirection URI.
    CodeGrantNeedsRedirectUri,
    /// Redirection URIs without the authorization code grant.
    RedirectUriNeedsCodeGrant,
    /// `refresh_token` without `authorization_code`, the only grant here that issues one.
    RefreshNeedsCodeGrant,
    /// A public client asking for `client_credentials`.
    PublicClientCredentials,
    /// A public client asking for token exchange (RFC 8693).
    PublicTokenExchange,
    /// Token exchange without a resource URI: no token could ever be addressed to the client,
    /// so it could exchange none.
    ExchangeNeedsResourceUri,
    /// A scope that is not an RFC 6749 §3.3 scope-token.
    InvalidScope(String),
    /// A default scope outside the client's scopes.
    DefaultScopeNotInScope(String),
    /// Keys for a method that uses none (the field says which: `jwks` or `jwks_uri`).
    KeysNeedKeyMethod(Field),
    /// `private_key_jwt` or `self_signed_tls_client_auth` without keys.
    KeyMethodNeedsKeys(AuthMethod),
    /// Both `jwks` and `jwks_uri`.
    JwksAndJwksUri,
    /// A `jwks_uri` that may not be registered: the reason, and the URI.
    InvalidJwksUri(&'static str, String),
    /// A `jwks` that is not a usable public JWK Set (the reason).
    InvalidJwks(String),
    /// `tls_client_auth` without exactly one `tls_client_auth_*` value.
    TlsMethodNeedsOneValue,
    /// A `tls_client_auth_*` value for another method.
    TlsValueNeedsTlsMethod,
    /// A subject DN that is not RFC 4514: the value and the reason.
    InvalidSubjectDn(String, String),
    /// An empty subject DN.
    EmptySubjectDn,
    /// A secret for a method that uses none (a public client holds none, RFC 6749 §2.1).
    SecretNeedsSecretMethod(AuthMethod),
    /// A secret method without a secret.
    SecretMethodNeedsSecret(AuthMethod),
    /// A client that may ask for tokens but names no audience: it would be refused every one.
    AudienceRequired,
    /// An audience that is not an absolute URI without a fragment.
    InvalidAudience(String),
    /// A resource URI that may not be registered (the reason names it).
    InvalidResourceUri(String),
}

impl RegistrationError {
    /// The field at fault, first if several are.
    pub fn field(&self) -> Field {
        match self {
            Self::RedirectUri(_) | Self::RedirectUriNeedsCodeGrant => Field::RedirectUris,
            Self::CodeGrantNeedsRedirectUri | Self::RefreshNeedsCodeGrant => Field::GrantTypes,
            Self::PublicClientCredentials
            | Self::PublicTokenExchange
            | Self::KeyMethodNeedsKeys(_)
            | Self::SecretMethodNeedsSecret(_)
            | Self::TlsMethodNeedsOneValue => Field::TokenEndpointAuthMethod,
            Self::InvalidScope(_) | Self::DefaultScopeNotInScope(_) => Field::Scope,
            Self::KeysNeedKeyMethod(field) => *field,
            Self::JwksAndJwksUri | Self::InvalidJwks(_) => Field::Jwks,
            Self::InvalidJwksUri(..) => Field::JwksUri,
            Self::TlsValueNeedsTlsMethod => Field::TlsClientAuth,
            Self::InvalidSubjectDn(..) | Self::EmptySubjectDn => Field::TlsClientAuthSubjectDn,
            Self::SecretNeedsSecretMethod(_) => Field::ClientSecret,
            Self::AudienceRequired | Self::InvalidAudience(_) => Field::Audience,
            Self::InvalidResourceUri(_) | Self::ExchangeNeedsResourceUri => Field::ResourceUris,
        }
    }

    /// The message, with each field called what `name` calls it (the CLI passes its flags).
    pub fn describe(&self, name: &dyn Fn(Field) -> &'static str) -> String {
        use Field::*;
        let method = name(TokenEndpointAuthMethod);
        let grant_types = name(GrantTypes);
        match self {
            Self::RedirectUri(reason) => format!("{} {reason}", name(RedirectUris)),
            Self::CodeGrantNeedsRedirectUri => format!(
                "{grant_types} authorization_code needs at least one {}",
                name(RedirectUris)
            ),
            Self::RedirectUriNeedsCodeGrant => format!(
                "{} goes with {grant_types} authorization_code",
                name(RedirectUris)
            ),
            Self::RefreshNeedsCodeGrant => {
                format!("{grant_types} refresh_token needs {grant_types} authorization_code")
            }
            Self::PublicClientCredentials => format!(
                "a public client ({method} none) cannot use client_credentials: list its grant types"
            ),
            Self::PublicTokenExchange => format!(
                "a public client ({method} none) cannot exchange tokens: it cannot prove who acts"
            ),
            Self::ExchangeNeedsResourceUri => format!(
                "{grant_types} urn:ietf:params:oauth:grant-type:token-exchange needs at least one \
                 {}: the client may exchange only tokens addressed to it",
                name(ResourceUris)
            ),
            Self::InvalidScope(s) => {
                format!("invalid scope {s:?} in {} (RFC 6749 §3.3)", name(Scope))
            }
            Self::DefaultScopeNotInScope(s) => {
                format!("default scope {s:?} is not in {}", name(Scope))
            }
            Self::KeysNeedKeyMethod(field) => format!(
                "{} goes with {method} private_key_jwt or self_signed_tls_client_auth",
                name(*field)
            ),
            Self::KeyMethodNeedsKeys(m) => format!(
                "{method} {} needs {} or {}",
                m.as_str(),
                name(Jwks),
                name(JwksUri)
            ),
            Self::JwksAndJwksUri => format!(
                "{} and {} cannot both be given (RFC 7591 §2)",
                name(Jwks),
                name(JwksUri)
            ),
            // The reason names jwks_uri itself (it is also the fetcher's audit wording).
            Self::InvalidJwksUri(reason, uri) => format!("{reason}: {uri:?}"),
            Self::InvalidJwks(reason) => format!("{} {reason}", name(Jwks)),
            Self::TlsMethodNeedsOneValue => format!(
                "{method} tls_client_auth needs exactly one {} value",
                name(TlsClientAuth)
            ),
            Self::TlsValueNeedsTlsMethod => format!(
                "{} values need {method} tls_client_auth",
                name(TlsClientAuth)
            ),
            Self::InvalidSubjectDn(dn, reason) => {
                format!("{} {dn:?}: {reason}", name(TlsClientAuthSubjectDn))
            }
            Self::EmptySubjectDn => format!("{} is empty", name(TlsClientAuthSubjectDn)),
            Self::SecretNeedsSecretMethod(m) => format!(
                "{method} {} holds no {} (only client_secret_basic and client_secret_post do)",
                m.as_str(),
                name(ClientSecret)
            ),
            Self::SecretMethodNeedsSecret(m) => {
                format!("{method} {} needs a {}", m.as_str(), name(ClientSecret))
            }
            Self::AudienceRequired => {
                let audience = name(Audience);
                format!(
                    "{audience} is required: every access token is issued for one resource \
                     server (its aud, RFC 8707), so a client without an audience could never \
                     get a token; give the resource server's URI with {audience}, or \
                     {grant_types} none for a client that only introspects or reads the \
                     revocation feed"
                )
            }
            Self::InvalidAudience(a) => format!(
                "{} {a:?} must be an absolute URI without a fragment",
                name(Audience)
            ),
            Self::InvalidResourceUri(reason) => format!("{} {reason}", name(ResourceUris)),
        }
    }
}

/// A registration's authentication metadata as it arrives: loose optional fields (RFC 7591 §2
/// `token_endpoint_auth_method`, `jwks`, `jwks_uri`; RFC 8705 §2.1.2 `tls_client_auth_*`) and
/// the hash of the secret the caller generated, if any.
#[derive(Clone, Debug, Default)]
pub struct CredentialMetadata {
    /// `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: AuthMethod,
    /// The secrets' hashes: given exactly for `client_secret_basic` and `client_secret_post`.
    pub secrets: Option<ClientSecrets>,
    /// `jwks`, the JWK Set as JSON.
    pub jwks: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// The `tls_client_auth_*` values given (RFC 8705 §2.1.2: exactly one, for
    /// `tls_client_auth` only).
    pub tls_client_auth: Vec<TlsClientAuth>,
}

impl From<&Credential> for CredentialMetadata {
    /// The metadata a credential was built from (to change one field and build it again).
    fn from(credential: &Credential) -> Self {
        let keys = credential.keys();
        Self {
            token_endpoint_auth_method: credential.auth_method(),
            secrets: credential.secrets().cloned(),
            jwks: keys.and_then(ClientKeys::jwks).map(str::to_string),
            jwks_uri: keys.and_then(ClientKeys::jwks_uri).map(str::to_string),
            tls_client_auth: credential.tls_subject().cloned().into_iter().collect(),
        }
    }
}

impl CredentialMetadata {
    /// The one credential these fields describe: the method's own credential present and
    /// valid, nothing another method uses.
    pub fn into_credential(self) -> Result<Credential, RegistrationError> {
        let method = self.token_endpoint_auth_method;
        let subject = tls_subject(method, self.tls_client_auth)?;
        let keys = keys(method, self.jwks, self.jwks_uri)?;
        if let Some(keys) = &keys {
            check_keys(keys)?;
        }
        let secrets = match (method.uses_secret(), self.secrets) {
            (true, Some(secrets)) => Some(secrets),
            (true, None) => return Err(RegistrationError::SecretMethodNeedsSecret(method)),
            (false, Some(_)) => return Err(RegistrationError::SecretNeedsSecretMethod(method)),
            (false, None) => None,
        };
        Ok(match (method, secrets, keys, subject) {
            (AuthMethod::ClientSecretBasic, Some(secrets), ..) => Credential::Secret {
                method: SecretMethod::Basic,
                secrets,
            },
            (AuthMethod::ClientSecretPost, Some(secrets), ..) => Credential::Secret {
                method: SecretMethod::Post,
                secrets,
            },
            (AuthMethod::PrivateKeyJwt, _, Some(keys), _) => Credential::PrivateKeyJwt(keys),
            (AuthMethod::SelfSignedTlsClientAuth, _, Some(keys), _) => {
                Credential::Tls(TlsCredential::SelfSigned(keys))
            }
            (AuthMethod::TlsClientAuth, _, _, Some(subject)) => {
                Credential::Tls(TlsCredential::Subject(subject))
            }
            (AuthMethod::None, ..) => Credential::None,
            // Each method's credential was required above.
            (m, ..) => return Err(RegistrationError::KeyMethodNeedsKeys(m)),
        })
    }
}

/// RFC 8705 §2.1.2: exactly one `tls_client_auth_*` value, for that method only; a subject DN
/// must parse as RFC 4514 (it is matched RDN by RDN, RFC 4517 distinguishedNameMatch) and is
/// kept in its canonical form.
fn tls_subject(
    method: AuthMethod,
    mut given: Vec<TlsClientAuth>,
) -> Result<Option<TlsClientAuth>, RegistrationError> {
    match (method, given.len()) {
        (AuthMethod::TlsClientAuth, 1) => given.pop().map(canonical).transpose(),
        (AuthMethod::TlsClientAuth, _) => Err(RegistrationError::TlsMethodNeedsOneValue),
        (_, 0) => Ok(None),
        _ => Err(RegistrationError::TlsValueNeedsTlsMethod),
    }
}

fn canonical(value: TlsClientAuth) -> Result<TlsClientAuth, RegistrationError> {
    match value {
        TlsClientAuth::SubjectDn(dn) => {
            let parsed = DistinguishedName::parse(&dn)
                .map_err(|e| RegistrationError::InvalidSubjectDn(dn.clone(), e.to_string()))?;
            if parsed.rdns.is_empty() {
                return Err(RegistrationError::EmptySubjectDn);
            }
            Ok(TlsClientAuth::SubjectDn(parsed.to_string()))
        }
        other => Ok(other),
    }
}

/// RFC 7591 §2: `jwks` or `jwks_uri`, not both, and only for the methods that prove a key.
fn keys(
    method: AuthMethod,
    jwks: Option<String>,
    jwks_uri: Option<String>,
) -> Result<Option<ClientKeys>, RegistrationError> {
    let needs_keys = matches!(
        method,
        AuthMethod::PrivateKeyJwt | AuthMethod::SelfSignedTlsClientAuth
    );
    match (jwks, jwks_uri) {
        (Some(_), Some(_)) => Err(RegistrationError::JwksAndJwksUri),
        (_, Some(_)) if !needs_keys => Err(RegistrationError::KeysNeedKeyMethod(Field::JwksUri)),
        (Some(_), _) if !needs_keys => Err(RegistrationError::KeysNeedKeyMethod(Field::Jwks)),
        (None, None) if needs_keys => Err(RegistrationError::KeyMethodNeedsKeys(method)),
        (Some(jwks), None) => Ok(Some(ClientKeys::Jwks(jwks))),
        (None, Some(uri)) => Ok(Some(ClientKeys::JwksUri(uri))),
        (None, None) => Ok(None),
    }
}

/// A `jwks_uri` Tessera may fetch from; a `jwks` of public, usable keys only.
fn check_keys(keys: &ClientKeys) -> Result<(), RegistrationError> {
    match keys {
        ClientKeys::JwksUri(uri) => jwks_uri::check_uri(uri)
            .map_err(|reason| RegistrationError::InvalidJwksUri(reason, uri.clone())),
        ClientKeys::Jwks(text) => check_jwks(text).map_err(RegistrationError::InvalidJwks),
    }
}

fn check_jwks(text: &str) -> Result<(), String> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(text).map_err(|e| format!("is not a JWK Set: {e}"))?;
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if raw["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .any(crate::jose::has_private_members)
    {
        return Err("contains private key material: register public keys only".into());
    }
    if set.keys.is_empty() {
        return Err("has no keys".into());
    }
    for key in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| format!("has an unusable key: {e}"))?;
    }
    Ok(())
}

/// The rules a registration must keep, whether it is created or updated: grant types and
/// redirect URIs that go together, valid scopes with the defaults among them, a valid
/// credential, valid audiences (at least one for a client that asks for tokens) and valid
/// resource URIs. The first rule broken is the answer.
pub fn check(c: &Client) -> Result<(), RegistrationError> {
    for uri in &c.redirect_uris {
        check_redirect_uri(uri).map_err(RegistrationError::RedirectUri)?;
    }
    let code_grant = c.grant_types.contains(&GrantType::AuthorizationCode);
    if code_grant && c.redirect_uris.is_empty() {
        return Err(RegistrationError::CodeGrantNeedsRedirectUri);
    }
    if !code_grant && !c.redirect_uris.is_empty() {
        return Err(RegistrationError::RedirectUriNeedsCodeGrant);
    }
    if c.grant_types.contains(&GrantType::RefreshToken) && !code_grant {
        return Err(RegistrationError::RefreshNeedsCodeGrant);
    }
    // RFC 6749 §4.4: the client credentials grant "MUST only be used by confidential clients".
    if c.is_public() && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(RegistrationError::PublicClientCredentials);
    }
    // RFC 8693 §2.1: the exchanging client authenticates; it is the actor the new token names.
    let exchange = c.grant_types.contains(&GrantType::TokenExchange);
    if c.is_public() && exchange {
        return Err(RegistrationError::PublicTokenExchange);
    }
    if exchange && c.resource_uris.is_empty() {
        return Err(RegistrationError::ExchangeNeedsResourceUri);
    }
    if let Some(bad) = c.scopes.iter().find(|s| !scope::is_scope_token(s)) {
        return Err(RegistrationError::InvalidScope(bad.clone()));
    }
    if let Some(keys) = c.credential.keys() {
        check_keys(keys)?;
    }
    if let Some(subject) = c.credential.tls_subject() {
        canonical(subject.clone())?;
    }
    if let Some(extra) = c.default_scopes.iter().find(|s| !c.scopes.contains(s)) {
        return Err(RegistrationError::DefaultScopeNotInScope(extra.clone()));
    }
    // RFC 8707 / RFC 9068 §3: every access token is issued for exactly one resource server (its
    // `aud`); a client with no audience would be refused every token (`invalid_target`).
    if c.audiences.is_empty() && !c.grant_types.is_empty() {
        return Err(RegistrationError::AudienceRequired);
    }
    for uri in &c.resource_uris {
        check_resource_uri(uri).map_err(RegistrationError::InvalidResourceUri)?;
    }
    if let Some(bad) = c.audiences.iter().find(|a| !audience::is_valid_resource(a)) {
        return Err(RegistrationError::InvalidAudience(bad.clone()));
    }
    Ok(())
}
