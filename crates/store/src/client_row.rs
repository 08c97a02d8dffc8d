//! A client's [`Credential`] in the `clients` table, shared by both backends. The table keeps
//! the loose columns it always had (`auth_method`, `secret_hash`, `previous_secret_*`, `jwks`,
//! `jwks_uri`, `tls_client_auth`): writing spreads the enum over them, reading builds the one
//! credential the row's `auth_method` names from the columns that method uses.
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::{
    AuthMethod, ClientKeys, ClientSecrets, Credential, SecretMethod, TlsCredential,
};
use tessera_proto::SecretHash;

/// The credential columns of a row, as written.
pub(crate) struct CredentialColumns<'a> {
    /// The current secret's hash; empty for a client without a secret (the column is NOT NULL).
    pub secret_hash: &'a [u8],
    /// The previous secret's hash and expiry, during a rotation's grace period.
    pub previous: Option<(&'a [u8], i64)>,
    pub auth_method: &'static str,
    pub jwks: Option<&'a str>,
    pub jwks_uri: Option<&'a str>,
    /// JSON of the `tls_client_auth` value.
    pub tls_client_auth: Option<String>,
}

impl<'a> CredentialColumns<'a> {
    pub fn of(credential: &'a Credential) -> Self {
        let secrets = credential.secrets();
        let keys = credential.keys();
        Self {
            secret_hash: secrets.map_or(&[][..], |s| s.current.as_bytes().as_slice()),
            previous: secrets
                .and_then(|s| s.previous.as_ref())
                .map(|(h, e)| (h.as_bytes().as_slice(), *e as i64)),
            auth_method: credential.auth_method().as_str(),
            jwks: keys.and_then(ClientKeys::jwks),
            jwks_uri: keys.and_then(ClientKeys::jwks_uri),
            tls_client_auth: credential
                .tls_subject()
                .map(|t| serde_json::to_string(t).expect("a TLS subject serialises")),
        }
    }
}

/// The credential columns of a row, as read.
pub(crate) struct StoredCredential {
    pub auth_method: String,
    pub secret_hash: Vec<u8>,
    pub previous_secret_hash: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<i64>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub tls_client_auth: Option<String>,
}

impl StoredCredential {
    /// The credential the row's `auth_method` names; the error is the column that cannot give
    /// it. Columns another method would use are ignored, and a row holding both `jwks` and
    /// `jwks_uri` (possible before the rules lived in one place) uses `jwks`, as the server
    /// always did.
    pub fn into_credential(self) -> Result<Credential, &'static str> {
        let method = AuthMethod::parse(&self.auth_method).ok_or("auth_method")?;
        let keys = || match (self.jwks.clone(), self.jwks_uri.clone()) {
            (Some(jwks), _) => Ok(ClientKeys::Jwks(jwks)),
            (None, Some(uri)) => Ok(ClientKeys::JwksUri(uri)),
            (None, None) => Err("jwks"),
        };
        Ok(match method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => Credential::Secret {
                method: if method == AuthMethod::ClientSecretPost {
                    SecretMethod::Post
                } else {
                    SecretMethod::Basic
                },
                secrets: self.secrets()?,
            },
            AuthMethod::PrivateKeyJwt => Credential::PrivateKeyJwt(keys()?),
            AuthMethod::SelfSignedTlsClientAuth => {
                Credential::Tls(TlsCredential::SelfSigned(keys()?))
            }
            AuthMethod::TlsClientAuth => {
                let text = self.tls_client_auth.as_deref().ok_or("tls_client_auth")?;
                let subject: TlsClientAuth =
                    serde_json::from_str(text).map_err(|_| "tls_client_auth")?;
                Credential::Tls(TlsCredential::Subject(subject))
            }
            AuthMethod::None => Credential::None,
        })
    }

    fn secrets(&self) -> Result<ClientSecrets, &'static str> {
        let hash = |bytes: &[u8]| SecretHash::from_bytes(bytes).ok_or("secret_hash");
        let previous = match (&self.previous_secret_hash, self.previous_secret_expires_at) {
            (Some(h), Some(exp)) => Some((hash(h)?, exp as u64)),
            _ => None,
        };
        Ok(ClientSecrets {
            current: hash(&self.secret_hash)?,
            previous,
        })
    }
}
