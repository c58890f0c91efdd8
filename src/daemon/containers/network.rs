//! Container networking on the container side: which networks a container is on (planned
//! and validated at create with Docker's errors, kept in the record), the sandbox asked of
//! [`Networks`] at start and torn down at exit, the `/etc/hosts` and `/etc/resolv.conf`
//! lines its addresses give, and `network connect` / `disconnect`.
//!
//! The kernel work (namespace, veths, addresses, DNS server, published ports) is the
//! network manager's (`daemon::networks`); this module only decides what to ask for.
//!
//! Not done yet: `--dns` servers as the embedded DNS server's upstreams (on user-defined
//! networks the file names `127.0.0.11`, which forwards to the host's resolvers), legacy
//! links on user-defined networks, and `container:x` sharing the other container's `/etc`
//! files.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use super::create::{render_etc_files, run_spec};
use super::entry::Entry;
use super::store::{NetworkAttachment, Record};
use super::{blocking, ContainerError, Containers};
use crate::api::container_types::EndpointSettings;
use crate::daemon::networks::{
    EndpointRequest, NetworkError, NetworkView, SandboxRequest, SandboxState,
};
use crate::engine::spec::{ExtraHost, HostAddr, NetworkMode, RunSpec};

/// Docker's texts (`runconfig/errors.go`).
const HOST_CONFLICT: &str =
    "container cannot be disconnected from host network or connected to host network";
const NONE_CONFLICT: &str =
    "container cannot be connected to multiple networks with one of the networks in private (none) mode";
const SHARED_CONFLICT: &str = "container sharing network namespace with another container or host cannot be connected to any other network";
const ALIAS_ON_BRIDGE: &str =
    "network-scoped alias is supported only for containers in user defined networks";
const IP_ON_BRIDGE: &str = "user specified IP address is supported on user defined networks only";

/// What the network step adds to the container's `/etc` files.
#[derive(Clone, Debug, Default)]
pub(super) struct EtcNetwork {
    /// The container's own addresses: a line each naming it.
    pub own_addresses: Vec<IpAddr>,
    /// `--link` lines on the default bridge (`ip`, `alias hostname name`).
    pub links: Vec<ExtraHost>,
    /// `127.0.0.11` on user-defined networks: `resolv.conf` names the embedded server.
    pub dns_servers: Vec<IpAddr>,
    /// What `host-gateway` in `--add-host` stands for: the default bridge's gateway.
    pub host_gateway: Option<IpAddr>,
    /// An endpoint has IPv6: the host's IPv6 nameservers are kept.
    pub ipv6: bool,
}

impl Containers {
    /// At create: the networks of the request (`HostConfig.NetworkMode` first, then the
    /// other `EndpointsConfig` entries by name), each looked up (404 `network x not
    /// found`) and checked with Docker's rules.
    pub(super) fn plan_networks(
        &self,
        spec: &RunSpec,
    ) -> Result<Vec<NetworkAttachment>, ContainerError> {
        let configs = endpoints_config(spec)?;
        let Some(primary) = primary_network(spec) else {
            return Ok(Vec::new());
        };
        let primary = self.view(&primary)?;
        let mut out = Vec::new();
        let mut others = Vec::new();
        let mut primary_config = None;
        for (key, config) in &configs {
            let view = self.view(key)?;
            if view.id == primary.id {
                primary_config = Some(config.clone());
            } else if !matches!(view.driver.as_str(), "host" | "null") {
                others.push((view, config.clone()));
            }
        }
        let mut first = attachment(&primary, primary_config.as_ref())?;
        if first.mac.is_none() && !spec.config.mac_address.is_empty() {
            first.mac = Some(spec.config.mac_address.clone());
        }
        if primary.is_default_bridge {
            first.links = spec.host_config.links.clone();
        }
        out.push(first);
        others.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        for (view, config) in others {
            out.push(attachment(&view, Some(&config))?);
        }
        Ok(out)
    }

    /// At start: makes the sandbox of a container on bridge or user networks and records
    /// it; `None` for `host`, `none` and `container:x`. A failure leaves nothing behind.
    pub(super) async fn network_up(
        &self,
        entry: &Arc<Entry>,
        record: &Record,
        spec: &RunSpec,
    ) -> Result<Option<SandboxState>, ContainerError> {
        let Some(request) = sandbox_request(record, spec)? else {
            return Ok(None);
        };
        let state = self
            .networks
            .sandbox_up(&request)
            .await
            .map_err(|e| setup_error(e, &record.name))?;
        if let Err(e) = entry.update(false, |r| r.sandbox = Some(state.clone())) {
            self.networks.sandbox_down(&record.id).await;
            return Err(e);
        }
        Ok(Some(state))
    }

    /// Tears the container's sandbox down (after an exit, a failed launch, at removal) and
    /// forgets it in the record.
    pub(super) async fn network_down(&self, entry: &Arc<Entry>) {
        if entry.snapshot().sandbox.is_none() {
            return;
        }
        self.networks.sandbox_down(&entry.id).await;
        if let Err(e) = entry.update(false, |r| r.sandbox = None) {
            tracing::warn!(container = %entry.id, "forgetting the network sandbox: {e}");
        }
    }

    /// After a daemon restart, for a container still running: its sandbox as recorded.
    pub(super) async fn network_restore(&self, record: &Record) {
        let Some(state) = &record.sandbox else { return };
        let request = match run_spec(record).and_then(|spec| sandbox_request(record, &spec)) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(container = %record.id, "restoring the network: {e}");
                return;
            }
        };
        if let Err(e) = self.networks.sandbox_restore(&request, state).await {
            tracing::warn!(container = %record.id, "restoring the network: {e}");
        }
    }

    /// The `/etc` inputs of `record` (its sandbox as recorded; links resolved now).
    pub(super) fn etc_network(&self, record: &Record) -> EtcNetwork {
        let mut out = EtcNetwork {
            host_gateway: self.bridge_gateway(),
            ..EtcNetwork::default()
        };
        let Some(state) = &record.sandbox else {
            return out;
        };
        for ep in &state.endpoints {
            out.own_addresses.extend(ep.ipv4.iter().map(|n| n.addr()));
            out.own_addresses.extend(ep.ipv6.iter().map(|n| n.addr()));
            out.ipv6 |= ep.ipv6.is_some();
        }
        out.dns_servers = state.dns_servers.clone();
        for a in attachments(record) {
            for link in &a.links {
                match self.link_line(link) {
                    Some(line) => out.links.push(line),
                    None => tracing::info!(container = %record.id, "link {link}: no address"),
                }
            }
        }
        out
    }

    /// `ip  alias hostname name` for `--link name:alias` (Docker's line), when the linked
    /// container runs with an address on the default bridge.
    fn link_line(&self, link: &str) -> Option<ExtraHost> {
        let (name, alias) = link.split_once(':').unwrap_or((link, link));
        let name = name.trim_start_matches('/');
        let alias = alias.rsplit('/').next().unwrap_or(alias);
        let child = self.entry(name).ok()?.snapshot();
        let ip = child
            .sandbox
            .as_ref()?
            .endpoints
            .iter()
            .find_map(|e| e.ipv4.map(|n| n.addr()))?;
        let hostname = run_spec(&child).ok()?.config.hostname;
        let mut names = format!("{alias} {hostname}");
        if alias != child.name {
            names.push(' ');
            names.push_str(&child.name);
        }
        Some(ExtraHost {
            name: names,
            addr: HostAddr::Ip(ip),
        })
    }

    /// The default bridge's gateway (`host-gateway`).
    pub(super) fn bridge_gateway(&self) -> Option<IpAddr> {
        let bridge = self.networks.inspect("bridge").ok()?;
        bridge
            .ipam
            .config
            .iter()
            .find_map(|c| c.gateway.parse::<IpAddr>().ok().filter(IpAddr::is_ipv4))
    }

    fn view(&self, reference: &str) -> Result<NetworkView, ContainerError> {
        self.networks.network_view(reference).map_err(network_error)
    }

    /// `POST /networks/{id}/connect`.
    pub(super) async fn connect_container(
        &self,
        container: &str,
        network: &str,
        config: Option<EndpointSettings>,
    ) -> Result<(), ContainerError> {
        let entry = self.entry(container)?;
        let view = self.view(network)?;
        let _op = entry.op.lock().await;
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        check_connectable(&spec, &view)?;
        let mut current = attachments(&record);
        if current.iter().any(|a| is(a, &view)) {
            return Err(ContainerError::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                record.name, view.name
            )));
        }
        let wanted = attachment(&view, config.as_ref())?;
        let running = record.state.status.is_running() && record.sandbox.is_some();
        if !running {
            current.push(wanted);
            entry.update(false, |r| r.networks = Some(current.clone()))?;
            return Ok(());
        }
        let request = sandbox_request(&record, &spec)?
            .ok_or_else(|| ContainerError::Invalid(SHARED_CONFLICT.into()))?;
        let endpoint = self
            .networks
            .endpoint_connect(&request, &endpoint_request(&wanted))
            .await
            .map_err(network_error)?;
        current.push(wanted);
        let dns = view.dns;
        entry.update(false, |r| {
            r.networks = Some(current.clone());
            if let Some(s) = r.sandbox.as_mut() {
                s.endpoints.push(endpoint.clone());
                if dns && s.dns_servers.is_empty() {
                    s.dns_servers = vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 11))];
                }
            }
        })?;
        self.rewrite_etc_files(&entry).await
    }

    /// `POST /networks/{id}/disconnect`.
    pub(super) async fn disconnect_container(
        &self,
        container: &str,
        network: &str,
        force: bool,
    ) -> Result<(), ContainerError> {
        let entry = self.entry(container)?;
        let view = match self.view(network) {
            Ok(v) => Some(v),
            // `--force` may drop an attachment to a network that is gone.
            Err(_) if force => None,
            Err(e) => return Err(e),
        };
        let _op = entry.op.lock().await;
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        if spec.namespaces.network == NetworkMode::Host
            || view.as_ref().is_some_and(|v| v.driver == "host")
        {
            return Err(ContainerError::Invalid(HOST_CONFLICT.into()));
        }
        let mut current = attachments(&record);
        let found = current.iter().position(|a| match &view {
            Some(v) => is(a, v),
            None => a.network_name == network || a.network_id == network,
        });
        let Some(pos) = found else {
            let name = view.as_ref().map_or(network, |v| v.name.as_str());
            return Err(ContainerError::Conflict(format!(
                "container {} is not connected to network {name}",
                record.id
            )));
        };
        let gone = current.remove(pos);
        let network_id = if gone.network_id.is_empty() {
            view.as_ref().map(|v| v.id.clone()).unwrap_or_default()
        } else {
            gone.network_id.clone()
        };
        let running = record.state.status.is_running() && record.sandbox.is_some();
        if running {
            self.networks
                .endpoint_disconnect(&record.id, &network_id)
                .await
                .map_err(network_error)?;
        }
        entry.update(false, |r| {
            r.networks = Some(current.clone());
            if let Some(s) = r.sandbox.as_mut() {
                s.endpoints.retain(|e| e.network_id != network_id);
            }
        })?;
        if running {
            self.rewrite_etc_files(&entry).await?;
        }
        Ok(())
    }

    /// Rewrites `hosts` and `resolv.conf` of a running container in place: they are bind
    /// mounted, so a new file renamed over them would not be seen.
    async fn rewrite_etc_files(&self, entry: &Arc<Entry>) -> Result<(), ContainerError> {
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        let net = self.etc_network(&record);
        let dir = entry.dir.clone();
        blocking("rewriting the /etc files", move || {
            for (file, text) in render_etc_files(&spec, &net)? {
                if file != "hostname" {
                    write_in_place(&dir.join(file), text.as_bytes())?;
                }
            }
            Ok(())
        })
        .await
    }
}

/// Truncates and writes `path`, keeping its inode.
fn write_in_place(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}

/// The network of the network mode that gets a sandbox: `bridge` or a user network.
fn primary_network(spec: &RunSpec) -> Option<String> {
    if spec.config.network_disabled {
        return None;
    }
    match &spec.namespaces.network {
        NetworkMode::Bridge => Some("bridge".into()),
        NetworkMode::Named(name) => Some(name.clone()),
        NetworkMode::Host | NetworkMode::None | NetworkMode::Container(_) => None,
    }
}

/// `NetworkingConfig.EndpointsConfig`, by network reference.
fn endpoints_config(spec: &RunSpec) -> Result<BTreeMap<String, EndpointSettings>, ContainerError> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct NetworkingConfig {
        endpoints_config: Option<BTreeMap<String, Option<EndpointSettings>>>,
    }
    let Some(value) = spec.networking_config.as_ref().filter(|v| !v.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let parsed: NetworkingConfig = serde_json::from_value(value.clone())
        .map_err(|e| ContainerError::Invalid(format!("invalid NetworkingConfig: {e}")))?;
    Ok(parsed
        .endpoints_config
        .unwrap_or_default()
        .into_iter()
        // The docker CLI names the network mode's endpoint `default` (its network mode when
        // no `--network` is given); that is the default bridge.
        .map(|(k, v)| {
            let k = if k == "default" {
                "bridge".to_string()
            } else {
                k
            };
            (k, v.unwrap_or_default())
        })
        .collect())
}

/// One attachment from an endpoint config, with Docker's checks for the default bridge.
fn attachment(
    view: &NetworkView,
    config: Option<&EndpointSettings>,
) -> Result<NetworkAttachment, ContainerError> {
    let mut out = NetworkAttachment {
        network_id: view.id.clone(),
        network_name: view.name.clone(),
        ..NetworkAttachment::default()
    };
    let Some(config) = config else {
        return Ok(out);
    };
    out.aliases = config.aliases.clone().unwrap_or_default();
    out.aliases.retain(|a| !a.is_empty());
    out.links = config.links.clone().unwrap_or_default();
    out.mac = Some(config.mac_address.clone()).filter(|m| !m.is_empty());
    if let Some(ipam) = config.ipam_config.as_ref().filter(|v| !v.is_null()) {
        let field = |k: &str| ipam.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let v4 = field("IPv4Address");
        if !v4.is_empty() {
            out.ipv4 = Some(
                v4.parse::<Ipv4Addr>()
                    .map_err(|_| ContainerError::Invalid(format!("invalid IPv4 address: {v4}")))?,
            );
        }
        let v6 = field("IPv6Address");
        if !v6.is_empty() {
            out.ipv6 = Some(
                v6.parse::<Ipv6Addr>()
                    .map_err(|_| ContainerError::Invalid(format!("invalid IPv6 address: {v6}")))?,
            );
        }
    }
    if view.is_default_bridge {
        if !out.aliases.is_empty() {
            return Err(ContainerError::Invalid(ALIAS_ON_BRIDGE.into()));
        }
        if out.ipv4.is_some() || out.ipv6.is_some() {
            return Err(ContainerError::Invalid(IP_ON_BRIDGE.into()));
        }
    }
    Ok(out)
}

/// Docker's refusals for `network connect`.
fn check_connectable(spec: &RunSpec, view: &NetworkView) -> Result<(), ContainerError> {
    let invalid = |m: &str| Err(ContainerError::Invalid(m.into()));
    match &spec.namespaces.network {
        NetworkMode::Host => return invalid(HOST_CONFLICT),
        NetworkMode::None => return invalid(NONE_CONFLICT),
        NetworkMode::Container(_) => return invalid(SHARED_CONFLICT),
        NetworkMode::Bridge | NetworkMode::Named(_) => {}
    }
    match view.driver.as_str() {
        "host" => invalid(HOST_CONFLICT),
        "null" => invalid(NONE_CONFLICT),
        _ => Ok(()),
    }
}

/// Whether attachment `a` is network `view` (records made before networking know only
/// the name).
fn is(a: &NetworkAttachment, view: &NetworkView) -> bool {
    if a.network_id.is_empty() {
        a.network_name == view.name
    } else {
        a.network_id == view.id
    }
}

/// The container's attachments; for a record made before networking, the network mode's.
pub(super) fn attachments(record: &Record) -> Vec<NetworkAttachment> {
    if let Some(list) = &record.networks {
        return list.clone();
    }
    let Ok(spec) = run_spec(record) else {
        return Vec::new();
    };
    primary_network(&spec)
        .map(|name| NetworkAttachment {
            network_name: name,
            links: spec.host_config.links.clone(),
            ..NetworkAttachment::default()
        })
        .into_iter()
        .collect()
}

fn endpoint_request(a: &NetworkAttachment) -> EndpointRequest {
    EndpointRequest {
        network: if a.network_name.is_empty() {
            a.network_id.clone()
        } else {
            a.network_name.clone()
        },
        aliases: a.aliases.clone(),
        ipv4: a.ipv4,
        ipv6: a.ipv6,
        mac: a.mac.clone(),
        links: a.links.clone(),
    }
}

/// What the container asks of [`crate::daemon::networks::Networks::sandbox_up`]; `None`
/// when it gets no sandbox (`host`, `none`, `container:x`, `NetworkDisabled`).
pub(super) fn sandbox_request(
    record: &Record,
    spec: &RunSpec,
) -> Result<Option<SandboxRequest>, ContainerError> {
    if primary_network(spec).is_none() {
        return Ok(None);
    }
    let hc = &spec.host_config;
    let ports = crate::net::ports::expand(
        &hc.port_bindings,
        &spec.config.exposed_ports,
        hc.publish_all_ports,
    )
    .map_err(|e| ContainerError::Invalid(e.to_string()))?;
    Ok(Some(SandboxRequest {
        container_id: record.id.clone(),
        container_name: record.name.clone(),
        hostname: spec.config.hostname.clone(),
        endpoints: attachments(record).iter().map(endpoint_request).collect(),
        ports,
    }))
}

/// Docker's status and wording for a network error.
pub(super) fn network_error(e: NetworkError) -> ContainerError {
    match e {
        NetworkError::NotFound(m) => ContainerError::NotFound(m),
        NetworkError::Conflict(m) | NetworkError::Forbidden(m) => ContainerError::Conflict(m),
        NetworkError::Invalid(m) => ContainerError::Invalid(m),
        NetworkError::Internal(e) => ContainerError::Internal(e),
    }
}

/// A failed `sandbox_up`: Docker's `failed to set up container networking: ...`, with
/// `driver failed programming external connectivity on endpoint <name>` before port
/// errors.
fn setup_error(e: NetworkError, name: &str) -> ContainerError {
    const PREFIX: &str = "failed to set up container networking";
    match e {
        NetworkError::Internal(e) => {
            let text = format!("{e:#}");
            if text.starts_with(PREFIX) {
                ContainerError::Internal(anyhow::anyhow!(text))
            } else if text.to_ascii_lowercase().contains("port") {
                ContainerError::Internal(anyhow::anyhow!(
                    "{PREFIX}: driver failed programming external connectivity on endpoint \
                     {name}: {text}"
                ))
            } else {
                ContainerError::Internal(anyhow::anyhow!("{PREFIX}: {text}"))
            }
        }
        other => network_error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, default_bridge: bool) -> NetworkView {
        NetworkView {
            id: format!("{name:x<64}"),
            name: name.into(),
            driver: "bridge".into(),
            is_default_bridge: default_bridge,
            ..NetworkView::default()
        }
    }

    fn settings(json: &str) -> EndpointSettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn endpoint_configs_give_aliases_addresses_and_mac() {
        let c = settings(
            r#"{"Aliases":["db",""],"IPAMConfig":{"IPv4Address":"10.9.0.5"},
                "MacAddress":"02:42:0a:09:00:05"}"#,
        );
        let a = attachment(&view("back", false), Some(&c)).unwrap();
        assert_eq!(a.aliases, vec!["db".to_string()]);
        assert_eq!(a.ipv4, Some(Ipv4Addr::new(10, 9, 0, 5)));
        assert_eq!(a.mac.as_deref(), Some("02:42:0a:09:00:05"));
        assert_eq!(a.network_name, "back");
    }

    #[test]
    fn the_default_bridge_refuses_aliases_and_static_addresses_like_docker() {
        let alias = settings(r#"{"Aliases":["db"]}"#);
        let e = attachment(&view("bridge", true), Some(&alias)).unwrap_err();
        assert_eq!(e.to_string(), ALIAS_ON_BRIDGE);
        let ip = settings(r#"{"IPAMConfig":{"IPv4Address":"172.17.0.9"}}"#);
        let e = attachment(&view("bridge", true), Some(&ip)).unwrap_err();
        assert_eq!(e.to_string(), IP_ON_BRIDGE);
        let bad = settings(r#"{"IPAMConfig":{"IPv4Address":"nope"}}"#);
        assert!(attachment(&view("x", false), Some(&bad)).is_err());
    }

    #[test]
    fn port_errors_get_dockers_prefixes() {
        let e = setup_error(
            NetworkError::Internal(anyhow::anyhow!(
                "Bind for 0.0.0.0:8080 failed: port is already allocated"
            )),
            "web",
        );
        assert_eq!(
            e.to_string(),
            "failed to set up container networking: driver failed programming external \
             connectivity on endpoint web: Bind for 0.0.0.0:8080 failed: port is already allocated"
        );
        let e = setup_error(
            NetworkError::Internal(anyhow::anyhow!(
                "failed to set up container networking: no veth"
            )),
            "web",
        );
        assert_eq!(
            e.to_string(),
            "failed to set up container networking: no veth"
        );
        let e = setup_error(NetworkError::NotFound("network x not found".into()), "web");
        assert!(matches!(e, ContainerError::NotFound(_)));
    }
}
