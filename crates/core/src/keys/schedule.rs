//! The signing-key lifecycle as a pure plan: given the stored keys, the policy and the time, what
//! is due — publish a `next` key, promote it to `current`, remove keys whose tokens have expired.
//!
//! The order is what keeps every valid token verifiable: a key is published (as `next`) at least
//! `publish_before_use` before it signs, so validators' cached JWK Sets hold it before its first
//! token; a retired key stays published until every token it could have signed has expired
//! (`tokens.max_ttl`) plus a leeway for clock skew and nodes that learn of the rotation late.
use super::{KeyState, SigningAlg, StoredKey};
use crate::config::Config;

/// The timing of the lifecycle, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Age of a current key at which it is replaced; `0`: no scheduled rotation.
    pub rotation_period: u64,
    /// How long a `next` key is published before it may sign.
    pub publish_before_use: u64,
    /// How long a retired key stays published after its retirement (`tokens.max_ttl` + leeway).
    pub retired_published_for: u64,
}

impl KeyPolicy {
    /// The policy a configuration describes.
    pub fn from_config(config: &Config) -> Self {
        Self {
            rotation_period: config.keys.rotation_period,
            publish_before_use: config.keys.publish_before_use,
            retired_published_for: config
                .tokens
                .max_ttl
                .saturating_add(config.keys.retired_leeway),
        }
    }

    /// When a `next` key created at `created_at` may become current.
    pub fn activates_at(&self, created_at: u64) -> u64 {
        created_at.saturating_add(self.publish_before_use)
    }

    /// Keys retired or revoked at or before this time may be removed (`None`: none yet).
    pub fn removal_cutoff(&self, now: u64) -> Option<u64> {
        now.checked_sub(self.retired_published_for)
    }
}

/// One thing that is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `alg` has no current key and no next key: make a current key at once (first start).
    CreateCurrent(SigningAlg),
    /// The current key of `alg` is due for replacement: publish a `next` key.
    CreateNext(SigningAlg),
    /// `next` has been published long enough: make it current, retiring `current`.
    Promote {
        /// The algorithm.
        alg: SigningAlg,
        /// The `next` key to promote.
        next: String,
        /// The current key it replaces, if any.
        current: Option<String>,
    },
    /// Retired and revoked keys whose tokens have all expired: remove those retired or revoked
    /// at or before `cutoff`.
    Prune {
        /// Retirement / revocation time bound.
        cutoff: u64,
    },
}

/// What is due at `now`. Each step is carried out by a conditional store operation, so when
/// several nodes plan at once exactly one of them acts.
pub fn plan(keys: &[StoredKey], policy: &KeyPolicy, now: u64) -> Vec<Step> {
    let mut steps = Vec::new();
    for alg in SigningAlg::ALL {
        let of = |state| {
            keys.iter()
                .filter(|k| k.alg == alg && k.state == state)
                .max_by_key(|k| (k.activated_at.unwrap_or(k.created_at), k.kid.clone()))
        };
        let (current, next) = (of(KeyState::Current), of(KeyState::Next));
        match (current, next) {
            (None, None) => steps.push(Step::CreateCurrent(alg)),
            // No current key (only after a manual repair): a published next key is the best
            // replacement whatever its age.
            (None, Some(n)) => steps.push(Step::Promote {
                alg,
                next: n.kid.clone(),
                current: None,
            }),
            (Some(c), Some(n)) => {
                if now >= policy.activates_at(n.created_at) {
                    steps.push(Step::Promote {
                        alg,
                        next: n.kid.clone(),
                        current: Some(c.kid.clone()),
                    });
                }
            }
            (Some(c), None) => {
                let activated = c.activated_at.unwrap_or(c.created_at);
                // Published `publish_before_use` ahead, so it can take over when the current
                // key reaches `rotation_period`.
                let due = activated
                    .saturating_add(policy.rotation_period)
                    .saturating_sub(policy.publish_before_use);
                if policy.rotation_period > 0 && now >= due {
                    steps.push(Step::CreateNext(alg));
                }
            }
        }
    }
    if let Some(cutoff) = policy.removal_cutoff(now) {
        let expired = keys.iter().any(|k| match k.state {
            KeyState::Retired => k.retired_at.is_some_and(|t| t <= cutoff),
            KeyState::Revoked => k.revoked_at.is_some_and(|t| t <= cutoff),
            KeyState::Current | KeyState::Next => false,
        });
        if expired {
            steps.push(Step::Prune { cutoff });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: KeyPolicy = KeyPolicy {
        rotation_period: 1000,
        publish_before_use: 100,
        retired_published_for: 400,
    };

    fn key(kid: &str, state: KeyState, created: u64) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: SigningAlg::ES256,
            state,
            private_key: tessera_proto::Secret::from_bytes(Vec::new()),
            sealed: false,
            public_jwk: String::new(),
            created_at: created,
            activated_at: (state != KeyState::Next).then_some(created),
            retired_at: None,
            revoked_at: None,
        }
    }

    fn es256(steps: Vec<Step>) -> Vec<Step> {
        steps
            .into_iter()
            .filter(|s| match s {
                Step::CreateCurrent(a) | Step::CreateNext(a) => *a == SigningAlg::ES256,
                Step::Promote { alg, .. } => *alg == SigningAlg::ES256,
                Step::Prune { .. } => true,
            })
            .collect()
    }

    #[test]
    fn first_start_creates_a_current_key_per_algorithm() {
        assert_eq!(
            plan(&[], &POLICY, 5),
            SigningAlg::ALL.map(Step::CreateCurrent).to_vec()
        );
    }

    #[test]
    fn next_is_published_ahead_and_promoted_after_the_delay() {
        let cur = key("c", KeyState::Current, 0);
        assert_eq!(es256(plan(std::slice::from_ref(&cur), &POLICY, 899)), []);
        assert_eq!(
            es256(plan(std::slice::from_ref(&cur), &POLICY, 900)),
            [Step::CreateNext(SigningAlg::ES256)]
        );
        let next = key("n", KeyState::Next, 900);
        let both = [cur, next];
        assert_eq!(es256(plan(&both, &POLICY, 999)), []);
        assert_eq!(
            es256(plan(&both, &POLICY, 1000)),
            [Step::Promote {
                alg: SigningAlg::ES256,
                next: "n".into(),
                current: Some("c".into()),
            }]
        );
    }

    #[test]
    fn a_late_node_still_publishes_before_use() {
        // Down past the rotation time: the next key is created now and waits its full delay.
        let cur = key("c", KeyState::Current, 0);
        assert_eq!(
            es256(plan(std::slice::from_ref(&cur), &POLICY, 5000)),
            [Step::CreateNext(SigningAlg::ES256)]
        );
        let both = [cur, key("n", KeyState::Next, 5000)];
        assert_eq!(es256(plan(&both, &POLICY, 5099)), []);
    }

    #[test]
    fn rotation_period_zero_only_promotes_manual_next_keys() {
        let off = KeyPolicy {
            rotation_period: 0,
            ..POLICY
        };
        let cur = key("c", KeyState::Current, 0);
        assert_eq!(es256(plan(std::slice::from_ref(&cur), &off, 1_000_000)), []);
        let both = [cur, key("n", KeyState::Next, 10)];
        assert_eq!(es256(plan(&both, &off, 110)).len(), 1);
    }

    #[test]
    fn retired_and_revoked_keys_are_pruned_after_their_tokens_expire() {
        let mut retired = key("r", KeyState::Retired, 0);
        retired.retired_at = Some(1000);
        let mut revoked = key("x", KeyState::Revoked, 0);
        revoked.revoked_at = Some(1200);
        let keys = [key("c", KeyState::Current, 1000), retired, revoked];
        assert_eq!(es256(plan(&keys, &POLICY, 1399)), []);
        assert_eq!(
            es256(plan(&keys, &POLICY, 1400)),
            [Step::Prune { cutoff: 1000 }]
        );
        assert_eq!(
            es256(plan(&keys, &POLICY, 1600)),
            [Step::Prune { cutoff: 1200 }]
        );
        assert_eq!(POLICY.removal_cutoff(399), None);
    }
}
