//! The Docker Engine API (v1.43, min 1.24) as berth speaks it: wire types (`types`), the
//! HTTP server the daemon runs (`server`), and the client every berth command uses (`client`).
//!
//! `types` and `client` are client side and never reach into the
//! daemon's state; `server` is daemon side.
pub mod client;
pub mod container_types;
pub mod network_types;
pub mod server;
pub mod types;
pub mod volume_types;
