//! The daemon's networks: records under `<root>/network/`, the predefined `bridge`, `host`
//! and `none` networks, user-defined bridge networks (a Linux bridge each, IPAM, NAT),
//! and container sandboxes: a network namespace per container with one veth endpoint per
//! network, its DNS server and its published ports.
//!
//! CONTRACT (signatures fixed). The network-manager helper implements the network side
//! (create/list/inspect/remove/prune/lookup, IPAM, persistence, reconciliation after a
//! crash); the sandbox helper implements `sandbox.rs` (sandbox_up/down/restore,
//! connect/disconnect of a running container) on the crate-internal methods the manager
//! exposes. `daemon::containers` calls the sandbox methods; `api::server::networks` calls
//! the rest.

mod create;
mod internal;
mod open;
mod reconcile;
mod remove;
mod resource;
mod sandbox;
mod store;

pub(crate) use internal::{Allocation, NetworkView};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::api::network_types::{NetworkCreateRequest, NetworkCreateResponse, NetworkResource};
use crate::daemon::config::FileConfig;
use crate::daemon::events::EventBus;
use crate::net::dns::DnsService;
use crate::net::ipam::PoolSpec;
use crate::net::link::Netlink;
use crate::net::nft::Firewall;
use crate::net::ports::{PortMapping, PortPublisher};
use sandbox::SandboxTable;
use store::NetworkRecord;

/// Why a network operation failed; `api::server` maps the variants to status codes.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// 404: "network x not found".
    #[error("{0}")]
    NotFound(String),
    /// 409: name in use, subnet overlaps, address in use.
    #[error("{0}")]
    Conflict(String),
    /// 403: removing a predefined network or one with active endpoints.
    #[error("{0}")]
    Forbidden(String),
    /// 400: bad request.
    #[error("{0}")]
    Invalid(String),
    /// 500.
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

/// What a container asks of its network namespace when it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxRequest {
    pub container_id: String,
    /// Without the leading `/`.
    pub container_name: String,
    pub hostname: String,
    /// In order: the first is `eth0`, and gives the default route.
    pub endpoints: Vec<EndpointRequest>,
    /// Already expanded by `net::ports::expand`; published on the first endpoint's
    /// address.
    pub ports: Vec<PortMapping>,
}

/// One network a container joins (`NetworkingConfig.EndpointsConfig`, `--network`,
/// `network connect`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointRequest {
    /// ID, unique ID prefix or name; `bridge` for the default network.
    pub network: String,
    pub aliases: Vec<String>,
    /// `--ip` / `ipv4_address`.
    pub ipv4: Option<Ipv4Addr>,
    /// `--ip6` / `ipv6_address`.
    pub ipv6: Option<Ipv6Addr>,
    /// `--mac-address`.
    pub mac: Option<String>,
    /// `--link name:alias` (default bridge only; written into `/etc/hosts`).
    pub links: Vec<String>,
}

/// A running container's network state; the container manager keeps it in its record
/// (for `inspect`, `/etc/hosts`, and restoring after a daemon restart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxState {
    /// The pinned namespace the container joins (`SandboxKey`).
    pub netns: PathBuf,
    pub endpoints: Vec<EndpointState>,
    /// The published ports as bound (random host ports filled in).
    pub ports: Vec<PortMapping>,
    /// Nameservers for `/etc/resolv.conf`: `127.0.0.11` when an endpoint is on a
    /// user-defined network, else empty (the host's resolvers are used).
    pub dns_servers: Vec<IpAddr>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointState {
    pub network_id: String,
    pub network_name: String,
    /// 64 hex.
    pub endpoint_id: String,
    /// `eth0`, `eth1`, ...
    pub interface: String,
    /// The host end of the veth.
    pub host_veth: String,
    /// With the subnet's prefix.
    pub ipv4: Option<IpNet>,
    pub gateway: Option<IpAddr>,
    pub ipv6: Option<IpNet>,
    pub ipv6_gateway: Option<IpAddr>,
    /// `02:42:ac:12:00:02`.
    pub mac: String,
    pub aliases: Vec<String>,
    pub links: Vec<String>,
}

/// All networks of one daemon.
pub struct Networks {
    /// `<root>/network`: the records.
    dir: PathBuf,
    /// `<root>/network/netns`: the containers' namespace pins.
    netns_dir: PathBuf,
    /// Network ID → record. A std mutex: held only for in-memory work and record writes,
    /// never across an await.
    records: Mutex<BTreeMap<String, NetworkRecord>>,
    /// Serialises create, remove and prune, which await the kernel between choosing a
    /// subnet or name and committing it.
    ops: tokio::sync::Mutex<()>,
    pools: Vec<PoolSpec>,
    mtu: u32,
    events: Arc<EventBus>,
    netlink: Netlink,
    dns: Arc<DnsService>,
    ports: Arc<PortPublisher>,
    firewall: Option<Arc<Firewall>>,
    /// The daemon's nftables table (`berth-<12 hex of sha256(root)>`).
    firewall_table: String,
    sandboxes: SandboxTable,
    /// Serialises the endpoint bookkeeping's record writes (see `persist_endpoints`).
    endpoint_writes: Mutex<()>,
}

impl Networks {
    /// Opens `<root>/network/`: loads the records, creates the predefined networks on first
    /// start, recreates missing bridges and the nftables table, and removes what a crashed
    /// daemon left behind (bridges and namespaces of no record or of no running container
    /// are for `reconcile`).
    pub async fn open(
        root: &Path,
        config: &FileConfig,
        events: Arc<EventBus>,
    ) -> anyhow::Result<Arc<Networks>> {
        open::open(root, config, events).await.map(Arc::new)
    }

    /// Drops sandboxes of containers not in `running` (IDs): their namespaces, addresses,
    /// DNS entries. Called once by the container manager after adoption.
    pub async fn reconcile(&self, running: &[String]) {
        reconcile::reconcile(self, running).await
    }

    pub async fn create(
        &self,
        request: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, NetworkError> {
        create::create(self, request).await
    }

    /// `GET /networks` with Docker's filters (`name`, `id`, `label`, `driver`, `type`,
    /// `scope`, `dangling`).
    pub fn list(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<NetworkResource>, NetworkError> {
        resource::list(&self.lock(), filters)
    }

    /// ID, unique ID prefix or name (exact name first, as Docker).
    pub fn inspect(&self, reference: &str) -> Result<NetworkResource, NetworkError> {
        let records = self.lock();
        let id = resolve(&records, reference)?;
        Ok(resource::resource(&records[&id], true))
    }

    pub async fn remove(&self, reference: &str) -> Result<(), NetworkError> {
        remove::remove(self, reference).await
    }

    /// Removes unused user-defined networks; returns their names.
    pub async fn prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<String>, NetworkError> {
        remove::prune(self, filters).await
    }

    /// `(id, name, driver)` of `reference`, for create-time validation of `--network`.
    pub fn lookup(&self, reference: &str) -> Result<(String, String, String), NetworkError> {
        let records = self.lock();
        let id = resolve(&records, reference)?;
        let r = &records[&id];
        Ok((r.id.clone(), r.name.clone(), r.driver.clone()))
    }

    /// At daemon shutdown: deletes the bridges (and their firewall rules) of networks no
    /// running container uses, and the nftables table when no container uses any network,
    /// so a stopped daemon leaves nothing in the kernel; `open` makes them again.
    pub async fn shutdown(&self) {
        remove::shutdown(self).await
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, NetworkRecord>> {
        // A panic while holding the lock leaves the records consistent enough to go on.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the current record of network `id` without a disk flush, after an address
    /// or endpoint change. Writers take turns and each writes the state of the moment, so
    /// the file never goes back to an older state when containers start at once.
    fn persist_endpoints(&self, id: &str) {
        let _turn = self
            .endpoint_writes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(snapshot) = self.lock().get(id).cloned() else {
            return;
        };
        if let Err(e) = store::save_quick(&self.dir, &snapshot) {
            tracing::warn!("saving network {}: {e:#}", snapshot.name);
        }
    }

    /// A `network` event with Docker's attributes.
    fn publish(&self, action: &str, record: &NetworkRecord, container: Option<&str>) {
        let mut attributes = BTreeMap::new();
        if let Some(c) = container {
            attributes.insert("container".to_owned(), c.to_owned());
        }
        attributes.insert("name".to_owned(), record.name.clone());
        attributes.insert("type".to_owned(), record.driver.clone());
        self.events
            .publish("network", action, &record.id, attributes);
    }
}

/// The ID of `reference`: a full ID, an exact name, then a unique ID prefix (Docker's
/// order).
fn resolve(
    records: &BTreeMap<String, NetworkRecord>,
    reference: &str,
) -> Result<String, NetworkError> {
    let not_found = || NetworkError::NotFound(format!("network {reference} not found"));
    if reference.is_empty() {
        return Err(not_found());
    }
    if records.contains_key(reference) {
        return Ok(reference.to_owned());
    }
    if let Some(r) = records.values().find(|r| r.name == reference) {
        return Ok(r.id.clone());
    }
    let matches: Vec<&String> = records
        .keys()
        .filter(|id| id.starts_with(reference))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(not_found()),
        many => Err(NetworkError::Invalid(format!(
            "network {reference} is ambiguous ({} matches found based on ID prefix)",
            many.len()
        ))),
    }
}

/// A new network ID: 64 random hex digits.
fn random_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("random ID: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The Linux bridge of network `id`: `br-` and 12 hex digits (15 bytes, the kernel's limit),
/// unique per daemon since IDs are random.
fn bridge_name(id: &str) -> String {
    format!("br-{}", &id[..12.min(id.len())])
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests;
