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
use super::store::{EndpointRecord, NetworkRecord};
use super::{resolve, EndpointState, NetworkError, Networks};
use crate::net::dns::DnsService;
use crate::net::ipam::{IpamError, SubnetPool};
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
        let records = self.lock();
        let id = resolve(&records, reference)?;
        let r = &records[&id];
        Ok(NetworkView {
            id: r.id.clone(),
            name: r.name.clone(),
            driver: r.driver.clone(),
            bridge: r.bridge.clone(),
            internal: r.internal,
            mtu: r.mtu,
            dns: r.driver == "bridge" && !r.default_bridge,
            is_default_bridge: r.default_bridge,
        })
    }

    /// Reserves the requested addresses or the next free ones for `container_id` on the
    /// network, persisted; Docker's errors for an address in use or outside the subnet.
    /// A container that already holds addresses there keeps them (restores repeat this).
    pub(crate) fn allocate_addresses(
        &self,
        network_id: &str,
        container_id: &str,
        ipv4: Option<Ipv4Addr>,
        ipv6: Option<Ipv6Addr>,
    ) -> Result<Allocation, NetworkError> {
        let mut records = self.lock();
        let id = resolve(&records, network_id)?;
        let Some(record) = records.get_mut(&id) else {
            return Err(NetworkError::NotFound(format!(
                "network {network_id} not found"
            )));
        };
        if record.driver != "bridge" {
            return Ok(Allocation::default());
        }
        let wants_static = ipv4.is_some() || ipv6.is_some();
        if wants_static && record.default_bridge {
            return Err(NetworkError::Invalid(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
        if wants_static && !record.subnets.iter().any(|s| s.user) {
            return Err(NetworkError::Invalid(
                "user specified IP address is supported only when connecting to networks with user configured subnets".into(),
            ));
        }
        let before = record.subnets.clone();
        let result = allocate_in(record, container_id, ipv4, ipv6);
        match result {
            Ok(allocation) => {
                drop(records);
                self.persist_endpoints(&id);
                Ok(allocation)
            }
            Err(e) => {
                // All or nothing: an IPv4 address taken before an IPv6 failure goes back.
                record.subnets = before;
                Err(e)
            }
        }
    }

    /// Frees what `allocate_addresses` reserved; absent is fine.
    pub(crate) fn release_addresses(&self, network_id: &str, container_id: &str) {
        let mut records = self.lock();
        let Some(record) = records.get_mut(network_id) else {
            return;
        };
        let held = record
            .subnets
            .iter()
            .any(|s| s.address_of(container_id).is_some());
        if !held {
            return;
        }
        for s in &mut record.subnets {
            s.release(container_id);
        }
        drop(records);
        self.persist_endpoints(network_id);
    }

    /// Records the endpoint (shown by `network inspect`, blocks `network rm`), persisted;
    /// publishes the `connect` event.
    pub(crate) fn add_endpoint(
        &self,
        container_name: &str,
        container_id: &str,
        ep: &EndpointState,
    ) {
        let mut records = self.lock();
        let Some(record) = records.get_mut(&ep.network_id) else {
            tracing::warn!(
                "endpoint of {container_id} on unknown network {}",
                ep.network_id
            );
            return;
        };
        record.endpoints.insert(
            container_id.to_owned(),
            EndpointRecord {
                container_name: container_name.trim_start_matches('/').to_owned(),
                state: ep.clone(),
            },
        );
        let snapshot = record.clone();
        drop(records);
        self.persist_endpoints(&snapshot.id);
        self.publish("connect", &snapshot, Some(container_id));
    }

    /// Forgets the endpoint, persisted; publishes the `disconnect` event. Absent is fine.
    pub(crate) fn remove_endpoint(&self, network_id: &str, container_id: &str) {
        let mut records = self.lock();
        let Some(record) = records.get_mut(network_id) else {
            return;
        };
        if record.endpoints.remove(container_id).is_none() {
            return;
        }
        let snapshot = record.clone();
        drop(records);
        self.persist_endpoints(&snapshot.id);
        self.publish("disconnect", &snapshot, Some(container_id));
    }

    /// The endpoints recorded for `container_id` (after a daemon restart), `eth0` first.
    pub(crate) fn endpoints_of(&self, container_id: &str) -> Vec<EndpointState> {
        let records = self.lock();
        let mut out: Vec<EndpointState> = records
            .values()
            .filter_map(|r| r.endpoints.get(container_id))
            .map(|e| e.state.clone())
            .collect();
        out.sort_by(|a, b| {
            (a.interface.len(), &a.interface).cmp(&(b.interface.len(), &b.interface))
        });
        out
    }

    /// `<root>/network/netns`, created by `open`.
    pub(crate) fn netns_dir(&self) -> PathBuf {
        self.netns_dir.clone()
    }

    /// The daemon's route-netlink connection in the host namespace.
    pub(crate) fn host_netlink(&self) -> &Netlink {
        &self.netlink
    }

    pub(crate) fn dns(&self) -> &Arc<DnsService> {
        &self.dns
    }

    pub(crate) fn ports(&self) -> &Arc<PortPublisher> {
        &self.ports
    }

    pub(crate) fn firewall(&self) -> Option<&Arc<Firewall>> {
        self.firewall.as_ref()
    }

    /// The sandbox side's in-memory table (a field of `Networks`, `Default` at open).
    pub(crate) fn sandboxes(&self) -> &SandboxTable {
        &self.sandboxes
    }
}

/// Takes the addresses in `record`'s subnets (the caller rolls back on an error).
fn allocate_in(
    record: &mut NetworkRecord,
    owner: &str,
    ipv4: Option<Ipv4Addr>,
    ipv6: Option<Ipv6Addr>,
) -> Result<Allocation, NetworkError> {
    let mut allocation = Allocation::default();
    let v4 = record.subnets.iter_mut().find(|s| s.is_v4());
    match (v4, ipv4) {
        (Some(pool), want) => {
            let addr = take(pool, owner, want.map(IpAddr::V4))?;
            allocation.ipv4 = Some(pool.with_prefix(addr));
            allocation.gateway4 = Some(pool.gateway);
        }
        (None, Some(a)) => return Err(outside(IpAddr::V4(a))),
        (None, None) => {}
    }
    let v6 = record.subnets.iter_mut().find(|s| !s.is_v4());
    match (v6, ipv6) {
        (Some(pool), want) => {
            let addr = take(pool, owner, want.map(IpAddr::V6))?;
            allocation.ipv6 = Some(pool.with_prefix(addr));
            allocation.gateway6 = Some(pool.gateway);
        }
        (None, Some(a)) => return Err(outside(IpAddr::V6(a))),
        (None, None) => {}
    }
    Ok(allocation)
}

fn take(pool: &mut SubnetPool, owner: &str, want: Option<IpAddr>) -> Result<IpAddr, NetworkError> {
    let result = match want {
        Some(a) => {
            // A container that held another address here gives it up for the one it asks.
            if pool.address_of(owner).is_some_and(|held| held != a) {
                pool.release(owner);
            }
            pool.reserve(owner, a).map(|()| a)
        }
        None => pool.allocate(owner),
    };
    result.map_err(ipam_error)
}

fn outside(addr: IpAddr) -> NetworkError {
    NetworkError::Invalid(format!(
        "Invalid address {addr}: It does not belong to any of this network's subnets"
    ))
}

/// IPAM errors as the API reports them.
pub(super) fn ipam_error(e: IpamError) -> NetworkError {
    match e {
        IpamError::Invalid(m) => NetworkError::Invalid(m),
        IpamError::Forbidden(m) => NetworkError::Forbidden(m),
        IpamError::Exhausted(m) => NetworkError::Internal(anyhow::anyhow!(m)),
    }
}
