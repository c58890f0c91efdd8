//! Opening the network manager: records loaded, predefined networks made on first start,
//! every bridge (and its firewall rules) ensured, the shared DNS and port services built.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use super::sandbox::SandboxTable;
use super::store::{self, NetworkRecord};
use super::{bridge_name, now_rfc3339, random_id, Networks};
use crate::daemon::config::FileConfig;
use crate::daemon::events::EventBus;
use crate::net::dns::DnsService;
use crate::net::ipam::{default_pools, pick_subnet, SubnetPool};
use crate::net::link::{ensure_bridge, routed_subnets, Netlink};
use crate::net::nft::Firewall;
use crate::net::ports::PortPublisher;

const DEFAULT_MTU: u32 = 1500;

pub(super) async fn open(
    root: &Path,
    config: &FileConfig,
    events: Arc<EventBus>,
) -> anyhow::Result<Networks> {
    let dir = root.join("network");
    let netns_dir = dir.join("netns");
    std::fs::create_dir_all(&netns_dir)
        .with_context(|| format!("creating {}", netns_dir.display()))?;
    let netlink = Netlink::host()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to route netlink: {e}"))?;
    let pools = if config.default_address_pools.is_empty() {
        default_pools()
    } else {
        config.default_address_pools.clone()
    };
    let mtu = config.mtu.unwrap_or(DEFAULT_MTU);

    let mut records: BTreeMap<String, NetworkRecord> = store::load_all(&dir)?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    for name in ["bridge", "host", "none"] {
        if records.values().any(|r| r.predefined && r.name == name) {
            continue;
        }
        let record = if name == "bridge" {
            let routed = host_routes(&netlink).await;
            default_bridge(&records, &routed, config, &pools, mtu)?
        } else {
            predefined(name)?
        };
        store::save(&dir, &record)?;
        records.insert(record.id.clone(), record);
    }

    let table = firewall_table(root);
    let firewall_table = table.clone();
    let firewall = tokio::task::spawn_blocking(move || Firewall::open(&table))
        .await
        .context("opening the firewall")?;
    let firewall = match firewall {
        Ok(f) => f.map(Arc::new),
        Err(e) => {
            tracing::warn!("nftables unavailable, ports are published by the proxy only: {e:#}");
            None
        }
    };
    for record in records.values().filter(|r| r.driver == "bridge") {
        if let Err(e) = ensure_bridge(&netlink, &record.bridge, &gateways(record), record.mtu).await
        {
            tracing::error!("bridge {} of network {}: {e}", record.bridge, record.name);
        }
        add_firewall(firewall.as_ref(), record).await;
    }

    let dns = DnsService::new(upstreams(config));
    let ports = PortPublisher::new(firewall.clone());
    Ok(Networks {
        dir,
        netns_dir,
        records: Mutex::new(records),
        ops: tokio::sync::Mutex::new(()),
        pools,
        mtu,
        events,
        netlink,
        dns,
        ports,
        firewall,
        firewall_table,
        sandboxes: SandboxTable::default(),
        endpoint_writes: Mutex::new(()),
    })
}

/// The routes of the host, as IPAM avoids them; none when netlink cannot tell.
pub(super) async fn host_routes(netlink: &Netlink) -> Vec<IpNet> {
    match routed_subnets(netlink).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("reading the host's routes: {e}");
            Vec::new()
        }
    }
}

/// Every subnet of every network in `records` (IPAM never hands one out twice).
pub(super) fn taken_subnets(records: &BTreeMap<String, NetworkRecord>) -> Vec<IpNet> {
    records
        .values()
        .flat_map(|r| r.subnets.iter().map(|s| s.subnet))
        .collect()
}

/// The gateways with their prefixes, as the bridge carries them.
pub(super) fn gateways(record: &NetworkRecord) -> Vec<IpNet> {
    record.subnets.iter().map(SubnetPool::gateway_net).collect()
}

/// Masquerading (or the internal drop rules) for a bridge network; logged when the
/// firewall is missing or fails, since the proxy still publishes ports.
pub(super) async fn add_firewall(firewall: Option<&Arc<Firewall>>, record: &NetworkRecord) {
    let (Some(fw), Some(pool)) = (firewall.cloned(), record.subnet_v4()) else {
        return;
    };
    let (bridge, subnet, internal) = (record.bridge.clone(), pool.subnet, record.internal);
    let done = tokio::task::spawn_blocking(move || fw.add_network(&bridge, subnet, internal)).await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("firewall rules of network {}: {e:#}", record.name),
        Err(e) => tracing::warn!("firewall rules of network {}: {e}", record.name),
    }
}

pub(super) async fn remove_firewall(firewall: Option<&Arc<Firewall>>, record: &NetworkRecord) {
    let (Some(fw), Some(pool)) = (firewall.cloned(), record.subnet_v4()) else {
        return;
    };
    let (bridge, subnet) = (record.bridge.clone(), pool.subnet);
    let done = tokio::task::spawn_blocking(move || fw.remove_network(&bridge, subnet)).await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("removing firewall rules of {}: {e:#}", record.name),
        Err(e) => tracing::warn!("removing firewall rules of {}: {e}", record.name),
    }
}

/// The nftables table of the daemon at `root`: one per daemon, so test daemons never share.
fn firewall_table(root: &Path) -> String {
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("berth-{}", &hex[..12])
}

/// The predefined `bridge`: `bip` when configured, else the first free default subnet.
fn default_bridge(
    records: &BTreeMap<String, NetworkRecord>,
    routed: &[IpNet],
    config: &FileConfig,
    pools: &[crate::net::ipam::PoolSpec],
    mtu: u32,
) -> anyhow::Result<NetworkRecord> {
    let id = random_id()?;
    let bridge = bridge_name(&id);
    let pool = match config.bip.as_deref().filter(|b| !b.is_empty()) {
        Some(bip) => {
            let net: IpNet = bip
                .parse()
                .with_context(|| format!("invalid bip {bip}: it should be an address/prefix"))?;
            let mut pool = SubnetPool::new(net.trunc());
            pool.gateway = net.addr();
            pool
        }
        None => {
            let mut taken = taken_subnets(records);
            taken.extend_from_slice(routed);
            SubnetPool::new(pick_subnet(pools, &taken).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
    };
    let options = BTreeMap::from(
        [
            ("com.docker.network.bridge.default_bridge", "true"),
            ("com.docker.network.bridge.enable_icc", "true"),
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
            ("com.docker.network.bridge.name", bridge.as_str()),
            ("com.docker.network.driver.mtu", &mtu.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    Ok(NetworkRecord {
        id,
        name: "bridge".into(),
        driver: "bridge".into(),
        created: now_rfc3339(),
        options,
        bridge,
        mtu,
        predefined: true,
        default_bridge: true,
        subnets: vec![pool],
        ..NetworkRecord::default()
    })
}

/// `host` (driver `host`) or `none` (driver `null`).
fn predefined(name: &str) -> anyhow::Result<NetworkRecord> {
    Ok(NetworkRecord {
        id: random_id()?,
        name: name.into(),
        driver: if name == "none" { "null" } else { "host" }.into(),
        created: now_rfc3339(),
        predefined: true,
        ..NetworkRecord::default()
    })
}

/// Where the embedded DNS forwards: the configured `dns`, else the host's `resolv.conf`
/// nameservers (loopback ones skipped: they are unreachable from a container's namespace).
fn upstreams(config: &FileConfig) -> Vec<SocketAddr> {
    let configured: Vec<IpAddr> = config.dns.iter().filter_map(|d| d.parse().ok()).collect();
    let addrs = if configured.is_empty() {
        std::fs::read_to_string("/etc/resolv.conf")
            .map(|t| nameservers(&t))
            .unwrap_or_default()
    } else {
        configured
    };
    addrs.into_iter().map(|a| SocketAddr::new(a, 53)).collect()
}

fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| {
            let addr = rest.trim().split('%').next()?;
            addr.parse::<IpAddr>().ok()
        })
        .filter(|a| !a.is_loopback())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_skip_loopback_and_comments() {
        let text = "# x\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch a\nnameserver ::1\nnameserver fe80::1%eth0\n";
        assert_eq!(
            nameservers(text),
            [
                "10.0.0.2".parse::<IpAddr>().unwrap(),
                "fe80::1".parse().unwrap()
            ]
        );
    }

    #[test]
    fn firewall_table_is_per_root() {
        let a = firewall_table(Path::new("/a"));
        assert_eq!(a.len(), "berth-".len() + 12);
        assert_ne!(a, firewall_table(Path::new("/b")));
    }

    #[test]
    fn default_bridge_takes_bip_or_a_free_pool() {
        let config = FileConfig {
            bip: Some("10.99.0.1/24".into()),
            ..FileConfig::default()
        };
        let r = default_bridge(&BTreeMap::new(), &[], &config, &default_pools(), 1500).unwrap();
        assert_eq!(r.subnets[0].subnet.to_string(), "10.99.0.0/24");
        assert_eq!(r.subnets[0].gateway.to_string(), "10.99.0.1");
        assert_eq!(r.options["com.docker.network.bridge.name"], r.bridge);
        let routed = ["172.17.0.0/16".parse().unwrap()];
        let r = default_bridge(
            &BTreeMap::new(),
            &routed,
            &FileConfig::default(),
            &default_pools(),
            1500,
        )
        .unwrap();
        assert_eq!(r.subnets[0].subnet.to_string(), "172.18.0.0/16");
        assert!(r.bridge.starts_with("br-") && r.bridge.len() == 15);
    }
}
