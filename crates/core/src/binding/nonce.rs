//! Server-provided DPoP nonces (RFC 9449 §8), stateless: a nonce is the current time window and an
//! HMAC of it, so every node that shares `dpop.nonce_secret` accepts every other node's nonces
//! without a store round trip. A nonce is accepted in its own window and the next one.
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// Issues and checks nonces.
pub struct NonceSource {
    key: hmac::Key,
    period: u64,
}

impl std::fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceSource")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl NonceSource {
    /// A source keyed by `secret` (random when `None`: then nonces are valid on this node only),
    /// rotating every `period` seconds.
    pub fn new(secret: Option<&[u8]>, period: u64) -> Self {
        let key = match secret {
            Some(s) => hmac::Key::new(hmac::HMAC_SHA256, s),
            None => hmac::Key::generate(hmac::HMAC_SHA256, &aws_lc_rs::rand::SystemRandom::new())
                .expect("the system RNG failed"),
        };
        Self {
            key,
            period: period.max(1),
        }
    }

    fn nonce_for(&self, window: u64) -> String {
        let tag = hmac::sign(&self.key, &window.to_be_bytes());
        format!("{window}.{}", B64.encode(&tag.as_ref()[..16]))
    }

    /// The nonce to hand out at `now`.
    pub fn current(&self, now: u64) -> String {
        self.nonce_for(now / self.period)
    }

    /// Whether `nonce` was issued in the current or the previous window.
    pub fn accepts(&self, nonce: &str, now: u64) -> bool {
        let Some((window, _)) = nonce.split_once('.') else {
            return false;
        };
        let Ok(window) = window.parse::<u64>() else {
            return false;
        };
        let current = now / self.period;
        if window != current && window + 1 != current {
            return false;
        }
        let expected = self.nonce_for(window);
        // Constant time: the tag is a MAC.
        subtle_eq(expected.as_bytes(), nonce.as_bytes())
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_rotate_and_expire_after_two_windows() {
        let s = NonceSource::new(Some(b"k"), 60);
        let n = s.current(1000);
        assert!(s.accepts(&n, 1000));
        assert!(s.accepts(&n, 1079));
        assert!(!s.accepts(&n, 1140));
        assert!(!s.accepts("16.AAAA", 1000));
        assert!(!NonceSource::new(Some(b"other"), 60).accepts(&n, 1000));
    }
}
