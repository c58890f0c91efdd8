//! Kernel NAT and filtering through nftables over netlink: one table per daemon (named
//! after it, so two daemons never touch each other's rules) with masquerading of each
//! bridge network's outbound traffic, the `internal` networks' drop rules, and DNAT for
//! published ports. Deleting the table removes everything.
//!
//! CONTRACT (signatures fixed; the ports helper implements them; blocking calls, the
//! daemon runs them on blocking threads).

use std::net::IpAddr;

use ipnet::IpNet;

use super::ports::PortMapping;

pub struct Firewall {
    _private: (),
}

impl Firewall {
    /// Opens (creating it fresh, dropping a stale one left by a crash) table `table`;
    /// `None` when nftables is not available here (the proxy alone publishes then).
    pub fn open(table: &str) -> anyhow::Result<Option<Firewall>> {
        let _ = table;
        Ok(None)
    }

    /// Masquerade traffic from `subnet` leaving through another interface than `bridge`
    /// (none for `internal`), and for `internal` networks drop everything forwarded in or
    /// out of the bridge. Turns on `net.ipv4.ip_forward` when it is off.
    pub fn add_network(&self, bridge: &str, subnet: IpNet, internal: bool) -> anyhow::Result<()> {
        let _ = (bridge, subnet, internal);
        anyhow::bail!("not implemented yet")
    }

    pub fn remove_network(&self, bridge: &str, subnet: IpNet) -> anyhow::Result<()> {
        let _ = (bridge, subnet);
        anyhow::bail!("not implemented yet")
    }

    /// DNAT of `mapping` (its bound host port) to `container_ip` for traffic not from
    /// loopback (the proxy serves loopback).
    pub fn add_dnat(&self, mapping: &PortMapping, container_ip: IpAddr) -> anyhow::Result<()> {
        let _ = (mapping, container_ip);
        anyhow::bail!("not implemented yet")
    }

    pub fn remove_dnat(&self, mapping: &PortMapping, container_ip: IpAddr) -> anyhow::Result<()> {
        let _ = (mapping, container_ip);
        anyhow::bail!("not implemented yet")
    }

    /// Deletes the whole table (network removal of the last network, tests).
    pub fn delete(self) -> anyhow::Result<()> {
        anyhow::bail!("not implemented yet")
    }
}
