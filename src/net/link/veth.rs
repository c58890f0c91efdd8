//! One endpoint: a veth pair whose host end joins a bridge and whose peer is created
//! directly inside the container's namespace, already named, addressed (MAC) and sized, so
//! only `up`, IP addresses and the default route are left to do from inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use nix::libc;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth};
use rtnetlink::{LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::bridge::add_addresses;
use super::query::link_index;
use super::{errno_of, failed, LinkError, Netlink, VethPlan};
use crate::net::netns::NetNs;

/// Creates the veth pair with its peer inside `ns`, puts the host end on the bridge and up,
/// then, through `in_ns`, names the peer, sets MAC, MTU, addresses, up, and the default
/// route. A host end left over from an interrupted attempt is replaced.
pub async fn plumb(
    host: &Netlink,
    ns: &NetNs,
    in_ns: &Netlink,
    plan: &VethPlan,
) -> Result<(), LinkError> {
    let bridge = link_index(host, &plan.bridge)
        .await?
        .ok_or_else(|| LinkError::Netlink(format!("bridge {} not found", plan.bridge)))?;
    let ns_file = ns.open()?;
    let add = || {
        let peer = LinkUnspec::new_with_name(&plan.peer_name)
            .address(plan.mac.to_vec())
            .mtu(plan.mtu)
            .setns_by_fd(ns_file.as_raw_fd())
            .build();
        LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
            .name(plan.host_name.clone())
            .mtu(plan.mtu)
            .controller(bridge)
            .up()
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .build()
    };
    let what = || format!("failed to create veth {}", plan.host_name);
    match host.handle().link().add(add()).execute().await {
        Ok(()) => {}
        Err(e) if errno_of(&e) == Some(libc::EEXIST) => {
            super::delete_link(host, &plan.host_name).await?;
            host.handle()
                .link()
                .add(add())
                .execute()
                .await
                .map_err(|e| failed(what(), e))?;
        }
        Err(e) => return Err(failed(what(), e)),
    }
    drop(ns_file);

    let peer = link_index(in_ns, &plan.peer_name).await?.ok_or_else(|| {
        LinkError::Netlink(format!(
            "{} missing in {}",
            plan.peer_name,
            ns.path().display()
        ))
    })?;
    // Not up at creation: the kernel refuses to open a veth whose pair is not yet linked.
    super::set_link_up(in_ns, peer).await?;
    add_addresses(in_ns, peer, &plan.addrs).await?;
    if let Some(gateway) = plan.gateway {
        add_default_route(in_ns, peer, gateway).await?;
    }
    Ok(())
}

/// The default route through `gateway` on link `index`; one already there is kept.
async fn add_default_route(nl: &Netlink, index: u32, gateway: IpAddr) -> Result<(), LinkError> {
    let route = match gateway {
        IpAddr::V4(gw) => RouteMessageBuilder::<Ipv4Addr>::new()
            .gateway(gw)
            .output_interface(index)
            .build(),
        IpAddr::V6(gw) => RouteMessageBuilder::<Ipv6Addr>::new()
            .gateway(gw)
            .output_interface(index)
            .build(),
    };
    match nl.handle().route().add(route).execute().await {
        Ok(()) => Ok(()),
        Err(e) if errno_of(&e) == Some(libc::EEXIST) => Ok(()),
        Err(e) => Err(failed(
            format_args!("failed to add default route via {gateway}"),
            e,
        )),
    }
}
