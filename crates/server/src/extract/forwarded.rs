//! The caller's address behind reverse proxies (`trusted_proxies`): `X-Forwarded-For` is read
//! only on requests that come from a trusted proxy, walked from the right (the entry the
//! nearest proxy appended) past further trusted proxies. Anything else — no header, a malformed
//! entry, a request from an untrusted peer — leaves the TCP peer as the caller, so a client
//! cannot choose its own audited address or dodge the login lockout by sending the header.
use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts `nets` (none: the TCP peer is always the caller).
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The caller of a request whose TCP peer is `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() || !self.trusts(peer) {
            return peer;
        }
        let mut caller = peer;
        // Several X-Forwarded-For headers are one list, in order (RFC 9110 §5.3).
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for entry in entries.iter().rev() {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                // A malformed entry: nothing left of it can be believed.
                return caller;
            };
            caller = ip.to_canonical();
            if !self.trusts(caller) {
                break;
            }
        }
        caller
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.7/32".parse().unwrap(),
        ])
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_caller() {
        let p = proxies();
        let h = xff(&["198.51.100.9, 203.0.113.5, 10.1.2.3"]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        // Two headers are one list.
        let h = xff(&["198.51.100.9", "203.0.113.6"]);
        assert_eq!(p.client_ip(ip("192.0.2.7"), &h), ip("203.0.113.6"));
    }

    #[test]
    fn untrusted_peers_and_bad_headers_leave_the_peer() {
        let p = proxies();
        let h = xff(&["203.0.113.5"]);
        assert_eq!(p.client_ip(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), &xff(&["not-an-ip"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), &xff(&["203.0.113.5, junk, 10.0.0.9"])),
            ip("10.0.0.9"),
            "only the entries right of a malformed one are believed"
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // All trusted: the leftmost is as far as it goes.
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), &xff(&["10.9.9.9, 10.0.0.2"])),
            ip("10.9.9.9")
        );
        // IPv4-mapped IPv6 is compared as IPv4.
        assert_eq!(
            p.client_ip(ip("::ffff:10.0.0.1"), &xff(&["::ffff:203.0.113.5"])),
            ip("203.0.113.5")
        );
    }
}
