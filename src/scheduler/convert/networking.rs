//! The container's network mode and endpoints: the first network goes in the create body
//! (API 1.41 takes one endpoint at create), the others are connected before start.

use serde_json::{json, Map, Value};

use super::{network_name, ContainerInput, ConvertError};
use crate::scheduler::labels::Replica;

/// `HostConfig.NetworkMode` and the endpoints, in Compose's order (priority, then name).
pub(super) struct NetworkSetup {
    pub mode: String,
    pub first: Option<(String, Value)>,
    pub rest: Vec<(String, Value)>,
}

pub(super) fn endpoints(
    input: ContainerInput<'_>,
    container: &str,
) -> Result<NetworkSetup, ConvertError> {
    let service = input.service;
    let mode = service.network_mode.as_str();
    if let Some(target) = mode.strip_prefix("service:") {
        let name = input.refs.service_containers.get(target).ok_or_else(|| {
            ConvertError::MissingContainer {
                service: service.name.clone(),
                target: target.to_string(),
            }
        })?;
        return Ok(NetworkSetup {
            mode: format!("container:{name}"),
            first: None,
            rest: Vec::new(),
        });
    }
    if !mode.is_empty() {
        return Ok(NetworkSetup {
            mode: mode.to_string(),
            first: None,
            rest: Vec::new(),
        });
    }
    let mut keys: Vec<(&String, i64)> = service
        .networks
        .iter()
        .map(|(key, cfg)| (key, cfg.as_ref().map(|c| c.priority).unwrap_or(0)))
        .collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let oneoff = matches!(input.replica, Replica::OneOff { .. });
    let mut all = keys.into_iter().map(|(key, _)| {
        let cfg = service.networks.get(key).cloned().flatten();
        let mut endpoint = Map::new();
        if !oneoff {
            let mut aliases = vec![container.to_string(), service.name.clone()];
            if let Some(cfg) = &cfg {
                aliases.extend(cfg.aliases.iter().cloned());
            }
            endpoint.insert("Aliases".into(), json!(aliases));
        }
        if let Some(cfg) = &cfg {
            let mut ipam = Map::new();
            if !cfg.ipv4_address.is_empty() {
                ipam.insert("IPv4Address".into(), json!(cfg.ipv4_address));
            }
            if !cfg.ipv6_address.is_empty() {
                ipam.insert("IPv6Address".into(), json!(cfg.ipv6_address));
            }
            if !cfg.link_local_ips.is_empty() {
                ipam.insert("LinkLocalIPs".into(), json!(cfg.link_local_ips));
            }
            if !ipam.is_empty() {
                endpoint.insert("IPAMConfig".into(), Value::Object(ipam));
            }
            if !cfg.mac_address.is_empty() {
                endpoint.insert("MacAddress".into(), json!(cfg.mac_address));
            }
            if !cfg.driver_opts.0.is_empty() {
                endpoint.insert("DriverOpts".into(), json!(cfg.driver_opts.0));
            }
        }
        (network_name(input.project, key), Value::Object(endpoint))
    });
    let first = all.next();
    let rest = all.collect();
    let mode = first
        .as_ref()
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| "none".to_string());
    Ok(NetworkSetup { mode, first, rest })
}
