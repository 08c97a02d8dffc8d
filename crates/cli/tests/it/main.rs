//! The `tessera` binary end to end, one test binary with a module per concept; `support` starts
//! the binary's processes (`serve`, `proxy`) on loopback ports and runs its commands.
mod alerts;
mod bad_input;
mod client_auth;
mod clients;
mod crash;
mod kek;
mod keys;
mod multi_node;
mod proxy;
mod scan_revoke;
mod support;
mod users;
