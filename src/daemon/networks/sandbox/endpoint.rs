//! One endpoint of a sandbox: addresses from IPAM, a veth whose peer is made directly in
//! the container's namespace (`eth<N>`, MAC, MTU, addresses, default route), the network
//! record, the DNS names. The callers order the steps and undo them on failure.

use std::net::{IpAddr, Ipv4Addr};

use crate::daemon::networks::{
    Allocation, EndpointRequest, EndpointState, NetworkError, NetworkView, Networks, SandboxRequest,
};
use crate::net::dns::DnsEndpoint;
use crate::net::link::{plumb, Netlink, VethPlan};
use crate::net::netns::NetNs;
use crate::net::ports::PortError;

/// Where and how one endpoint's link is made.
pub(super) struct Placement<'a> {
    pub ns: &'a NetNs,
    /// A route-netlink connection inside `ns`.
    pub in_ns: &'a Netlink,
    /// `eth0`, `eth1`, ...
    pub interface: String,
    /// The host end: `veth` + 7 hex (see [`host_veth_name`]).
    pub host_veth: String,
    /// The first endpoint carries the default route (unless its network is internal).
    pub default_route: bool,
}

/// Only bridge networks have endpoints in a container's namespace (`host` and `none` are
/// the container side's business).
pub(super) fn check_attachable(view: &NetworkView) -> Result<(), NetworkError> {
    if view.driver == "bridge" {
        return Ok(());
    }
    Err(NetworkError::Invalid(format!(
        "network {} (driver {}) has no endpoints in a container namespace",
        view.name, view.driver
    )))
}

impl Networks {
    /// Makes the veth of one endpoint whose addresses `allocation` holds: the peer inside
    /// the namespace with its name, MAC, MTU, addresses and, if asked, the default route.
    /// On failure the caller undoes it (removing the namespace destroys a half-made pair).
    pub(super) async fn make_link(
        &self,
        view: &NetworkView,
        wanted: &EndpointRequest,
        allocation: &Allocation,
        at: Placement<'_>,
    ) -> Result<EndpointState, NetworkError> {
        let mac = match wanted.mac.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => parse_mac(m)?,
            None => derive_mac(allocation.ipv4.map(|n| n.addr()))?,
        };
        let state = EndpointState {
            network_id: view.id.clone(),
            network_name: view.name.clone(),
            endpoint_id: random_hex(64)?,
            interface: at.interface,
            host_veth: at.host_veth,
            ipv4: allocation.ipv4,
            gateway: allocation.gateway4,
            ipv6: allocation.ipv6,
            ipv6_gateway: allocation.gateway6,
            mac: format_mac(&mac),
            aliases: wanted.aliases.clone(),
            links: wanted.links.clone(),
        };
        let plan = VethPlan {
            host_name: state.host_veth.clone(),
            bridge: view.bridge.clone(),
            peer_name: state.interface.clone(),
            mac,
            mtu: view.mtu,
            addrs: state
                .ipv4
                .iter()
                .chain(state.ipv6.iter())
                .copied()
                .collect(),
            gateway: if at.default_route && !view.internal {
                allocation.gateway4
            } else {
                None
            },
        };
        plumb(self.host_netlink(), at.ns, at.in_ns, &plan)
            .await
            .map_err(setup_error)?;
        Ok(state)
    }

    /// Records a made endpoint on its network (inspect, `network rm` refusal, the
    /// `connect` event) and, where the network has DNS, the container's names.
    pub(super) fn record_endpoint(
        &self,
        request: &SandboxRequest,
        view: &NetworkView,
        ep: &EndpointState,
    ) {
        self.add_endpoint(&request.container_name, &request.container_id, ep);
        if view.dns {
            self.add_dns_names(request, ep);
        }
    }

    /// Registers the container's names on the endpoint's network with the DNS server.
    pub(super) fn add_dns_names(&self, request: &SandboxRequest, ep: &EndpointState) {
        self.dns().add_endpoint(DnsEndpoint {
            network_id: ep.network_id.clone(),
            container_id: request.container_id.clone(),
            names: dns_names(request, &ep.aliases),
            addrs: ep
                .ipv4
                .iter()
                .chain(ep.ipv6.iter())
                .map(|n| n.addr())
                .collect(),
        });
    }

    /// Forgets one endpoint everywhere but in the kernel: DNS names, record, addresses.
    pub(super) fn forget_endpoint(&self, network_id: &str, container_id: &str) {
        self.dns().remove_endpoint(network_id, container_id);
        self.remove_endpoint(network_id, container_id);
        self.release_addresses(network_id, container_id);
    }
}

/// What the DNS answers for the container on one network: its name, the aliases there,
/// its hostname when it differs, and its short ID (as Docker's `DNSNames`).
pub(super) fn dns_names(request: &SandboxRequest, aliases: &[String]) -> Vec<String> {
    let mut names = vec![request.container_name.trim_start_matches('/').to_owned()];
    names.extend(aliases.iter().cloned());
    names.push(request.hostname.clone());
    names.push(request.container_id.chars().take(12).collect());
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| !n.is_empty() && seen.insert(n.clone()));
    names
}

/// Docker's MAC for an IPv4 endpoint: `02:42` then the four address bytes; random after
/// `02:42` without IPv4.
pub(super) fn derive_mac(ipv4: Option<IpAddr>) -> Result<[u8; 6], NetworkError> {
    let tail = match ipv4 {
        Some(IpAddr::V4(a)) => a.octets(),
        _ => {
            let mut b = [0u8; 4];
            fill_random(&mut b)?;
            b
        }
    };
    Ok([0x02, 0x42, tail[0], tail[1], tail[2], tail[3]])
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`), as `--mac-address` takes it.
pub(super) fn parse_mac(text: &str) -> Result<[u8; 6], NetworkError> {
    let invalid = || NetworkError::Invalid(format!("invalid MAC address: {text}"));
    let mut mac = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in &mut mac {
        let part = parts.next().ok_or_else(invalid)?;
        if part.len() != 2 {
            return Err(invalid());
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
    }
    if parts.next().is_some() {
        return Err(invalid());
    }
    Ok(mac)
}

pub(super) fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A new host end name: `veth` and 7 random hex digits (Docker's form, 11 bytes).
pub(super) fn host_veth_name() -> Result<String, NetworkError> {
    Ok(format!("veth{}", random_hex(7)?))
}

/// `len` random lower-case hex digits.
pub(super) fn random_hex(len: usize) -> Result<String, NetworkError> {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    fill_random(&mut bytes)?;
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(len);
    Ok(hex)
}

fn fill_random(bytes: &mut [u8]) -> Result<(), NetworkError> {
    getrandom::getrandom(bytes)
        .map_err(|e| NetworkError::Internal(anyhow::anyhow!("random bytes: {e}")))
}

/// A kernel-side failure as Docker words it.
pub(super) fn setup_error(e: impl std::fmt::Display) -> NetworkError {
    NetworkError::Internal(anyhow::anyhow!(
        "failed to set up container networking: {e}"
    ))
}

/// Port errors keep their text (the container side prefixes it as Docker does); a port in
/// use is a 500 in Docker too.
pub(super) fn port_error(e: PortError) -> NetworkError {
    match e {
        PortError::InUse(m) => NetworkError::Internal(anyhow::anyhow!(m)),
        PortError::Invalid(m) => NetworkError::Invalid(m),
        PortError::Other(e) => NetworkError::Internal(e),
    }
}

/// The address published ports forward to: the first endpoint's IPv4, else its IPv6.
pub(super) fn port_target(endpoints: &[EndpointState]) -> Option<IpAddr> {
    let first = endpoints.first()?;
    first.ipv4.or(first.ipv6).map(|n| n.addr())
}

/// `127.0.0.11` when the namespace has the embedded DNS server.
pub(super) fn dns_servers(serving: bool) -> Vec<IpAddr> {
    if serving {
        vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 11))]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_derived_from_ipv4_as_docker_does() {
        let mac = derive_mac(Some("172.18.0.2".parse().unwrap())).unwrap();
        assert_eq!(format_mac(&mac), "02:42:ac:12:00:02");
        let random = derive_mac(None).unwrap();
        assert_eq!(&random[..2], &[0x02, 0x42]);
    }

    #[test]
    fn macs_parse_or_fail() {
        assert_eq!(
            parse_mac("AA:bb:cc:dd:ee:0f").unwrap(),
            [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f]
        );
        assert!(parse_mac("aa:bb:cc:dd:ee").is_err());
        assert!(parse_mac("aa:bb:cc:dd:ee:ff:00").is_err());
        assert!(parse_mac("aa:bb:cc:dd:ee:fg").is_err());
        assert!(parse_mac("aaa:b:cc:dd:ee:ff").is_err());
    }

    #[test]
    fn names_are_unique_and_include_the_short_id() {
        let request = SandboxRequest {
            container_id: "0123456789abcdef".repeat(4),
            container_name: "/web".into(),
            hostname: "web".into(),
            ..SandboxRequest::default()
        };
        let names = dns_names(&request, &["app".into(), "web".into()]);
        assert_eq!(names, ["web", "app", "0123456789ab"]);
    }

    #[test]
    fn random_hex_has_the_length_asked() {
        let h = random_hex(7).unwrap();
        assert_eq!(h.len(), 7);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(random_hex(64).unwrap(), random_hex(64).unwrap());
    }
}
