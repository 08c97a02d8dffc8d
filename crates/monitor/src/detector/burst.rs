//! Burst: a token's or client's request rate far above its own learned baseline.
//!
//! Requests are counted in fixed buckets (a minute by default). Each client learns two
//! baselines from its finished buckets that raised no alert and held no tainted event: an EWMA
//! of its busy buckets (so idle nights do not drag it to zero) and a slowly decaying peak (so an
//! agent's normal hourly burst is learned as normal). A token is judged against the same
//! baselines of its client's busiest token per bucket, since a token rarely lives long enough
//! to learn its own. Nothing alerts until the client has been watched
//! for `warmup_hours` and `warmup_buckets` busy buckets: new clients never alert.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation, decay, restore_map, snapshot_map};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;

/// The detector's name.
pub const NAME: &str = "burst";

/// Thresholds of the burst detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstConfig {
    /// Run this detector.
    pub enabled: bool,
    /// Width of one counting bucket, seconds.
    pub bucket_secs: u64,
    /// EWMA weight of each new busy bucket (0–1).
    pub alpha: f64,
    /// Alert above this multiple of the EWMA baseline.
    pub factor: f64,
    /// …and above this multiple of the decayed peak.
    pub peak_factor: f64,
    /// Half-life of the learned peak, hours.
    pub peak_half_life_hours: u64,
    /// Never alert on fewer requests than this in one bucket.
    pub min_events: u32,
    /// A client is watched this long before it can alert, hours.
    pub warmup_hours: u64,
    /// …and for at least this many busy buckets.
    pub warmup_buckets: u32,
}

impl Default for BurstConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bucket_secs: 60,
            alpha: 0.1,
            factor: 10.0,
            peak_factor: 2.0,
            peak_half_life_hours: 72,
            min_events: 60,
            warmup_hours: 24,
            warmup_buckets: 30,
        }
    }
}

/// A learned rate: EWMA of busy buckets and a decaying peak.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Baseline {
    ewma: f64,
    peak: f64,
    peak_ms: u64,
    busy: u32,
}

impl Baseline {
    fn learn(&mut self, count: u32, now_ms: u64, alpha: f64, half_life_ms: u64) {
        let n = f64::from(count);
        self.ewma = if self.busy == 0 {
            n
        } else {
            self.ewma + alpha * (n - self.ewma)
        };
        self.peak = decay(self.peak, now_ms.saturating_sub(self.peak_ms), half_life_ms).max(n);
        self.peak_ms = self.peak_ms.max(now_ms);
        self.busy = self.busy.saturating_add(1);
    }

    fn threshold(&self, c: &BurstConfig, now_ms: u64, half_life_ms: u64) -> f64 {
        let peak = decay(self.peak, now_ms.saturating_sub(self.peak_ms), half_life_ms);
        f64::from(c.min_events)
            .max(c.factor * self.ewma)
            .max(c.peak_factor * peak)
    }
}

/// One bucket being counted.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Bucket {
    index: u64,
    count: u32,
    /// An alert was raised in this bucket: it is not learned from (attacks are not normal).
    flagged: bool,
    /// A tainted event was counted in this bucket: it is not learned from either.
    tainted: bool,
}

impl Bucket {
    /// Moves to bucket `index`, returning the finished bucket's count if it should be learned.
    fn advance(&mut self, index: u64) -> Option<u32> {
        if index <= self.index {
            return None;
        }
        let done = (self.count > 0 && !self.flagged && !self.tainted).then_some(self.count);
        *self = Bucket {
            index,
            ..Bucket::default()
        };
        done
    }
}

/// A client's counters and baselines.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct ClientRate {
    first_ms: u64,
    bucket: Bucket,
    /// The highest count any one of its tokens reached in the current bucket.
    busiest: u32,
    own: Baseline,
    /// How busy its busiest token gets in a bucket: what one token is judged against.
    per_token: Baseline,
}

/// The burst detector.
pub struct Burst {
    config: BurstConfig,
    bucket_ms: u64,
    half_life_ms: u64,
    tokens: BoundedMap<String, Bucket>,
    clients: BoundedMap<String, ClientRate>,
}

impl Burst {
    /// A detector holding at most `max_tokens` tokens and `max_clients` clients.
    pub fn new(config: BurstConfig, max_tokens: usize, max_clients: usize) -> Self {
        Self {
            bucket_ms: config.bucket_secs.max(1) * 1000,
            half_life_ms: config.peak_half_life_hours * 3_600_000,
            config,
            tokens: BoundedMap::new(max_tokens),
            clients: BoundedMap::new(max_clients),
        }
    }

    fn alert(
        &self,
        obs: &Observation<'_>,
        scope: &str,
        count: u32,
        base: &Baseline,
        threshold: f64,
    ) -> Alert {
        let mut alert = Alert::from_event(
            NAME,
            Severity::Medium,
            obs.event,
            format!(
                "{scope} made {count} requests in {} s, over its threshold of {threshold:.0}",
                self.config.bucket_secs
            ),
        );
        if scope == "client" {
            alert.token_id = None;
        }
        alert
            .with("scope", scope)
            .with("count", count)
            .with("bucket_secs", self.config.bucket_secs)
            .with("threshold", threshold.round())
            .with("baseline_ewma", (base.ewma * 100.0).round() / 100.0)
            .with("baseline_peak", base.peak.round())
    }
}

impl Detector for Burst {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        let token_counts = match event.kind {
            EventKind::TokenUsed | EventKind::TokenIntrospected => true,
            EventKind::TokenIssued => false,
            _ => return,
        };
        let Some(client_id) = event.client_id.as_deref() else {
            return;
        };
        let now = event.time_ms;
        let index = now / self.bucket_ms;
        let (c, half_life) = (&self.config, self.half_life_ms);
        let client = self.clients.get_or_insert_with(client_id, || ClientRate {
            first_ms: now,
            bucket: Bucket {
                index,
                ..Bucket::default()
            },
            ..ClientRate::default()
        });
        if index > client.bucket.index {
            let busiest = std::mem::take(&mut client.busiest);
            if let Some(done) = client.bucket.advance(index) {
                client.own.learn(done, now, c.alpha, half_life);
                if busiest > 0 {
                    client.per_token.learn(busiest, now, c.alpha, half_life);
                }
            }
        }
        client.bucket.count = client.bucket.count.saturating_add(1);
        client.bucket.tainted |= obs.tainted;
        let warm = now.saturating_sub(client.first_ms) >= c.warmup_hours * 3_600_000;

        let mut raised = None;
        if let (true, Some(token_id)) = (token_counts, event.token_id.as_deref()) {
            let token = self.tokens.get_or_insert_with(token_id, || Bucket {
                index,
                ..Bucket::default()
            });
            token.advance(index);
            token.count = token.count.saturating_add(1);
            client.busiest = client.busiest.max(token.count);
            token.tainted |= obs.tainted;
            if warm
                && !token.flagged
                && client.per_token.busy >= c.warmup_buckets
                && token.count > c.min_events
            {
                let threshold = client.per_token.threshold(c, now, half_life);
                if f64::from(token.count) > threshold {
                    token.flagged = true;
                    client.bucket.flagged = true;
                    raised = Some(("token", token.count, client.per_token, threshold));
                }
            }
        }
        let bucket = client.bucket;
        if raised.is_none()
            && warm
            && !bucket.flagged
            && client.own.busy >= c.warmup_buckets
            && bucket.count > c.min_events
        {
            let threshold = client.own.threshold(c, now, half_life);
            if f64::from(bucket.count) > threshold {
                client.bucket.flagged = true;
                raised = Some(("client", bucket.count, client.own, threshold));
            }
        }
        if let Some((scope, count, base, threshold)) = raised {
            out.push(self.alert(obs, scope, count, &base, threshold));
        }
    }

    fn state_len(&self) -> usize {
        self.tokens.len() + self.clients.len()
    }

    fn snapshot(&self) -> Option<Value> {
        Some(snapshot_map(&self.clients))
    }

    fn restore(&mut self, state: Value) -> Result<(), String> {
        restore_map(&mut self.clients, state)
    }
}
