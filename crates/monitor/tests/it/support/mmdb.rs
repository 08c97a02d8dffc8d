//! A minimal MaxMind DB (`.mmdb`) writer, so tests build their own GeoIP City database:
//! an IPv6 search tree (IPv4 under ::/96) with 32-bit records, a data section of City-shaped
//! maps, and the metadata section, following the MaxMind DB format spec 2.0.
use std::net::IpAddr;

/// One network and where it is.
#[derive(Clone, Debug)]
pub struct Place {
    pub network: std::borrow::Cow<'static, str>,
    pub city: &'static str,
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: u16,
}

enum Rec {
    Empty,
    Node(u32),
    Data(u32),
}

/// Encodes `places` (non-overlapping networks) as a GeoIP2-City-shaped database.
pub fn build(places: &[Place]) -> Vec<u8> {
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    let mut data = Vec::new();
    for p in places {
        let offset = data.len() as u32;
        encode_city(&mut data, p);
        let (addr, len) = parse_network(&p.network);
        let mut node = 0usize;
        for depth in 0..len {
            let bit = ((addr >> (127 - depth)) & 1) as usize;
            if depth + 1 == len {
                nodes[node][bit] = Rec::Data(offset);
                break;
            }
            node = match nodes[node][bit] {
                Rec::Node(n) => n as usize,
                Rec::Empty => {
                    nodes.push([Rec::Empty, Rec::Empty]);
                    let n = nodes.len() - 1;
                    nodes[node][bit] = Rec::Node(n as u32);
                    n
                }
                Rec::Data(_) => panic!("overlapping networks"),
            };
        }
    }
    let count = nodes.len() as u32;
    let mut out = Vec::new();
    for node in &nodes {
        for rec in node {
            let v = match rec {
                Rec::Empty => count,
                Rec::Node(n) => *n,
                Rec::Data(off) => count + 16 + off,
            };
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    map(&mut meta, 9);
    string(&mut meta, "binary_format_major_version");
    uint(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    uint(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    uint(&mut meta, 9, 1_700_000_000);
    string(&mut meta, "database_type");
    string(&mut meta, "GeoIP2-City");
    string(&mut meta, "description");
    map(&mut meta, 1);
    string(&mut meta, "en");
    string(&mut meta, "Tessera test City database");
    string(&mut meta, "ip_version");
    uint(&mut meta, 5, 6);
    string(&mut meta, "languages");
    control(&mut meta, 11, 1);
    string(&mut meta, "en");
    string(&mut meta, "node_count");
    uint(&mut meta, 6, u64::from(count));
    string(&mut meta, "record_size");
    uint(&mut meta, 5, 32);
    out.extend_from_slice(&meta);
    out
}

fn parse_network(s: &str) -> (u128, usize) {
    let (ip, len) = s.split_once('/').expect("CIDR");
    let len: usize = len.parse().unwrap();
    match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + len),
        IpAddr::V6(v6) => (u128::from(v6), len),
    }
}

fn encode_city(out: &mut Vec<u8>, p: &Place) {
    map(out, 3);
    string(out, "city");
    map(out, 1);
    string(out, "names");
    map(out, 1);
    string(out, "en");
    string(out, p.city);
    string(out, "country");
    map(out, 1);
    string(out, "iso_code");
    string(out, p.country);
    string(out, "location");
    map(out, 3);
    string(out, "accuracy_radius");
    uint(out, 5, u64::from(p.radius_km));
    string(out, "latitude");
    double(out, p.latitude);
    string(out, "longitude");
    double(out, p.longitude);
}

/// A control byte (and extended-type byte, and size bytes) for `kind` with `size`.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 285 {
        (29, vec![(size - 29) as u8])
    } else {
        let s = size - 285;
        (30, vec![(s >> 8) as u8, s as u8])
    };
    if kind <= 7 {
        out.push((kind << 5) | first);
    } else {
        out.push(first);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}

fn map(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn double(out: &mut Vec<u8>, v: f64) {
    control(out, 3, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

/// An unsigned integer of type `kind` (5 = uint16, 6 = uint32, 9 = uint64), minimal bytes.
fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}
