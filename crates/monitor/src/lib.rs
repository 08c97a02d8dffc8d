//! Tessera's monitor: anomaly detection over the audit-event stream, with alerts and automatic
//! revocation — the same detectors live inside `tessera serve` and offline over a log.
//!
//! An event flows: [`engine::Engine`] locates it once ([`geo`]) → every [`detector::Detector`]
//! (one file each under `detector/`, thresholds in [`config::MonitorConfig`]) → cooldown →
//! [`alert::Alert`]. Live, [`monitor::Monitor`] then sends the alert to [`sink`]s, records
//! `alert.raised`, and applies the [`action::ActionPolicy`] through an [`action::ActionSink`]
//! ([`store_actions::StoreActions`] over the server's store). Offline, [`replay`] writes alerts
//! as JSON lines ([`cli`] is `tessera monitor replay`). All per-key state lives in
//! [`bounded::BoundedMap`]s; learned baselines survive restarts through [`state`].
#![warn(missing_docs)]

pub mod action;
pub mod alert;
pub mod bounded;
pub mod cli;
pub mod config;
pub mod detector;
pub mod engine;
pub mod geo;
pub mod monitor;
pub mod replay;
pub mod sink;
pub mod state;
pub mod store_actions;

pub use action::{Action, ActionOutcome, ActionPolicy, ActionSink};
pub use alert::{Alert, Severity};
pub use config::MonitorConfig;
pub use engine::Engine;
pub use geo::GeoIp;
pub use monitor::{Monitor, MonitorFeed};
pub use store_actions::StoreActions;
