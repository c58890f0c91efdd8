//! The Docker Engine API (v1.43, min 1.24) as berth speaks it: wire types, the HTTP server
//! the daemon runs, and the client every berth command uses.
//!
//! OWNER: helper "daemon".
pub mod client;
