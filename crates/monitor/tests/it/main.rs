//! Integration tests of tessera-monitor: one module per feature, the harness in `support/`.
mod support;

mod detectors;
mod ingested;
mod memory;
mod quality;
mod replay;
mod server;
mod sinks;
mod state;
