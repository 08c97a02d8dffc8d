//! The generated trace's world, written from the description of real traffic in issue 15 (not
//! from the detectors): 44 cities on six continents with their civil time (EU and US daylight
//! saving end inside the trace), office suburbs 5–40 km from a city (a second egress), country
//! centroids for carrier ranges located only to a country (radius 1,000 km), and two cloud
//! regions whose records lie a few km apart with large accuracy radii.
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use super::mmdb::Place;

/// Daylight-saving rule of a city over the trace (21 Oct – 4 Nov 2024).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dst {
    /// No change inside the trace.
    None,
    /// EU: summer time ends Sunday 27 Oct 2024 at 01:00 UTC.
    Eu,
    /// US/Canada: daylight time ends Sunday 3 Nov 2024 at 02:00 local.
    Us,
}

/// A city: a city-level GeoIP record and its civil time.
#[derive(Clone, Copy, Debug)]
pub struct City {
    pub name: &'static str,
    pub country: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: u16,
    /// Standard-time UTC offset, minutes.
    pub std_min: i64,
    pub dst: Dst,
    /// 0 Europe, 1 North America, 2 Asia, 3 South America, 4 Oceania, 5 Africa.
    pub continent: u8,
}

#[allow(clippy::too_many_arguments)]
const fn city(
    name: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    radius_km: u16,
    std_min: i64,
    dst: Dst,
    continent: u8,
) -> City {
    City {
        name,
        country,
        lat,
        lon,
        radius_km,
        std_min,
        dst,
        continent,
    }
}

pub const C_PARIS: usize = 0;
pub const C_LONDON: usize = 8;
pub const C_BERLIN: usize = 5;
pub const C_NEW_YORK: usize = 16;
pub const C_CHICAGO: usize = 18;
pub const C_TOKYO: usize = 26;

pub const CITIES: [City; 44] = [
    city("Paris", "FR", 48.8566, 2.3522, 20, 60, Dst::Eu, 0),
    city("Lyon", "FR", 45.764, 4.8357, 20, 60, Dst::Eu, 0),
    city("Marseille", "FR", 43.2965, 5.3698, 20, 60, Dst::Eu, 0),
    city("Bordeaux", "FR", 44.8378, -0.5792, 20, 60, Dst::Eu, 0),
    city("Lille", "FR", 50.6292, 3.0573, 20, 60, Dst::Eu, 0),
    city("Berlin", "DE", 52.52, 13.405, 20, 60, Dst::Eu, 0),
    city("Munich", "DE", 48.1351, 11.582, 20, 60, Dst::Eu, 0),
    city("Hamburg", "DE", 53.5511, 9.9937, 20, 60, Dst::Eu, 0),
    city("London", "GB", 51.5074, -0.1278, 20, 0, Dst::Eu, 0),
    city("Manchester", "GB", 53.4808, -2.2426, 20, 0, Dst::Eu, 0),
    city("Madrid", "ES", 40.4168, -3.7038, 20, 60, Dst::Eu, 0),
    city("Barcelona", "ES", 41.3874, 2.1686, 20, 60, Dst::Eu, 0),
    city("Rome", "IT", 41.9028, 12.4964, 20, 60, Dst::Eu, 0),
    city("Milan", "IT", 45.4642, 9.19, 20, 60, Dst::Eu, 0),
    city("Amsterdam", "NL", 52.3676, 4.9041, 20, 60, Dst::Eu, 0),
    city("Warsaw", "PL", 52.2297, 21.0122, 20, 60, Dst::Eu, 0),
    city("New York", "US", 40.7128, -74.006, 20, -300, Dst::Us, 1),
    city("Boston", "US", 42.3601, -71.0589, 20, -300, Dst::Us, 1),
    city("Chicago", "US", 41.8781, -87.6298, 20, -360, Dst::Us, 1),
    city("Dallas", "US", 32.7767, -96.797, 20, -360, Dst::Us, 1),
    city("Denver", "US", 39.7392, -104.9903, 20, -420, Dst::Us, 1),
    city(
        "Los Angeles",
        "US",
        34.0522,
        -118.2437,
        20,
        -480,
        Dst::Us,
        1,
    ),
    city(
        "San Francisco",
        "US",
        37.7749,
        -122.4194,
        20,
        -480,
        Dst::Us,
        1,
    ),
    city("Seattle", "US", 47.6062, -122.3321, 20, -480, Dst::Us, 1),
    city("Miami", "US", 25.7617, -80.1918, 20, -300, Dst::Us, 1),
    city("Toronto", "CA", 43.6532, -79.3832, 20, -300, Dst::Us, 1),
    city("Tokyo", "JP", 35.6762, 139.6503, 20, 540, Dst::None, 2),
    city("Osaka", "JP", 34.6937, 135.5023, 20, 540, Dst::None, 2),
    city("Seoul", "KR", 37.5665, 126.978, 20, 540, Dst::None, 2),
    city("Singapore", "SG", 1.3521, 103.8198, 10, 480, Dst::None, 2),
    city("Hong Kong", "HK", 22.3193, 114.1694, 10, 480, Dst::None, 2),
    city("Mumbai", "IN", 19.076, 72.8777, 30, 330, Dst::None, 2),
    city("Bangalore", "IN", 12.9716, 77.5946, 30, 330, Dst::None, 2),
    city("Delhi", "IN", 28.7041, 77.1025, 30, 330, Dst::None, 2),
    city("Dubai", "AE", 25.2048, 55.2708, 20, 240, Dst::None, 2),
    city(
        "São Paulo",
        "BR",
        -23.5505,
        -46.6333,
        20,
        -180,
        Dst::None,
        3,
    ),
    city(
        "Rio de Janeiro",
        "BR",
        -22.9068,
        -43.1729,
        20,
        -180,
        Dst::None,
        3,
    ),
    city(
        "Buenos Aires",
        "AR",
        -34.6037,
        -58.3816,
        20,
        -180,
        Dst::None,
        3,
    ),
    city(
        "Mexico City",
        "MX",
        19.4326,
        -99.1332,
        20,
        -360,
        Dst::None,
        1,
    ),
    city("Sydney", "AU", -33.8688, 151.2093, 20, 660, Dst::None, 4),
    city("Melbourne", "AU", -37.8136, 144.9631, 20, 660, Dst::None, 4),
    city(
        "Johannesburg",
        "ZA",
        -26.2041,
        28.0473,
        20,
        120,
        Dst::None,
        5,
    ),
    city("Lagos", "NG", 6.5244, 3.3792, 50, 60, Dst::None, 5),
    city("Cairo", "EG", 30.0444, 31.2357, 30, 120, Dst::None, 5),
];

/// An office's second egress, 5–40 km from its city: (name, country, lat, lon, radius, city).
pub const SUBURBS: [(&str, &str, f64, f64, u16, usize); 6] = [
    ("Saint-Denis", "FR", 48.9362, 2.3574, 10, C_PARIS),
    ("Newark", "US", 40.7357, -74.1724, 10, C_NEW_YORK),
    ("Kawasaki", "JP", 35.5308, 139.7029, 10, C_TOKYO),
    ("Croydon", "GB", 51.3762, -0.0982, 10, C_LONDON),
    ("Potsdam", "DE", 52.3906, 13.0645, 10, C_BERLIN),
    ("Evanston", "US", 42.0451, -87.6877, 10, C_CHICAGO),
];

/// Country centroids: carrier ranges located only to a country (radius 1,000 km).
pub const COUNTRIES: [(&str, f64, f64); 10] = [
    ("FR", 46.2276, 2.2137),
    ("DE", 51.1657, 10.4515),
    ("GB", 55.3781, -3.436),
    ("US", 37.751, -97.822),
    ("JP", 36.2048, 138.2529),
    ("IN", 20.5937, 78.9629),
    ("BR", -14.235, -51.9253),
    ("AU", -25.2744, 133.7751),
    ("ES", 40.4637, -3.7492),
    ("IT", 41.8719, 12.5674),
];

/// Cloud records a few km apart with large radii: (name, country, lat, lon, radius, region).
pub const CLOUD: [(&str, &str, f64, f64, u16, usize); 9] = [
    ("Frankfurt am Main", "DE", 50.1109, 8.6821, 100, 0),
    ("Offenbach", "DE", 50.0956, 8.7761, 200, 0),
    ("Eschborn", "DE", 50.1433, 8.5707, 50, 0),
    ("Hattersheim", "DE", 50.0697, 8.4867, 100, 0),
    ("Ashburn", "US", 39.0438, -77.4874, 100, 1),
    ("Sterling", "US", 39.0062, -77.4286, 200, 1),
    ("Reston", "US", 38.9586, -77.357, 50, 1),
    ("Leesburg", "US", 39.1157, -77.5636, 100, 1),
    ("Manassas", "US", 38.7509, -77.4753, 500, 1),
];

/// Cloud record indexes per region.
pub const REGION_EU: [usize; 4] = [0, 1, 2, 3];
pub const REGION_US: [usize; 5] = [4, 5, 6, 7, 8];

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d.max(1)))
}

/// An address in city `i` (network 150.i.0.0/16).
pub fn city_ip(i: usize, sub: u8, host: u8) -> IpAddr {
    v4(150, i as u8, sub, host)
}
/// An address in suburb `i` (151.i.0.0/16).
pub fn suburb_ip(i: usize, sub: u8, host: u8) -> IpAddr {
    v4(151, i as u8, sub, host)
}
/// A carrier address located only to country `i` (160.i.0.0/16).
pub fn country_ip(i: usize, sub: u8, host: u8) -> IpAddr {
    v4(160, i as u8, sub, host)
}
/// An address of cloud record `i` (170.i.0.0/16).
pub fn cloud_ip(i: usize, sub: u8, host: u8) -> IpAddr {
    v4(170, i as u8, sub, host)
}

/// The index in [`COUNTRIES`] of a country, when it has a country-level carrier record.
pub fn country_index(cc: &str) -> Option<usize> {
    COUNTRIES.iter().position(|c| c.0 == cc)
}

/// Cities of one country.
pub fn cities_in(cc: &str) -> Vec<usize> {
    (0..CITIES.len())
        .filter(|&i| CITIES[i].country == cc)
        .collect()
}

/// The rows of the test database for this world.
pub fn places() -> Vec<Place> {
    let mut out = Vec::new();
    for (i, c) in CITIES.iter().enumerate() {
        out.push(Place {
            network: Cow::Owned(format!("150.{i}.0.0/16")),
            city: c.name,
            country: c.country,
            latitude: c.lat,
            longitude: c.lon,
            radius_km: c.radius_km,
        });
    }
    for (i, s) in SUBURBS.iter().enumerate() {
        out.push(Place {
            network: Cow::Owned(format!("151.{i}.0.0/16")),
            city: s.0,
            country: s.1,
            latitude: s.2,
            longitude: s.3,
            radius_km: s.4,
        });
    }
    for (i, c) in COUNTRIES.iter().enumerate() {
        out.push(Place {
            network: Cow::Owned(format!("160.{i}.0.0/16")),
            city: "",
            country: c.0,
            latitude: c.1,
            longitude: c.2,
            radius_km: 1000,
        });
    }
    for (i, c) in CLOUD.iter().enumerate() {
        out.push(Place {
            network: Cow::Owned(format!("170.{i}.0.0/16")),
            city: c.0,
            country: c.1,
            latitude: c.2,
            longitude: c.3,
            radius_km: c.4,
        });
    }
    out
}

/// Monday 2024-10-21 00:00:00 UTC: the trace spans both autumn daylight-saving changes.
pub const T0: u64 = 1_729_468_800_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// The UTC offset (minutes) of `city`'s civil time at instant `t`.
pub fn offset_min(city: usize, t: u64) -> i64 {
    let c = &CITIES[city];
    let t = t as i64;
    let summer = match c.dst {
        Dst::None => false,
        // 27 Oct 2024 01:00 UTC.
        Dst::Eu => t < T0 as i64 + 6 * DAY + 60 * MIN,
        // 3 Nov 2024 02:00 local daylight time.
        Dst::Us => t < T0 as i64 + 13 * DAY + 120 * MIN - (c.std_min + 60) * MIN,
    };
    c.std_min + if summer { 60 } else { 0 }
}

/// Every instant at which `city`'s clocks show `minute` (of the day) on trace day `day`: one,
/// or two in the hour repeated when daylight saving ends (a local cron then runs twice).
pub fn local_instants(city: usize, day: u64, minute: u64) -> Vec<u64> {
    let naive = (T0 + day * 86_400_000 + minute * 60_000) as i64;
    let c = &CITIES[city];
    let mut out = Vec::new();
    for off in [c.std_min + 60, c.std_min] {
        let t = naive - off * MIN;
        if t >= T0 as i64 && offset_min(city, t as u64) == off && !out.contains(&(t as u64)) {
            out.push(t as u64);
        }
    }
    out.sort_unstable();
    out
}

/// The first instant `city`'s clocks show `minute` on `day` (never before the trace starts).
pub fn at_local(city: usize, day: u64, minute: u64) -> u64 {
    local_instants(city, day, minute)
        .first()
        .copied()
        .unwrap_or_else(|| {
            (T0 as i64 + day as i64 * DAY + minute as i64 * MIN).max(T0 as i64) as u64
        })
}

/// Great-circle distance between two cities, km.
pub fn city_distance(a: usize, b: usize) -> f64 {
    let (a, b) = (&CITIES[a], &CITIES[b]);
    super::distance_km(a.lat, a.lon, b.lat, b.lon)
}
