//! `berth daemon`: runs the daemon in the foreground (for service managers, tests, and the
//! CLI's own detached start). Only argument handling here; the daemon is `crate::daemon`.

use std::path::PathBuf;

use clap::Args;

use crate::daemon::{DaemonConfig, DEFAULT_ROOT, DEFAULT_SOCKET};
use crate::image::registry::RegistryConfig;

#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// Root directory of persistent berth state
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Socket to listen on (unix:///PATH); default the global -H, else /run/berth/berth.sock
    #[arg(long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Enable debug logs
    #[arg(short = 'D', long)]
    pub debug: bool,
    /// Registry reached over plain HTTP (host:port or CIDR); repeatable
    #[arg(long = "insecure-registry", value_name = "REGISTRY")]
    pub insecure_registries: Vec<String>,
}

/// Runs the daemon until it is told to stop. `global_host` is `-H`/`BERTH_HOST`.
pub fn run(global_host: Option<&str>, args: &DaemonArgs) -> anyhow::Result<()> {
    let socket = match args.host.as_deref().or(global_host) {
        Some(host) => socket_path(host)?,
        None => PathBuf::from(DEFAULT_SOCKET),
    };
    let registry = RegistryConfig {
        insecure_registries: args.insecure_registries.clone(),
    };
    crate::daemon::run(DaemonConfig {
        root: args.root.clone(),
        socket,
        debug: args.debug,
        registry,
    })
}

/// `unix:///run/x.sock` (or a bare absolute path) -> `/run/x.sock`.
fn socket_path(host: &str) -> anyhow::Result<PathBuf> {
    let path = host.strip_prefix("unix://").unwrap_or(host);
    if !path.starts_with('/') {
        anyhow::bail!("invalid host {host:?}: berth listens only on unix:///ABSOLUTE/PATH");
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_forms() {
        assert_eq!(
            socket_path("unix:///tmp/b.sock").expect("valid"),
            PathBuf::from("/tmp/b.sock")
        );
        assert_eq!(
            socket_path("/tmp/b.sock").expect("valid"),
            PathBuf::from("/tmp/b.sock")
        );
        assert!(socket_path("tcp://127.0.0.1:2375").is_err());
        assert!(socket_path("unix://rel.sock").is_err());
    }
}
