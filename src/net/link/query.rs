//! Reads: link indexes and names, and the subnets the main routing table covers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::link::LinkAttribute;
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};
use rtnetlink::RouteMessageBuilder;

use super::{errno_of, failed, LinkError, Netlink};

/// The ifindex of link `name` in the namespace of `nl`; `None` when there is none.
pub async fn link_index(nl: &Netlink, name: &str) -> Result<Option<u32>, LinkError> {
    let mut links = nl
        .handle()
        .link()
        .get()
        .match_name(name.to_string())
        .execute();
    match links.try_next().await {
        Ok(Some(link)) => Ok(Some(link.header.index)),
        Ok(None) => Ok(None),
        Err(e) if errno_of(&e) == Some(nix::libc::ENODEV) => Ok(None),
        Err(e) => Err(failed(format_args!("failed to look up link {name}"), e)),
    }
}

/// The names of all links in the namespace of `nl` (for reconciliation and leak checks).
pub async fn link_names(nl: &Netlink) -> Result<Vec<String>, LinkError> {
    let links: Vec<_> = nl
        .handle()
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|e| failed("failed to list links", e))?;
    Ok(links
        .into_iter()
        .filter_map(|link| {
            link.attributes.into_iter().find_map(|attr| match attr {
                LinkAttribute::IfName(name) => Some(name),
                _ => None,
            })
        })
        .collect())
}

/// IPv4 and IPv6 destinations of the routes in the main table (IPAM skips subnets the
/// host already routes). Default routes are left out (they cover everything), and so is
/// IPv6 link-local `fe80::/64`, which every interface has and no pool hands out.
pub async fn routed_subnets(nl: &Netlink) -> Result<Vec<IpNet>, LinkError> {
    let mut out = Vec::new();
    let requests = [
        RouteMessageBuilder::<Ipv4Addr>::new().build(),
        RouteMessageBuilder::<Ipv6Addr>::new().build(),
    ];
    for request in requests {
        let routes: Vec<RouteMessage> = nl
            .handle()
            .route()
            .get(request)
            .execute()
            .try_collect()
            .await
            .map_err(|e| failed("failed to list routes", e))?;
        out.extend(routes.iter().filter_map(main_destination));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The destination of `route` when it is a non-default route of the main table.
fn main_destination(route: &RouteMessage) -> Option<IpNet> {
    let table = route
        .attributes
        .iter()
        .find_map(|attr| match attr {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(route.header.table));
    let prefix = route.header.destination_prefix_length;
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) || prefix == 0 {
        return None;
    }
    let addr: IpAddr = route.attributes.iter().find_map(|attr| match attr {
        RouteAttribute::Destination(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
        RouteAttribute::Destination(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
        _ => None,
    })?;
    if matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80) {
        return None;
    }
    IpNet::new(addr, prefix).ok().map(|net| net.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dest: Option<IpAddr>, prefix: u8, table: u8) -> RouteMessage {
        let mut msg = match dest {
            Some(IpAddr::V6(_)) => RouteMessageBuilder::<Ipv6Addr>::new().build(),
            _ => RouteMessageBuilder::<Ipv4Addr>::new().build(),
        };
        msg.header.destination_prefix_length = prefix;
        msg.header.table = table;
        if let Some(dest) = dest {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(dest)));
        }
        msg
    }

    #[test]
    fn main_table_destinations_are_kept_with_their_prefix() {
        let main = RouteHeader::RT_TABLE_MAIN;
        let net = route(Some("172.18.0.7".parse().unwrap()), 16, main);
        assert_eq!(
            main_destination(&net),
            Some("172.18.0.0/16".parse().unwrap())
        );
        let v6 = route(Some("fd00:1::".parse().unwrap()), 64, main);
        assert_eq!(main_destination(&v6), Some("fd00:1::/64".parse().unwrap()));
    }

    #[test]
    fn default_local_table_and_link_local_routes_are_skipped() {
        let main = RouteHeader::RT_TABLE_MAIN;
        assert_eq!(main_destination(&route(None, 0, main)), None);
        let local = route(Some("127.0.0.0".parse().unwrap()), 8, 255);
        assert_eq!(main_destination(&local), None);
        let ll = route(Some("fe80::".parse().unwrap()), 64, main);
        assert_eq!(main_destination(&ll), None);
        let mut big_table = route(Some("10.1.0.0".parse().unwrap()), 16, main);
        big_table.attributes.push(RouteAttribute::Table(1000));
        assert_eq!(main_destination(&big_table), None);
    }
}
