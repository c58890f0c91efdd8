//! `PortBindings` and `-P` into [`PortMapping`]s, with Docker's rules: keys `80/tcp`,
//! `53/udp`, `8000-8010/tcp` (no protocol means tcp); an empty `HostIp` means every
//! address (`0.0.0.0`, plus `::` with the same port when the host has IPv6); an empty or
//! `0` `HostPort` asks for a random port; a host range as long as the container range maps
//! port by port, a host range for one container port picks a free port in it (probed here,
//! since a mapping carries one host port).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};

use super::{PortError, PortMapping, Proto};
use crate::engine::spec::PortBinding;

/// The `PortBindings` of a host config (`"80/tcp": [{"HostIp":"","HostPort":"8080"}]`,
/// ranges like `"8000-8001"`) and, with `publish_all`, the exposed ports with random host
/// ports, expanded into mappings (Docker's rules and errors).
pub fn expand(
    port_bindings: &BTreeMap<String, Option<Vec<PortBinding>>>,
    exposed: &BTreeSet<String>,
    publish_all: bool,
) -> Result<Vec<PortMapping>, PortError> {
    expand_with(port_bindings, exposed, publish_all, host_has_ipv6())
}

/// [`expand`] with the host's IPv6 support given (tests pin it).
pub(crate) fn expand_with(
    port_bindings: &BTreeMap<String, Option<Vec<PortBinding>>>,
    exposed: &BTreeSet<String>,
    publish_all: bool,
    ipv6: bool,
) -> Result<Vec<PortMapping>, PortError> {
    let mut out = Vec::new();
    let mut bound_keys = BTreeSet::new();
    let mut keys: Vec<(Proto, u16, u16, &Vec<PortBinding>)> = Vec::new();
    for (key, bindings) in port_bindings {
        let (proto, lo, hi) = parse_key(key)?;
        let Some(bindings) = bindings.as_ref().filter(|b| !b.is_empty()) else {
            continue;
        };
        for port in lo..=hi {
            bound_keys.insert((proto, port));
        }
        keys.push((proto, lo, hi, bindings));
    }
    keys.sort_by_key(|(proto, lo, _, _)| (*lo, *proto));
    for (proto, lo, hi, bindings) in keys {
        for binding in bindings {
            expand_binding(proto, lo, hi, binding, ipv6, &mut out)?;
        }
    }
    if publish_all {
        let mut extra = Vec::new();
        for key in exposed {
            let (proto, lo, hi) = parse_key(key)?;
            for port in lo..=hi {
                if !bound_keys.contains(&(proto, port)) {
                    extra.push((port, proto));
                }
            }
        }
        extra.sort();
        extra.dedup();
        for (port, proto) in extra {
            push_all_addresses(None, proto, 0, port, ipv6, &mut out);
        }
    }
    Ok(out)
}

/// `80/tcp`, `80`, `8000-8010/udp` → (proto, first, last).
fn parse_key(key: &str) -> Result<(Proto, u16, u16), PortError> {
    let (ports, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = parse_proto(proto)?;
    let invalid = || PortError::Invalid(format!("invalid port specification: {ports:?}"));
    let (lo, hi) = parse_range(ports).ok_or_else(invalid)?;
    if lo == 0 {
        return Err(invalid());
    }
    Ok((proto, lo, hi))
}

fn parse_proto(proto: &str) -> Result<Proto, PortError> {
    match proto.to_ascii_lowercase().as_str() {
        "" | "tcp" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        "sctp" => Ok(Proto::Sctp),
        _ => Err(PortError::Invalid(format!("invalid proto: {proto}"))),
    }
}

/// `8080` or `8000-8010` (first ≤ last); `None` when malformed.
fn parse_range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let p = s.parse::<u16>().ok()?;
            Some((p, p))
        }
    }
}

fn expand_binding(
    proto: Proto,
    lo: u16,
    hi: u16,
    binding: &PortBinding,
    ipv6: bool,
    out: &mut Vec<PortMapping>,
) -> Result<(), PortError> {
    let host_ip = parse_host_ip(&binding.host_ip)?;
    // A `/proto` suffix on HostPort is tolerated as Docker does (nat.SplitProtoPort).
    let host_port = binding.host_port.split('/').next().unwrap_or("").trim();
    let (hlo, hhi) = if host_port.is_empty() {
        (0, 0)
    } else {
        parse_range(host_port).ok_or_else(|| {
            PortError::Invalid(format!(
                "invalid port specification: {:?}",
                binding.host_port
            ))
        })?
    };
    let container_len = hi - lo;
    if hlo == 0 && hhi == 0 {
        for port in lo..=hi {
            push_all_addresses(host_ip, proto, 0, port, ipv6, out);
        }
    } else if hhi - hlo == container_len {
        for (i, port) in (lo..=hi).enumerate() {
            let host = hlo + i as u16;
            push_all_addresses(host_ip, proto, host, port, ipv6, out);
        }
    } else if container_len == 0 {
        let addrs = addresses(host_ip, ipv6);
        let host = pick_free(proto, &addrs, hlo, hhi).ok_or_else(|| {
            PortError::InUse(format!(
                "Bind for {}:{hlo}-{hhi} failed: port is already allocated",
                addrs[0]
            ))
        })?;
        push_all_addresses(host_ip, proto, host, lo, ipv6, out);
    } else {
        return Err(PortError::Invalid(format!(
            "Invalid ranges specified for container and host Ports: {lo}-{hi}/{proto} and {}",
            binding.host_port
        )));
    }
    Ok(())
}

/// `""` → every address; `1.2.3.4`, `::1`, `[::1]`.
fn parse_host_ip(s: &str) -> Result<Option<IpAddr>, PortError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(s);
    bare.parse::<IpAddr>()
        .map(Some)
        .map_err(|_| PortError::Invalid(format!("invalid IP address: {s}")))
}

fn addresses(host_ip: Option<IpAddr>, ipv6: bool) -> Vec<IpAddr> {
    match host_ip {
        Some(ip) => vec![ip],
        None if ipv6 => vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ],
        None => vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
    }
}

/// Docker's two bindings for "all addresses": `0.0.0.0` then `::` with the same host port
/// (for a random port the publisher reuses the first one's port for its `::` twin).
fn push_all_addresses(
    host_ip: Option<IpAddr>,
    proto: Proto,
    host_port: u16,
    container_port: u16,
    ipv6: bool,
    out: &mut Vec<PortMapping>,
) {
    for ip in addresses(host_ip, ipv6) {
        out.push(PortMapping {
            proto,
            host_ip: ip,
            host_port,
            container_port,
        });
    }
}

/// The first port in `lo..=hi` free on every address (a probe bind, released at once).
fn pick_free(proto: Proto, addrs: &[IpAddr], lo: u16, hi: u16) -> Option<u16> {
    (lo..=hi).find(|&port| addrs.iter().all(|&ip| probe(proto, ip, port)))
}

fn probe(proto: Proto, ip: IpAddr, port: u16) -> bool {
    match proto {
        Proto::Udp => UdpSocket::bind((ip, port)).is_ok(),
        _ => TcpListener::bind((ip, port)).is_ok(),
    }
}

/// Docker publishes on `::` too when the kernel has IPv6.
fn host_has_ipv6() -> bool {
    std::path::Path::new("/proc/net/if_inet6").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    fn bindings(items: &[(&str, Vec<PortBinding>)]) -> BTreeMap<String, Option<Vec<PortBinding>>> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.clone())))
            .collect()
    }

    fn m(proto: Proto, ip: &str, host: u16, cont: u16) -> PortMapping {
        PortMapping {
            proto,
            host_ip: ip.parse().unwrap(),
            host_port: host,
            container_port: cont,
        }
    }

    #[test]
    fn empty_host_ip_gives_both_families_with_ipv6() {
        let b = bindings(&[("80/tcp", vec![pb("", "8080")])]);
        let got = expand_with(&b, &BTreeSet::new(), false, true).unwrap();
        assert_eq!(
            got,
            vec![
                m(Proto::Tcp, "0.0.0.0", 8080, 80),
                m(Proto::Tcp, "::", 8080, 80)
            ]
        );
        let got = expand_with(&b, &BTreeSet::new(), false, false).unwrap();
        assert_eq!(got, vec![m(Proto::Tcp, "0.0.0.0", 8080, 80)]);
    }

    #[test]
    fn ranges_map_port_by_port() {
        let b = bindings(&[("8000-8002/udp", vec![pb("127.0.0.1", "9000-9002")])]);
        let got = expand_with(&b, &BTreeSet::new(), false, true).unwrap();
        assert_eq!(
            got,
            vec![
                m(Proto::Udp, "127.0.0.1", 9000, 8000),
                m(Proto::Udp, "127.0.0.1", 9001, 8001),
                m(Proto::Udp, "127.0.0.1", 9002, 8002),
            ]
        );
    }

    #[test]
    fn mismatched_ranges_are_refused() {
        let b = bindings(&[("8000-8002/tcp", vec![pb("", "9000-9001")])]);
        let err = expand_with(&b, &BTreeSet::new(), false, true).unwrap_err();
        assert!(
            err.to_string().starts_with("Invalid ranges specified"),
            "{err}"
        );
    }

    #[test]
    fn host_range_for_one_port_picks_a_free_one() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = held.local_addr().unwrap().port();
        if p == u16::MAX {
            return;
        }
        let b = bindings(&[("80", vec![pb("127.0.0.1", &format!("{p}-{}", p + 1))])]);
        let got = expand_with(&b, &BTreeSet::new(), false, true).unwrap();
        assert_eq!(got.len(), 1);
        assert_ne!(got[0].host_port, p, "the held port must be skipped");
    }

    #[test]
    fn random_ports_and_publish_all() {
        let b = bindings(&[("53/udp", vec![pb("", "")]), ("80/tcp", vec![pb("", "0")])]);
        let exposed: BTreeSet<String> = ["80/tcp", "443/tcp", "7000"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got = expand_with(&b, &exposed, true, false).unwrap();
        assert_eq!(
            got,
            vec![
                m(Proto::Udp, "0.0.0.0", 0, 53),
                m(Proto::Tcp, "0.0.0.0", 0, 80),
                m(Proto::Tcp, "0.0.0.0", 0, 443),
                m(Proto::Tcp, "0.0.0.0", 0, 7000),
            ]
        );
        // Without -P only the bindings count.
        assert_eq!(expand_with(&b, &exposed, false, false).unwrap().len(), 2);
    }

    #[test]
    fn bad_specs_get_dockers_errors() {
        let cases = [
            (
                ("abc/tcp", pb("", "")),
                "invalid port specification: \"abc\"",
            ),
            (("0/tcp", pb("", "")), "invalid port specification: \"0\""),
            (
                ("80/tcp", pb("", "x1")),
                "invalid port specification: \"x1\"",
            ),
            (
                ("80/tcp", pb("", "70000")),
                "invalid port specification: \"70000\"",
            ),
            (("80/tcp", pb("1.2.3", "80")), "invalid IP address: 1.2.3"),
            (("80/xyz", pb("", "")), "invalid proto: xyz"),
        ];
        for ((key, binding), want) in cases {
            let b = bindings(&[(key, vec![binding])]);
            let err = expand_with(&b, &BTreeSet::new(), false, true).unwrap_err();
            assert_eq!(err.to_string(), want, "{key}");
        }
    }

    #[test]
    fn null_or_empty_bindings_publish_nothing() {
        let mut b = BTreeMap::new();
        b.insert("80/tcp".to_string(), None);
        b.insert("81/tcp".to_string(), Some(vec![]));
        assert!(expand_with(&b, &BTreeSet::new(), false, true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bracketed_ipv6_host_ip() {
        let b = bindings(&[("80", vec![pb("[::1]", "8080")])]);
        let got = expand_with(&b, &BTreeSet::new(), false, true).unwrap();
        assert_eq!(got, vec![m(Proto::Tcp, "::1", 8080, 80)]);
    }
}
