//! The bodies of berth's rules, as nft would print them:
//! masquerade `meta nfproto ipv4 ip saddr <subnet> oifname != <bridge> masquerade`;
//! internal `iifname <bridge> oifname != <bridge> drop` (and the reverse);
//! DNAT `meta nfproto ipv4 meta l4proto tcp fib daddr type local ip daddr != 127.0.0.0/8
//! th dport <host port> dnat ip to <container>:<port>`; hairpin masquerade for a container
//! reaching its own published port.

use std::net::IpAddr;

use ipnet::IpNet;

use super::attr::*;
use crate::net::ports::PortMapping;

const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
/// RTN_LOCAL, as `fib daddr type` yields it (host order).
const RTN_LOCAL: u32 = 2;

fn ifname(name: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    let n = name.len().min(15);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    b
}

fn nfproto(e: &mut Exprs, v4: bool) {
    let p = if v4 { NFPROTO_IPV4 } else { NFPROTO_IPV6 };
    e.meta(META_NFPROTO, REG_1).cmp(CMP_EQ, &[p]);
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// (offset, len) of the source and destination address in the network header.
fn addr_fields(v4: bool) -> ((u32, u32), (u32, u32)) {
    if v4 {
        ((12, 4), (16, 4))
    } else {
        ((8, 16), (24, 16))
    }
}

pub(super) fn masquerade(bridge: &str, subnet: IpNet) -> Exprs {
    let v4 = matches!(subnet, IpNet::V4(_));
    let ((off, len), _) = addr_fields(v4);
    let mut e = Exprs::default();
    nfproto(&mut e, v4);
    e.payload(BASE_NETWORK, off, len)
        .mask(&ip_bytes(subnet.netmask()))
        .cmp(CMP_EQ, &ip_bytes(subnet.network()))
        .meta(META_OIFNAME, REG_1)
        .cmp(CMP_NEQ, &ifname(bridge))
        .masquerade();
    e
}

/// Forwarded out of an internal bridge to anywhere else: dropped.
pub(super) fn internal_out(bridge: &str) -> Exprs {
    let mut e = Exprs::default();
    e.meta(META_IIFNAME, REG_1)
        .cmp(CMP_EQ, &ifname(bridge))
        .meta(META_OIFNAME, REG_1)
        .cmp(CMP_NEQ, &ifname(bridge))
        .verdict(NF_DROP);
    e
}

/// Forwarded into an internal bridge from anywhere else: dropped.
pub(super) fn internal_in(bridge: &str) -> Exprs {
    let mut e = Exprs::default();
    e.meta(META_OIFNAME, REG_1)
        .cmp(CMP_EQ, &ifname(bridge))
        .meta(META_IIFNAME, REG_1)
        .cmp(CMP_NEQ, &ifname(bridge))
        .verdict(NF_DROP);
    e
}

pub(super) fn dnat(m: &PortMapping, container_ip: IpAddr) -> Exprs {
    let v4 = container_ip.is_ipv4();
    let (_, (doff, dlen)) = addr_fields(v4);
    let mut e = Exprs::default();
    nfproto(&mut e, v4);
    e.meta(META_L4PROTO, REG_1).cmp(CMP_EQ, &[m.proto.number()]);
    if m.host_ip.is_unspecified() {
        // Any local address but loopback, which the proxy serves.
        e.fib_daddr_type().cmp(CMP_EQ, &RTN_LOCAL.to_ne_bytes());
        if v4 {
            e.payload(BASE_NETWORK, doff, dlen)
                .mask(&[255, 0, 0, 0])
                .cmp(CMP_NEQ, &[127, 0, 0, 0]);
        } else {
            e.payload(BASE_NETWORK, doff, dlen)
                .cmp(CMP_NEQ, &ip_bytes("::1".parse().unwrap_or(m.host_ip)));
        }
    } else {
        e.payload(BASE_NETWORK, doff, dlen)
            .cmp(CMP_EQ, &ip_bytes(m.host_ip));
    }
    e.payload(BASE_TRANSPORT, 2, 2)
        .cmp(CMP_EQ, &m.host_port.to_be_bytes())
        .immediate(REG_1, &ip_bytes(container_ip))
        .immediate(REG_2, &m.container_port.to_be_bytes())
        .dnat(if v4 { NFPROTO_IPV4 } else { NFPROTO_IPV6 });
    e
}

/// A container reaching its own published port through the host: its reply must come back
/// through the host too, so the source is masqueraded.
pub(super) fn hairpin(m: &PortMapping, container_ip: IpAddr) -> Exprs {
    let v4 = container_ip.is_ipv4();
    let ((soff, slen), (doff, dlen)) = addr_fields(v4);
    let ip = ip_bytes(container_ip);
    let mut e = Exprs::default();
    nfproto(&mut e, v4);
    e.meta(META_L4PROTO, REG_1)
        .cmp(CMP_EQ, &[m.proto.number()])
        .payload(BASE_NETWORK, soff, slen)
        .cmp(CMP_EQ, &ip)
        .payload(BASE_NETWORK, doff, dlen)
        .cmp(CMP_EQ, &ip)
        .payload(BASE_TRANSPORT, 2, 2)
        .cmp(CMP_EQ, &m.container_port.to_be_bytes())
        .masquerade();
    e
}
