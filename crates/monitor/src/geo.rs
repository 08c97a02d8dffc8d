//! Where an IP address is: a MaxMind-format GeoIP City database read with `maxminddb`, a
//! bounded per-address cache (traffic repeats its addresses), and great-circle distance.
//!
//! Detectors reason in *places* — country plus city or region, with the accuracy radius — not in
//! addresses: a CI job's runners have many addresses in one cloud region, and a country-level
//! record (no city, no region: the country's centre with a radius of ~1,000 km) says nothing
//! about where the holder is, so [`Location::is_precise`] is false for it.
use std::net::IpAddr;
use std::path::Path;

use maxminddb::Reader;
use serde::{Deserialize, Serialize};

use crate::bounded::BoundedMap;

/// Mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Addresses remembered by the lookup cache.
const CACHE_CAPACITY: usize = 65_536;

/// A located address: coordinates, how far off they may be, and the country.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// The database's accuracy radius in km: the address is somewhere within it.
    pub radius_km: f64,
    /// ISO 3166-1 alpha-2 country code, when known.
    pub country: Option<[u8; 2]>,
    /// Which place the record names (a hash of country, region and city), 0 when it names
    /// neither city nor region: a country-level record, whose coordinates are only the
    /// country's centre.
    #[serde(default)]
    pub place: u32,
}

impl Location {
    /// Great-circle distance to `other` in km (haversine).
    pub fn distance_km(&self, other: &Location) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// The smallest distance the two addresses can really be apart: the distance between the
    /// points minus both accuracy radii (never below zero). Judging travel on this, not on the
    /// raw distance, is what keeps a coarse, country-level location from looking like a jump.
    pub fn min_distance_km(&self, other: &Location) -> f64 {
        (self.distance_km(other) - self.radius_km - other.radius_km).max(0.0)
    }

    /// Whether the record says where the holder is: it names a city or region, and its accuracy
    /// radius is below `coarse_radius_km`. Country-level records are an unknown position.
    pub fn is_precise(&self, coarse_radius_km: f64) -> bool {
        self.place != 0 && self.radius_km < coarse_radius_km
    }

    /// Whether two places are one metro area (or one cloud region): their centres are within
    /// both accuracy radii plus `metro_km` of each other. Offices with two egresses 5–40 km
    /// apart, and cloud records a few km apart with large radii, are one place.
    pub fn same_area(&self, other: &Location, metro_km: f64) -> bool {
        self.place == other.place || self.min_distance_km(other) <= metro_km
    }

    /// The country code as text.
    pub fn country_code(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|c| std::str::from_utf8(c).ok())
    }

    /// The solar UTC offset in whole hours (longitude / 15°): the local clock a client at this
    /// place lives by, to within the hour, without a time-zone database.
    pub fn utc_offset_hours(&self) -> i8 {
        (self.longitude / 15.0).round().clamp(-12.0, 14.0) as i8
    }
}

/// The fields of a City record the monitor reads; everything else is skipped.
#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    city: Option<NamedRecord<'a>>,
    #[serde(borrow, default)]
    country: Option<CountryRecord<'a>>,
    #[serde(borrow, default)]
    subdivisions: Option<Vec<CountryRecord<'a>>>,
    #[serde(default)]
    location: Option<LocationRecord>,
}

#[derive(Deserialize)]
struct NamedRecord<'a> {
    #[serde(default)]
    geoname_id: Option<u32>,
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

/// Only the English name is read (a struct, not a map: no allocation per lookup).
#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct LocationRecord {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    accuracy_radius: Option<u16>,
}

/// A GeoIP City database with a lookup cache.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
    cache: BoundedMap<IpAddr, Option<Location>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoIp {
    /// Opens a `.mmdb` file (GeoIP2/GeoLite2 City or any database with the same fields).
    pub fn open(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::from_bytes(bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads a database held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        let reader = Reader::from_source(bytes).map_err(|e| e.to_string())?;
        Ok(Self {
            reader,
            cache: BoundedMap::new(CACHE_CAPACITY),
        })
    }

    /// Where `ip` is, or `None` when the database does not know (no record, or a record without
    /// coordinates): detectors never alert on an unknown location.
    pub fn locate(&mut self, ip: IpAddr) -> Option<Location> {
        if let Some(hit) = self.cache.get_mut(&ip) {
            return *hit;
        }
        let found = self.lookup(ip);
        self.cache.insert(ip, found);
        found
    }

    fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let result = self.reader.lookup(ip).ok()?;
        let record: CityRecord<'_> = result.decode().ok()??;
        let loc = record.location?;
        let country = record
            .country
            .and_then(|c| c.iso_code)
            .and_then(|code| <[u8; 2]>::try_from(code.as_bytes()).ok());
        let region = record
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(|s| s.iso_code)
            .unwrap_or_default();
        let city = record.city.as_ref();
        let city_id = city.and_then(|c| c.geoname_id).unwrap_or(0);
        let city_name = city
            .and_then(|c| c.names.as_ref())
            .and_then(|n| n.en)
            .unwrap_or_default();
        let place = if region.is_empty() && city_name.is_empty() && city_id == 0 {
            0
        } else {
            place_id(&[
                country.as_ref().map_or(&[][..], |c| &c[..]),
                region.as_bytes(),
                city_name.as_bytes(),
                &city_id.to_be_bytes(),
            ])
        };
        Some(Location {
            latitude: loc.latitude?,
            longitude: loc.longitude?,
            // MaxMind omits the radius only for very coarse records: assume the worst.
            radius_km: f64::from(loc.accuracy_radius.unwrap_or(1000)),
            country,
            place,
        })
    }
}

/// FNV-1a over the parts (each followed by a separator), never 0 (0 means "no place").
fn place_id(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0xff)) {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64, radius_km: f64) -> Location {
        Location {
            latitude,
            longitude,
            radius_km,
            country: None,
            place: 1,
        }
    }

    #[test]
    fn paris_to_tokyo_is_about_9700_km() {
        let d = at(48.8566, 2.3522, 0.0).distance_km(&at(35.6762, 139.6503, 0.0));
        assert!((d - 9712.0).abs() < 20.0, "{d}");
    }

    #[test]
    fn accuracy_radii_shrink_the_distance_and_never_below_zero() {
        let a = at(48.8566, 2.3522, 20.0);
        let b = at(46.2, 2.2, 500.0);
        assert_eq!(a.min_distance_km(&b), 0.0);
        assert_eq!(at(0.0, 139.7, 0.0).utc_offset_hours(), 9);
    }
}
