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

mod internal;
mod sandbox;

pub(crate) use internal::{Allocation, NetworkView};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::api::network_types::{NetworkCreateRequest, NetworkCreateResponse, NetworkResource};
use crate::daemon::config::FileConfig;
use crate::daemon::events::EventBus;
use crate::net::ports::PortMapping;

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
    _private: (),
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
        let _ = (root, config, events);
        Ok(Arc::new(Networks { _private: () }))
    }

    /// Drops sandboxes of containers not in `running` (IDs): their namespaces, addresses,
    /// DNS entries. Called once by the container manager after adoption.
    pub async fn reconcile(&self, running: &[String]) {
        let _ = running;
    }

    pub async fn create(
        &self,
        request: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, NetworkError> {
        let _ = request;
        Err(NetworkError::Invalid("not implemented yet".into()))
    }

    /// `GET /networks` with Docker's filters (`name`, `id`, `label`, `driver`, `type`,
    /// `scope`, `dangling`).
    pub fn list(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<NetworkResource>, NetworkError> {
        let _ = filters;
        Ok(Vec::new())
    }

    /// ID, unique ID prefix or name (exact name first, as Docker).
    pub fn inspect(&self, reference: &str) -> Result<NetworkResource, NetworkError> {
        Err(NetworkError::NotFound(format!(
            "network {reference} not found"
        )))
    }

    pub async fn remove(&self, reference: &str) -> Result<(), NetworkError> {
        Err(NetworkError::NotFound(format!(
            "network {reference} not found"
        )))
    }

    /// Removes unused user-defined networks; returns their names.
    pub async fn prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<String>, NetworkError> {
        let _ = filters;
        Ok(Vec::new())
    }

    /// `(id, name, driver)` of `reference`, for create-time validation of `--network`.
    pub fn lookup(&self, reference: &str) -> Result<(String, String, String), NetworkError> {
        Err(NetworkError::NotFound(format!(
            "network {reference} not found"
        )))
    }
}
