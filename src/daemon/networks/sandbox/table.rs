//! The in-memory table of live sandboxes: per container, its pinned namespace, its
//! endpoints, the DNS server guard and the published ports (both undone when dropped).
//! Nothing here is persisted: endpoints are in the network records, the rest is rebuilt by
//! `sandbox_restore` after a daemon restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::daemon::networks::EndpointState;
use crate::net::dns::DnsGuard;
use crate::net::netns::NetNs;
use crate::net::ports::Published;

/// Per-container runtime state; a field of `Networks`.
#[derive(Default)]
pub(crate) struct SandboxTable {
    /// Container ID → its sandbox. A std mutex held only to look up, insert or take; the
    /// per-sandbox async mutex serialises connect/disconnect, which await the kernel.
    entries: Mutex<HashMap<String, Entry>>,
}

pub(super) type Entry = Arc<tokio::sync::Mutex<Sandbox>>;

/// One container's live network side.
pub(super) struct Sandbox {
    pub ns: NetNs,
    /// In interface order as made (`eth0` first); connect/disconnect add and remove.
    pub endpoints: Vec<EndpointState>,
    /// Serving `127.0.0.11:53` in the namespace; `None` when no endpoint is on a network
    /// with DNS.
    pub dns: Option<DnsGuard>,
    pub published: Option<Published>,
}

impl Sandbox {
    pub fn new(ns: NetNs) -> Sandbox {
        Sandbox {
            ns,
            endpoints: Vec::new(),
            dns: None,
            published: None,
        }
    }

    /// The lowest `eth<N>` no endpoint uses (a disconnect may leave a gap).
    pub fn free_interface(&self) -> String {
        (0..)
            .map(|n| format!("eth{n}"))
            .find(|name| !self.endpoints.iter().any(|e| &e.interface == name))
            .unwrap_or_else(|| "eth0".to_owned())
    }
}

impl SandboxTable {
    pub(super) fn insert(&self, container_id: &str, sandbox: Sandbox) -> Option<Entry> {
        self.lock().insert(
            container_id.to_owned(),
            Arc::new(tokio::sync::Mutex::new(sandbox)),
        )
    }

    pub(super) fn get(&self, container_id: &str) -> Option<Entry> {
        self.lock().get(container_id).cloned()
    }

    pub(super) fn take(&self, container_id: &str) -> Option<Entry> {
        self.lock().remove(container_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The map stays consistent even if a holder panicked: entries are inserted whole.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
