//! The test world: networks in cities around the globe (the rows of the test GeoIP database),
//! and helpers that make addresses inside them.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::mmdb::{self, Place};

pub const PARIS: usize = 0;
pub const MARSEILLE: usize = 1;
pub const LYON: usize = 2;
pub const FRANCE: usize = 3;
pub const FRANKFURT: usize = 4;
pub const TOKYO: usize = 5;
pub const NEW_YORK: usize = 6;
pub const SAN_FRANCISCO: usize = 7;
pub const US_CARRIER: usize = 8;
pub const SAO_PAULO: usize = 9;
pub const SYDNEY: usize = 10;
pub const SINGAPORE: usize = 11;
pub const MOSCOW: usize = 12;
pub const ASHBURN: usize = 13;
pub const BERLIN: usize = 14;
pub const LONDON: usize = 15;
pub const PARIS_V6: usize = 16;

const fn place(
    network: &'static str,
    city: &'static str,
    country: &'static str,
    latitude: f64,
    longitude: f64,
    radius_km: u16,
) -> Place {
    Place {
        network: std::borrow::Cow::Borrowed(network),
        city,
        country,
        latitude,
        longitude,
        radius_km,
    }
}

pub const PLACES: [Place; 17] = [
    place("81.10.0.0/16", "Paris", "FR", 48.8566, 2.3522, 20),
    place("81.20.0.0/16", "Marseille", "FR", 43.2965, 5.3698, 20),
    place("81.30.0.0/16", "Lyon", "FR", 45.7640, 4.8357, 20),
    // A country-level record, as MaxMind returns for many carrier and VPN ranges.
    place("81.99.0.0/16", "", "FR", 46.2276, 2.2137, 500),
    place("85.10.0.0/16", "Frankfurt", "DE", 50.1109, 8.6821, 10),
    place("126.10.0.0/16", "Tokyo", "JP", 35.6762, 139.6503, 20),
    place("72.10.0.0/16", "New York", "US", 40.7128, -74.0060, 20),
    place(
        "72.20.0.0/16",
        "San Francisco",
        "US",
        37.7749,
        -122.4194,
        20,
    ),
    place("72.99.0.0/16", "", "US", 37.751, -97.822, 1000),
    place("177.10.0.0/16", "São Paulo", "BR", -23.5505, -46.6333, 20),
    place("101.10.0.0/16", "Sydney", "AU", -33.8688, 151.2093, 20),
    place("103.10.0.0/16", "Singapore", "SG", 1.3521, 103.8198, 10),
    place("95.10.0.0/16", "Moscow", "RU", 55.7558, 37.6173, 20),
    place("52.10.0.0/16", "Ashburn", "US", 39.0438, -77.4874, 10),
    place("85.20.0.0/16", "Berlin", "DE", 52.52, 13.405, 20),
    place("86.10.0.0/16", "London", "GB", 51.5074, -0.1278, 20),
    place("2a01:e00::/32", "Paris", "FR", 48.8566, 2.3522, 50),
];

/// The test GeoIP City database: the hand-made rows above and the generated world below.
pub fn database() -> Vec<u8> {
    let mut all = PLACES.to_vec();
    all.extend(super::world::places());
    mmdb::build(&all)
}

/// An address in `place`'s network: `sub` picks the /24 (or /48), `host` the address.
pub fn ip(place: usize, sub: u8, host: u8) -> IpAddr {
    let net = &PLACES[place].network;
    let (base, _) = net.split_once('/').unwrap();
    match base.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], sub, host.max(1)))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(
                s[0],
                s[1],
                u16::from(sub),
                0,
                0,
                0,
                0,
                u16::from(host.max(1)),
            ))
        }
    }
}

/// An address no database row covers (TEST-NET-3).
pub fn unknown_ip(host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, host.max(1)))
}
