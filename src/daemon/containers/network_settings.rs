//! `NetworkSettings` as `docker inspect` and `docker ps` show them: one entry per network
//! of the container (its configuration, and the live endpoint while it runs), the default
//! bridge's endpoint repeated at the top level, the published ports as bound, the sandbox's
//! namespace path.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};

use super::network::attachments;
use super::store::{NetworkAttachment, Record};
use super::Containers;
use crate::api::container_types::{EndpointSettings, NetworkSettings, Port, PortBinding};
use crate::daemon::networks::{EndpointState, SandboxState};
use crate::engine::spec::{NetworkMode, RunSpec};

impl Containers {
    /// `NetworkSettings` of `docker inspect`.
    pub(super) fn network_settings(&self, record: &Record, spec: &RunSpec) -> NetworkSettings {
        let sandbox = live_sandbox(record);
        let mut out = NetworkSettings {
            networks: self.endpoint_settings(record, spec),
            ports: sandbox
                .map(|s| ports_map(&spec.config.exposed_ports, s))
                .unwrap_or_default(),
            ..NetworkSettings::default()
        };
        if let Some(s) = sandbox {
            out.sandbox_key = s.netns.display().to_string();
            out.sandbox_id = hex(&Sha256::digest(out.sandbox_key.as_bytes()));
        }
        // Docker repeats the default bridge's endpoint at the top level (only that one).
        if let Some(ep) =
            sandbox.and_then(|s| s.endpoints.iter().find(|e| e.network_name == "bridge"))
        {
            out.endpoint_id = ep.endpoint_id.clone();
            out.gateway = ep.gateway.map(|g| g.to_string()).unwrap_or_default();
            out.ip_address = ep.ipv4.map(|n| n.addr().to_string()).unwrap_or_default();
            out.ip_prefix_len = ep.ipv4.map_or(0, |n| i64::from(n.prefix_len()));
            out.ipv6_gateway = ep.ipv6_gateway.map(|g| g.to_string()).unwrap_or_default();
            out.global_ipv6_address = ep.ipv6.map(|n| n.addr().to_string()).unwrap_or_default();
            out.global_ipv6_prefix_len = ep.ipv6.map_or(0, |n| i64::from(n.prefix_len()));
            out.mac_address = ep.mac.clone();
        }
        out
    }

    /// `NetworkSettings.Networks`: by network name. `host` and `none` containers show
    /// that network, `container:x` ones none.
    pub(super) fn endpoint_settings(
        &self,
        record: &Record,
        spec: &RunSpec,
    ) -> BTreeMap<String, EndpointSettings> {
        let special = match &spec.namespaces.network {
            NetworkMode::Host => Some("host"),
            NetworkMode::None => Some("none"),
            _ => None,
        };
        if let Some(name) = special {
            let network_id = self
                .networks
                .lookup(name)
                .map(|(id, _, _)| id)
                .unwrap_or_default();
            let settings = EndpointSettings {
                network_id,
                ..EndpointSettings::default()
            };
            return BTreeMap::from([(name.to_string(), settings)]);
        }
        let sandbox = live_sandbox(record);
        attachments(record)
            .iter()
            .map(|a| {
                let ep = sandbox.and_then(|s| s.endpoints.iter().find(|e| same(a, e)));
                (a.network_name.clone(), endpoint(record, a, ep))
            })
            .collect()
    }
}

/// The sandbox while the container runs.
fn live_sandbox(record: &Record) -> Option<&SandboxState> {
    record
        .sandbox
        .as_ref()
        .filter(|_| record.state.status.is_running())
}

fn same(a: &NetworkAttachment, e: &EndpointState) -> bool {
    if a.network_id.is_empty() {
        a.network_name == e.network_name
    } else {
        a.network_id == e.network_id
    }
}

/// One network's entry: the configuration, and the live endpoint's addresses.
fn endpoint(
    record: &Record,
    a: &NetworkAttachment,
    ep: Option<&EndpointState>,
) -> EndpointSettings {
    let mut ipam = serde_json::Map::new();
    if let Some(ip) = a.ipv4 {
        ipam.insert("IPv4Address".into(), ip.to_string().into());
    }
    if let Some(ip) = a.ipv6 {
        ipam.insert("IPv6Address".into(), ip.to_string().into());
    }
    let mut aliases = a.aliases.clone();
    // Docker (API 1.43) lists the short ID among the aliases on user-defined networks.
    if ep.is_some() && a.network_name != "bridge" {
        let short: String = record.id.chars().take(12).collect();
        if !aliases.contains(&short) {
            aliases.push(short);
        }
    }
    let mut out = EndpointSettings {
        ipam_config: Some(serde_json::Value::Object(ipam)).filter(|v| v != &serde_json::json!({})),
        links: Some(a.links.clone()).filter(|l| !l.is_empty()),
        aliases: Some(aliases).filter(|l| !l.is_empty()),
        network_id: a.network_id.clone(),
        mac_address: a.mac.clone().unwrap_or_default(),
        ..EndpointSettings::default()
    };
    if let Some(ep) = ep {
        out.network_id = ep.network_id.clone();
        out.endpoint_id = ep.endpoint_id.clone();
        out.gateway = ep.gateway.map(|g| g.to_string()).unwrap_or_default();
        out.ip_address = ep.ipv4.map(|n| n.addr().to_string()).unwrap_or_default();
        out.ip_prefix_len = ep.ipv4.map_or(0, |n| i64::from(n.prefix_len()));
        out.ipv6_gateway = ep.ipv6_gateway.map(|g| g.to_string()).unwrap_or_default();
        out.global_ipv6_address = ep.ipv6.map(|n| n.addr().to_string()).unwrap_or_default();
        out.global_ipv6_prefix_len = ep.ipv6.map_or(0, |n| i64::from(n.prefix_len()));
        out.mac_address = ep.mac.clone();
    }
    out
}

/// `NetworkSettings.Ports`: every exposed port, `null` unless published, with its
/// bindings as bound (random host ports filled in).
fn ports_map(
    exposed: &BTreeSet<String>,
    sandbox: &SandboxState,
) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut out: BTreeMap<String, Option<Vec<PortBinding>>> =
        exposed.iter().map(|p| (p.clone(), None)).collect();
    for m in &sandbox.ports {
        let key = format!("{}/{}", m.container_port, m.proto);
        out.entry(key)
            .or_default()
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: m.host_ip.to_string(),
                host_port: m.host_port.to_string(),
            });
    }
    out
}

/// `Ports` of `docker ps`: each published binding, then exposed ports published nowhere.
pub(super) fn summary_ports(record: &Record, spec: &RunSpec) -> Vec<Port> {
    let Some(sandbox) = live_sandbox(record) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, bindings) in ports_map(&spec.config.exposed_ports, sandbox) {
        let (port, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
        let Ok(private_port) = port.parse::<u16>() else {
            continue;
        };
        match bindings {
            Some(list) => out.extend(list.into_iter().map(|b| Port {
                ip: b.host_ip,
                private_port,
                public_port: b.host_port.parse().ok(),
                r#type: proto.to_string(),
            })),
            None => out.push(Port {
                private_port,
                r#type: proto.to_string(),
                ..Port::default()
            }),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ports::{PortMapping, Proto};

    #[test]
    fn ports_show_exposed_as_null_and_bindings_as_bound() {
        let mut spec_ports = std::collections::BTreeSet::new();
        spec_ports.insert("80/tcp".to_string());
        spec_ports.insert("53/udp".to_string());
        let sandbox = SandboxState {
            ports: vec![PortMapping {
                proto: Proto::Tcp,
                host_ip: "0.0.0.0".parse().unwrap(),
                host_port: 32768,
                container_port: 80,
            }],
            ..SandboxState::default()
        };
        let map = ports_map(&spec_ports, &sandbox);
        assert_eq!(map["53/udp"], None);
        assert_eq!(
            map["80/tcp"],
            Some(vec![PortBinding {
                host_ip: "0.0.0.0".into(),
                host_port: "32768".into()
            }])
        );
    }
}
