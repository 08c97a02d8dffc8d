//! Prometheus metrics: requests by endpoint and outcome, latency histograms, tokens issued by
//! client and format, the age of each current signing key, and the login page's password
//! checks (running, peak, slots).
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tessera_core::Authority;
use tessera_core::keys::SigningAlg;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IssuedLabels {
    client_id: String,
    format: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    alg: &'static str,
    kid: String,
}

/// The registry and its metric families.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<EndpointLabels, Histogram>,
    issued: Family<IssuedLabels, Counter>,
    key_age: Family<KeyLabels, Gauge>,
    password_checks: Gauge,
    password_checks_peak: Gauge,
    password_check_slots: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.00005, 2.0, 16))
        });
        let issued = Family::<IssuedLabels, Counter>::default();
        let key_age = Family::<KeyLabels, Gauge>::default();
        registry.register(
            "requests",
            "Requests by endpoint and outcome (ok or the RFC error code)",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request latency by endpoint",
            latency.clone(),
        );
        registry.register(
            "tokens_issued",
            "Access tokens issued by client and format",
            issued.clone(),
        );
        registry.register(
            "signing_key_age_seconds",
            "Age of each current signing key",
            key_age.clone(),
        );
        let password_checks = Gauge::default();
        let password_checks_peak = Gauge::default();
        let password_check_slots = Gauge::default();
        registry.register(
            "password_checks_running",
            "Login password checks (argon2id) running now",
            password_checks.clone(),
        );
        registry.register(
            "password_checks_peak",
            "Most login password checks that ran at once since the node started",
            password_checks_peak.clone(),
        );
        registry.register(
            "password_check_slots",
            "Login password checks allowed at once (login.max_concurrent_hashes)",
            password_check_slots.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            issued,
            key_age,
            password_checks,
            password_checks_peak,
            password_check_slots,
        }
    }
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, endpoint: &'static str, outcome: &'static str, started: Instant) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, outcome })
            .inc();
        self.latency
            .get_or_create(&EndpointLabels { endpoint })
            .observe(started.elapsed().as_secs_f64());
    }

    /// Records one issued token.
    pub fn issued(&self, client_id: &str, format: &'static str) {
        self.issued
            .get_or_create(&IssuedLabels {
                client_id: client_id.to_string(),
                format,
            })
            .inc();
    }

    /// The text exposition, with key ages taken now.
    pub fn render(&self, authority: &Authority) -> String {
        let now = authority.clock().now();
        let keys = authority.keys();
        self.key_age.clear();
        for alg in SigningAlg::ALL {
            if let Some(signer) = keys.signer(alg) {
                let age = now.saturating_sub(signer.activated_at) as i64;
                self.key_age
                    .get_or_create(&KeyLabels {
                        alg: alg.as_str(),
                        kid: signer.kid.clone(),
                    })
                    .set(age);
            }
        }
        let gate = authority.password_gate();
        self.password_checks.set(gate.running() as i64);
        self.password_checks_peak.set(gate.peak() as i64);
        self.password_check_slots.set(gate.size() as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}
