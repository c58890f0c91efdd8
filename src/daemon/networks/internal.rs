//! What the sandbox side needs of the network manager: network facts, addresses,
//! endpoint records and the shared services.
//!
//! CONTRACT (signatures fixed; the network-manager helper implements the bodies, the
//! sandbox helper calls them).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use ipnet::IpNet;

use super::sandbox::SandboxTable;
use super::{EndpointState, NetworkError, Networks};
use crate::net::dns::DnsService;
use crate::net::link::Netlink;
use crate::net::nft::Firewall;
use crate::net::ports::PortPublisher;

/// What the sandbox needs of one network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NetworkView {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// The Linux bridge device; empty unless the driver is `bridge`.
    pub bridge: String,
    pub internal: bool,
    pub mtu: u32,
    /// User-defined bridge networks: the embedded DNS answers for them.
    pub dns: bool,
    /// The predefined `bridge` network (links, no DNS, top-level inspect fields).
    pub is_default_bridge: bool,
}

/// Addresses reserved for one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allocation {
    /// With the subnet's prefix (`172.18.0.2/16`).
    pub ipv4: Option<IpNet>,
    pub gateway4: Option<IpAddr>,
    pub ipv6: Option<IpNet>,
    pub gateway6: Option<IpAddr>,
}

impl Networks {
    /// ID, unique ID prefix or name.
    pub(crate) fn network_view(&self, reference: &str) -> Result<NetworkView, NetworkError> {
        let _ = reference;
        unimplemented!("contract stub")
    }

    /// Reserves the requested addresses or the next free ones for `container_id` on the
    /// network, persisted; Docker's errors for an address in use or outside the subnet.
    pub(crate) fn allocate_addresses(
        &self,
        network_id: &str,
        container_id: &str,
        ipv4: Option<Ipv4Addr>,
        ipv6: Option<Ipv6Addr>,
    ) -> Result<Allocation, NetworkError> {
        let _ = (network_id, container_id, ipv4, ipv6);
        unimplemented!("contract stub")
    }

    /// Frees what `allocate_addresses` reserved; absent is fine.
    pub(crate) fn release_addresses(&self, network_id: &str, container_id: &str) {
        let _ = (network_id, container_id);
        unimplemented!("contract stub")
    }

    /// Records the endpoint (shown by `network inspect`, blocks `network rm`), persisted.
    pub(crate) fn add_endpoint(
        &self,
        container_name: &str,
        container_id: &str,
        ep: &EndpointState,
    ) {
        let _ = (container_name, container_id, ep);
        unimplemented!("contract stub")
    }

    pub(crate) fn remove_endpoint(&self, network_id: &str, container_id: &str) {
        let _ = (network_id, container_id);
        unimplemented!("contract stub")
    }

    /// The endpoints recorded for `container_id` (after a daemon restart).
    pub(crate) fn endpoints_of(&self, container_id: &str) -> Vec<EndpointState> {
        let _ = container_id;
        unimplemented!("contract stub")
    }

    /// `<root>/network/netns`, created by `open`.
    pub(crate) fn netns_dir(&self) -> PathBuf {
        unimplemented!("contract stub")
    }

    /// The daemon's route-netlink connection in the host namespace.
    pub(crate) fn host_netlink(&self) -> &Netlink {
        unimplemented!("contract stub")
    }

    pub(crate) fn dns(&self) -> &Arc<DnsService> {
        unimplemented!("contract stub")
    }

    pub(crate) fn ports(&self) -> &Arc<PortPublisher> {
        unimplemented!("contract stub")
    }

    pub(crate) fn firewall(&self) -> Option<&Arc<Firewall>> {
        unimplemented!("contract stub")
    }

    /// The sandbox side's in-memory table (a field of `Networks`, `Default` at open).
    pub(crate) fn sandboxes(&self) -> &SandboxTable {
        unimplemented!("contract stub")
    }
}
