//! tessera-scan's integration tests: real files, real git repositories, a stand-in server.

mod corpus;
mod docs;
mod files;
mod git;
mod output;
mod server;
mod support;
