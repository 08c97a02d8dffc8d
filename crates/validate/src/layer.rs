//! The tower middleware, in the tower-http shape: [`ValidateTokenLayer`] wraps a service in
//! [`ValidateToken`], whose calls return a [`ResponseFuture`]. An accepted request reaches the
//! inner service with its [`TokenClaims`] in the extensions; a refused one never does.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{Request, Response, Uri};
use tessera_proto::clock::{Clock, SystemClock};
use tower::{Layer, Service};

use crate::claims::TokenClaims;
use crate::config::ValidateConfig;
use crate::error::{ErrorKind, Rejection};
use crate::validator::{Presented, Validator};

/// Applies [`ValidateToken`] to a service. Cheap to clone: every clone shares one JWKS cache,
/// introspection cache, revocation set and DPoP replay cache.
#[derive(Clone)]
pub struct ValidateTokenLayer {
    validator: Arc<Validator>,
    scopes: Arc<[String]>,
}

impl ValidateTokenLayer {
    /// Discovers the issuer (RFC 8414), loads its keys and starts the revocation feed and usage
    /// reporter when configured. Fails if the issuer cannot be reached: a resource server that
    /// cannot validate should not start serving.
    pub async fn new(config: ValidateConfig) -> Result<Self, String> {
        Self::with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`ValidateTokenLayer::new`] with the time read from `clock` (token expiry, DPoP proof
    /// freshness, cache lifetimes, the revocation feed's entries, usage event times): tests pin
    /// it with a [`crate::FixedClock`] instead of sleeping.
    pub async fn with_clock(config: ValidateConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        Ok(Self {
            validator: Validator::start_with_clock(config, clock).await?,
            scopes: Arc::from(Vec::new()),
        })
    }

    /// The same validator, additionally requiring `scopes` — for one route or router:
    /// `.route_layer(layer.requiring(&["deploy:write"]))`.
    pub fn requiring(&self, scopes: &[&str]) -> Self {
        let mut all: Vec<String> = self.scopes.to_vec();
        all.extend(scopes.iter().map(|s| s.to_string()));
        Self {
            validator: self.validator.clone(),
            scopes: Arc::from(all),
        }
    }

    /// The shared validator.
    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }
}

impl<S> Layer<S> for ValidateTokenLayer {
    type Service = ValidateToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ValidateToken {
            inner,
            validator: self.validator.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

/// Replaces the request's path with its normal form (the query is kept as sent).
fn with_normal_path<B>(req: &mut Request<B>, presented: &Presented) -> Result<(), Rejection> {
    let path = presented.path().map_err(Clone::clone)?;
    if req.uri().path() == path {
        return Ok(());
    }
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = req.uri().clone().into_parts();
    let refused = || {
        Rejection::bearer(
            ErrorKind::InvalidRequest,
            "the request path cannot be normalised",
        )
    };
    parts.path_and_query = Some(path_and_query.parse().map_err(|_| refused())?);
    *req.uri_mut() = Uri::from_parts(parts).map_err(|_| refused())?;
    Ok(())
}

/// A service that refuses requests without a valid access token (RFC 6750, RFC 9449, RFC 8705).
#[derive(Clone)]
pub struct ValidateToken<S> {
    inner: S,
    validator: Arc<Validator>,
    scopes: Arc<[String]>,
}

/// The future of [`ValidateToken`]: validation (possibly a JWKS refetch or an introspection
/// round trip), then the inner service. Boxed, as validation is itself asynchronous.
pub struct ResponseFuture<T, E> {
    inner: Pin<Box<dyn Future<Output = Result<T, E>> + Send>>,
}

impl<T, E> Future for ResponseFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ValidateToken<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let presented = Presented::of(
            req.method(),
            req.uri(),
            req.headers(),
            req.extensions(),
            self.validator.config().external_origin.as_deref(),
        );
        // The ready service goes into the future; a fresh clone waits for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let scopes = self.scopes.clone();
        ResponseFuture {
            inner: Box::pin(async move {
                match validator.validate(&presented, &scopes).await {
                    Ok(claims) => {
                        // What comes next routes on, or forwards, the very path the scopes
                        // were checked on.
                        if let Err(rejection) = with_normal_path(&mut req, &presented) {
                            return Ok(rejection.into_response(validator.dpop_algs()));
                        }
                        req.extensions_mut().insert::<TokenClaims>(claims);
                        inner.call(req).await
                    }
                    Err(rejection) => Ok(rejection.into_response(validator.dpop_algs())),
                }
            }),
        }
    }
}
