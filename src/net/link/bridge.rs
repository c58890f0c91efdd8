//! Bridges (made or adopted, idempotently), link state, addresses and deletion.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use nix::libc;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::{AddressMessageBuilder, LinkBridge, LinkUnspec};

use super::query::link_index;
use super::{errno_of, failed, LinkError, Netlink};

/// Makes bridge `name` (or adopts an existing one), sets `mtu`, adds `addrs` (the
/// gateways with the subnet prefix) and brings it up. Returns its ifindex.
pub async fn ensure_bridge(
    host: &Netlink,
    name: &str,
    addrs: &[IpNet],
    mtu: u32,
) -> Result<u32, LinkError> {
    let index = match link_index(host, name).await? {
        Some(index) => {
            let set = LinkUnspec::new_with_index(index).mtu(mtu).up().build();
            host.handle()
                .link()
                .set(set)
                .execute()
                .await
                .map_err(|e| failed(format_args!("failed to set up bridge {name}"), e))?;
            index
        }
        None => {
            let add = LinkBridge::new(name).mtu(mtu).build();
            match host.handle().link().add(add).execute().await {
                Ok(()) => {}
                // Another request made it in between: adopt it as above.
                Err(e) if errno_of(&e) == Some(libc::EEXIST) => {}
                Err(e) => return Err(failed(format_args!("failed to create bridge {name}"), e)),
            }
            link_index(host, name)
                .await?
                .ok_or_else(|| LinkError::Netlink(format!("bridge {name} vanished")))?
        }
    };
    add_addresses(host, index, addrs)
        .await
        .map_err(|e| LinkError::Netlink(format!("bridge {name}: {e}")))?;
    Ok(index)
}

/// Brings link `index` up.
pub async fn set_link_up(nl: &Netlink, index: u32) -> Result<(), LinkError> {
    nl.handle()
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(|e| failed(format_args!("failed to bring link {index} up"), e))
}

/// Adds `addrs` to link `index`; those already there are fine. IPv6 addresses skip
/// duplicate address detection: the subnet is ours, and DAD would hold the address
/// unusable for a second or more.
pub(crate) async fn add_addresses(
    nl: &Netlink,
    index: u32,
    addrs: &[IpNet],
) -> Result<(), LinkError> {
    for addr in addrs {
        let mut add = nl
            .handle()
            .address()
            .add(index, addr.addr(), addr.prefix_len());
        if addr.addr().is_ipv6() {
            add.message_mut()
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match add.execute().await {
            Ok(()) => {}
            Err(e) if errno_of(&e) == Some(libc::EEXIST) => {}
            Err(e) => return Err(failed(format_args!("failed to add address {addr}"), e)),
        }
    }
    Ok(())
}

/// Removes `addrs` from link `name` (a subnet leaving a bridge); absent link or
/// addresses are fine.
pub async fn delete_addresses(nl: &Netlink, name: &str, addrs: &[IpNet]) -> Result<(), LinkError> {
    let Some(index) = link_index(nl, name).await? else {
        return Ok(());
    };
    for addr in addrs {
        let message = match addr.addr() {
            IpAddr::V4(a) => AddressMessageBuilder::<Ipv4Addr>::new()
                .index(index)
                .address(a, addr.prefix_len())
                .build(),
            IpAddr::V6(a) => AddressMessageBuilder::<Ipv6Addr>::new()
                .index(index)
                .address(a, addr.prefix_len())
                .build(),
        };
        match nl.handle().address().del(message).execute().await {
            Ok(()) => {}
            Err(e) if errno_of(&e) == Some(libc::EADDRNOTAVAIL) => {}
            Err(e) => {
                return Err(failed(
                    format_args!("failed to remove address {addr} from {name}"),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// Deletes link `name`; absent is fine.
pub async fn delete_link(host: &Netlink, name: &str) -> Result<(), LinkError> {
    let Some(index) = link_index(host, name).await? else {
        return Ok(());
    };
    match host.handle().link().del(index).execute().await {
        Ok(()) => Ok(()),
        Err(e) if errno_of(&e) == Some(libc::ENODEV) => Ok(()),
        Err(e) => Err(failed(format_args!("failed to delete link {name}"), e)),
    }
}
