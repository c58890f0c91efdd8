//! After a daemon restart: endpoints, addresses and namespace pins of containers that are
//! no longer running are dropped. Bridges of other daemons are never touched (only our
//! records' bridges are ours; stray `br-*` links are left alone).

use std::collections::BTreeSet;

use super::Networks;
use crate::net::netns::NetNs;

pub(super) async fn reconcile(nets: &Networks, running: &[String]) {
    let running: BTreeSet<&str> = running.iter().map(String::as_str).collect();
    let stale: Vec<(String, String)> = nets
        .lock()
        .values()
        .flat_map(|r| r.endpoints.keys().map(move |c| (r.id.clone(), c.clone())))
        .filter(|(_, c)| !running.contains(c.as_str()))
        .collect();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for (network, container) in &stale {
        nets.remove_endpoint(network, container);
        nets.release_addresses(network, container);
        nets.dns.remove_endpoint(network, container);
        gone.insert(container.clone());
    }
    // Addresses held without an endpoint (a crash between allocation and plumbing).
    let held: Vec<(String, String)> = nets
        .lock()
        .values()
        .flat_map(|r| {
            r.subnets
                .iter()
                .flat_map(|s| s.allocated.keys())
                .map(move |c| (r.id.clone(), c.clone()))
        })
        .filter(|(_, c)| !running.contains(c.as_str()))
        .collect();
    for (network, container) in held {
        nets.release_addresses(&network, &container);
    }
    // Pins of containers that do not run: recorded ones and any other in the directory.
    if let Ok(entries) = std::fs::read_dir(&nets.netns_dir) {
        for entry in entries.flatten() {
            if let Some(name) = entry.file_name().to_str() {
                if !running.contains(name) {
                    gone.insert(name.to_owned());
                }
            }
        }
    }
    let dir = nets.netns_dir.clone();
    let removed = tokio::task::spawn_blocking(move || {
        for id in gone {
            let pin = dir.join(&id);
            if !pin.exists() {
                continue;
            }
            if let Err(e) = NetNs::remove(&pin) {
                tracing::warn!("removing the network namespace of {id}: {e:#}");
            }
        }
    })
    .await;
    if let Err(e) = removed {
        tracing::warn!("removing stale network namespaces: {e}");
    }
}
