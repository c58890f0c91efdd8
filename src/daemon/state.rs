//! The daemon's shared state: one `Daemon` behind an `Arc`, handed to every API handler.
//!
//! Containers, networks and volumes add their own fields here in later steps; handlers reach
//! everything through this struct, never through globals.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use super::containers::Containers;
use super::events::EventBus;
use super::networks::Networks;
use crate::image::registry::{RegistryClient, RegistryConfig};
use crate::image::store::ImageStore;
use crate::volume::Volumes;

pub struct Daemon {
    /// The state root (`/var/lib/berth`).
    pub root: PathBuf,
    /// The socket the API is served on.
    pub socket: PathBuf,
    pub debug: bool,
    /// This engine's stable ID (`/info`'s `ID`), kept in `<root>/engine-id`.
    pub id: String,
    pub images: Arc<ImageStore>,
    pub registry: RegistryClient,
    pub registry_config: RegistryConfig,
    pub events: Arc<EventBus>,
    pub containers: Arc<Containers>,
    pub networks: Arc<Networks>,
    pub volumes: Arc<Volumes>,
    shutdown: watch::Sender<bool>,
}

/// What `Daemon::new` needs.
pub struct DaemonParts {
    pub root: PathBuf,
    pub socket: PathBuf,
    pub debug: bool,
    pub id: String,
    pub images: Arc<ImageStore>,
    pub registry_config: RegistryConfig,
    pub events: Arc<EventBus>,
    pub containers: Arc<Containers>,
    pub networks: Arc<Networks>,
    pub volumes: Arc<Volumes>,
}

impl Daemon {
    pub fn new(parts: DaemonParts) -> Daemon {
        let (shutdown, _) = watch::channel(false);
        Daemon {
            registry: RegistryClient::new(&parts.registry_config),
            root: parts.root,
            socket: parts.socket,
            debug: parts.debug,
            id: parts.id,
            images: parts.images,
            registry_config: parts.registry_config,
            events: parts.events,
            containers: parts.containers,
            networks: parts.networks,
            volumes: parts.volumes,
            shutdown,
        }
    }

    /// Tells long-running handlers (event streams) to finish: the daemon is stopping.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once `begin_shutdown` was called.
    pub async fn stopping(&self) {
        let mut rx = self.shutdown.subscribe();
        // Err only when the sender is gone, which also means stopping.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.shutdown.borrow()
    }
}

/// Reads `<root>/engine-id`, creating it (atomically) on first start.
pub fn ensure_engine_id(root: &Path) -> std::io::Result<String> {
    let path = root.join("engine-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let id = new_uuid()?;
    let tmp = root.join("engine-id.tmp");
    std::fs::write(&tmp, format!("{id}\n"))?;
    std::fs::rename(&tmp, &path)?;
    Ok(id)
}

/// A random (version 4) UUID, as Docker's engine ID.
fn new_uuid() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_id_is_stable_across_starts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = ensure_engine_id(dir.path()).expect("create");
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4");
        assert_eq!(ensure_engine_id(dir.path()).expect("read"), first);
    }
}
