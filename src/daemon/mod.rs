//! `berth daemon`: owns the state root, serves the Docker Engine API on a unix socket.
//!
//! OWNER: helper "daemon". Layout of the root: `lock` (flock held while running),
//! `daemon.log` (when started detached), `daemon.json` (optional config), `image/` (the image
//! store). Containers, networks and volumes get their own directories in later steps.

use std::path::PathBuf;

use crate::image::registry::RegistryConfig;

/// Default state root.
pub const DEFAULT_ROOT: &str = "/var/lib/berth";
/// Default socket.
pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

/// How the daemon was asked to run.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub root: PathBuf,
    pub socket: PathBuf,
    pub debug: bool,
    pub registry: RegistryConfig,
}

/// Runs the daemon in the foreground until SIGTERM/SIGINT (builds its own tokio runtime).
pub fn run(_config: DaemonConfig) -> anyhow::Result<()> {
    todo!("daemon")
}
