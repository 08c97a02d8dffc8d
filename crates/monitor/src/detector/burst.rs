//! Burst: a token's or client's request rate far above its own learned baseline.
//!
//! Requests are counted in fixed buckets (30 minutes by default) and judged over the current
//! and the previous bucket, so an attack straddling a boundary is counted whole. The bucket is
//! long on purpose: a low-rate service calls every 20–40 minutes, so its 50× burst is only one
//! or two calls a minute — invisible per minute, obvious per half hour — while an agent's normal
//! 100-calls-a-minute bursts last a minute or two and are learned as its peak. Each client
//! learns, from finished buckets that raised no alert and held no tainted event, an EWMA of its
//! busy buckets and a slowly decaying peak; a token is judged against the same baselines of its
//! client's busiest token per bucket (a token rarely lives long enough to learn its own).
//! Nothing alerts until the client has been watched for `warmup_hours` and `warmup_buckets`
//! busy buckets: new clients never alert.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation, restore_map, snapshot_map};
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
    /// Alert above this multiple of the EWMA baseline (0: the peak alone decides; the EWMA of
    /// the busiest token is far above a quiet token's own rate, so it would hide its burst).
    pub factor: f64,
    /// …and above this multiple of the decayed peak.
    pub peak_factor: f64,
    /// Half-life of the learned peak, in hours of activity (busy buckets; idle time does not
    /// count, so a weekend does not make Monday look like a burst).
    pub peak_half_life_hours: u64,
    /// Never alert on fewer requests than this in a bucket and the one before.
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
            bucket_secs: 1800,
            alpha: 0.1,
            factor: 0.0,
            peak_factor: 3.0,
            peak_half_life_hours: 72,
            min_events: 10,
            warmup_hours: 72,
            warmup_buckets: 12,
        }
    }
}

/// A learned rate: EWMA of busy buckets and a decaying peak.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Baseline {
    ewma: f64,
    peak: f64,
    busy: u32,
}

impl Baseline {
    /// Learns one finished bucket. The peak decays per busy bucket learned, not per hour of
    /// the clock: a weekend or a night without work does not erode what a busy day looks like.
    fn learn(&mut self, count: u32, alpha: f64, half_life_buckets: f64) {
        let n = f64::from(count);
        self.ewma = if self.busy == 0 {
            n
        } else {
            self.ewma + alpha * (n - self.ewma)
        };
        let fade = if half_life_buckets > 0.0 {
            0.5f64.powf(1.0 / half_life_buckets)
        } else {
            1.0
        };
        self.peak = (self.peak * fade).max(n);
        self.busy = self.busy.saturating_add(1);
    }

    fn threshold(&self, c: &BurstConfig) -> f64 {
        f64::from(c.min_events)
            .max(c.factor * self.ewma)
            .max(c.peak_factor * self.peak)
    }
}

/// One bucket being counted.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Bucket {
    index: u64,
    count: u32,
    /// The count of the bucket just before, when it is the previous one.
    #[serde(default)]
    prev: u32,
    /// An alert was raised in this bucket: it is not learned from (attacks are not normal).
    flagged: bool,
    /// A tainted event was counted in this bucket: it is not learned from either.
    tainted: bool,
}

impl Bucket {
    /// Moves to bucket `index`, returning the finished bucket's count if it should be learned.
    /// What is learned is what is judged: the bucket plus the one before. A bucket that
    /// alerted is not carried into the next one (its attack was already reported).
    fn advance(&mut self, index: u64) -> Option<u32> {
        if index <= self.index {
            return None;
        }
        let done = (self.count > 0 && !self.flagged && !self.tainted)
            .then_some(self.count.saturating_add(self.prev));
        let prev = if index == self.index + 1 && !self.flagged {
            self.count
        } else {
            0
        };
        *self = Bucket {
            index,
            prev,
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
    /// The highest judged count (bucket plus the one before) any one of its tokens reached in
    /// the current bucket.
    busiest: u32,
    own: Baseline,
    /// How busy its busiest token gets in a bucket: what one token is judged against.
    per_token: Baseline,
}

/// The burst detector.
pub struct Burst {
    config: BurstConfig,
    bucket_ms: u64,
    half_life_buckets: f64,
    tokens: BoundedMap<String, Bucket>,
    clients: BoundedMap<String, ClientRate>,
}

impl Burst {
    /// A detector holding at most `max_tokens` tokens and `max_clients` clients.
    pub fn new(config: BurstConfig, max_tokens: usize, max_clients: usize) -> Self {
        Self {
            bucket_ms: config.bucket_secs.max(1) * 1000,
            half_life_buckets: (config.peak_half_life_hours * 3600) as f64
                / config.bucket_secs.max(1) as f64,
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
                "{scope} made {count} requests in at most {} s, over its threshold of {threshold:.0}",
                2 * self.config.bucket_secs
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
        let (c, half_life) = (&self.config, self.half_life_buckets);
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
                client.own.learn(done, c.alpha, half_life);
                if busiest > 0 {
                    client.per_token.learn(busiest, c.alpha, half_life);
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
            token.tainted |= obs.tainted;
            let judged = token.count.saturating_add(token.prev);
            if !token.flagged {
                client.busiest = client.busiest.max(judged);
            }
            if warm
                && !token.flagged
                && client.per_token.busy >= c.warmup_buckets
                && judged > c.min_events
            {
                let threshold = client.per_token.threshold(c);
                if f64::from(judged) > threshold {
                    token.flagged = true;
                    client.bucket.flagged = true;
                    raised = Some(("token", judged, client.per_token, threshold));
                }
            }
        }
        let bucket = client.bucket;
        let judged = bucket.count.saturating_add(bucket.prev);
        if raised.is_none()
            && warm
            && !bucket.flagged
            && client.own.busy >= c.warmup_buckets
            && judged > c.min_events
        {
            let threshold = client.own.threshold(c);
            if f64::from(judged) > threshold {
                client.bucket.flagged = true;
                raised = Some(("client", judged, client.own, threshold));
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
