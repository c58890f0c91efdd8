//! A service → the exact `POST /containers/create` body Docker Compose v2.40.3 sends for it
//! (`pkg/compose/create.go`: `getCreateConfigs`), and a project's networks and volumes →
//! their create bodies. Pure: no I/O, so the bodies are golden-tested.
//!
//! What is not converted yet (ignored): secrets, configs, gpus/device requests, blkio,
//! credential specs, `develop`, `post_start`/`pre_stop` hooks, models.

mod host_config;
mod networking;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::compose::model::{Project, ServiceConfig};
use crate::scheduler::labels::Replica;

/// Why a service cannot be turned into a container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Names the attribute path, e.g. `services.web.ports[1]`.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// `network_mode: service:x`, `volumes_from: x`, `links` naming a service with no
    /// container yet.
    #[error("service {service:?} refers to {target:?}, which has no container")]
    MissingContainer { service: String, target: String },
}

/// What the container refers to that only exists at run time: the containers of other
/// services (for `network_mode: service:x`, `volumes_from`, `links`) and the daemon-side
/// names of project networks and volumes are derived from the project itself.
#[derive(Clone, Debug, Default)]
pub struct Refs {
    /// Service name → the name of its first container (replica 1, or the lowest running).
    pub service_containers: BTreeMap<String, String>,
    /// Anonymous volumes to inherit from the container being replaced: container path →
    /// volume name (empty unless recreating without `-V`).
    pub inherited_volumes: BTreeMap<String, String>,
}

/// One container to create.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRequest {
    /// The `?name=` of the create call (`project-service-N`, `container_name`, or the
    /// one-off `project-service-run-<slug>`).
    pub name: String,
    /// The JSON body: `ContainerConfig` fields at the top level plus `HostConfig` and
    /// `NetworkingConfig` (only the FIRST network, by Compose's priority order, because
    /// API 1.41 daemons accept one endpoint at create).
    pub body: Value,
    /// The other networks: (daemon network name, `EndpointConfig` JSON), connected with
    /// `POST /networks/{name}/connect` after create and before start.
    pub extra_networks: Vec<(String, Value)>,
}

/// Everything convert needs for one container.
#[derive(Clone, Copy, Debug)]
pub struct ContainerInput<'a> {
    pub project: &'a Project,
    pub service: &'a ServiceConfig,
    pub replica: &'a Replica,
    /// `scheduler::hash::service_config_hash` of the service.
    pub config_hash: &'a str,
    /// The image ID (`sha256:…`) resolved for the service's image, when known.
    pub image_digest: Option<&'a str>,
    /// The ID of the container this one replaces (label `com.docker.compose.replace`).
    pub replaces: Option<&'a str>,
    pub refs: &'a Refs,
}

/// The create request for one container of a service.
pub fn container_request(input: ContainerInput<'_>) -> Result<CreateRequest, ConvertError> {
    let ContainerInput {
        project, service, ..
    } = input;
    let name = container_name(project, service, input.replica);
    let labels = crate::scheduler::labels::container_labels(
        project,
        service,
        input.replica,
        input.config_hash,
        input.image_digest,
        input.replaces,
    );
    let mut body = Map::new();
    body.insert("Image".into(), json!(project.image_name(service)));
    put_str(&mut body, "Hostname", &service.hostname);
    put_str(&mut body, "Domainname", &service.domainname);
    put_str(&mut body, "User", &service.user);
    put_str(&mut body, "WorkingDir", &service.working_dir);
    put_str(&mut body, "StopSignal", &service.stop_signal);
    put_str(&mut body, "MacAddress", &service.mac_address);
    body.insert("Tty".into(), json!(service.tty));
    body.insert("OpenStdin".into(), json!(service.stdin_open));
    body.insert("AttachStdin".into(), json!(false));
    body.insert("AttachStdout".into(), json!(false));
    body.insert("AttachStderr".into(), json!(false));
    if let Some(cmd) = &service.command.0 {
        body.insert("Cmd".into(), json!(cmd));
    }
    if let Some(entrypoint) = &service.entrypoint.0 {
        body.insert("Entrypoint".into(), json!(entrypoint));
    }
    body.insert("Env".into(), json!(environment(service)));
    body.insert("Labels".into(), json!(labels));
    if let Some(grace) = service.stop_grace_period {
        body.insert("StopTimeout".into(), json!(grace.0 / 1_000_000_000));
    }
    if let Some(health) = &service.healthcheck {
        body.insert("Healthcheck".into(), healthcheck(health));
    }
    let exposed = exposed_ports(service);
    if !exposed.is_empty() {
        body.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    let networks = networking::endpoints(input, &name)?;
    body.insert(
        "HostConfig".into(),
        host_config::host_config(input, networks.mode.clone())?,
    );
    let mut endpoints = Map::new();
    if let Some((network, endpoint)) = networks.first {
        endpoints.insert(network, endpoint);
    }
    body.insert(
        "NetworkingConfig".into(),
        json!({ "EndpointsConfig": endpoints }),
    );
    Ok(CreateRequest {
        name,
        body: Value::Object(body),
        extra_networks: networks.rest,
    })
}

fn put_str(body: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        body.insert(key.into(), json!(value));
    }
}

/// `KEY=value`, sorted; variables left without a value are not passed, as Compose.
fn environment(service: &ServiceConfig) -> Vec<String> {
    service
        .environment
        .0
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect()
}

/// Docker's `Healthcheck`: durations in nanoseconds; `disable: true` is `["NONE"]`.
fn healthcheck(health: &crate::compose::model::HealthCheckConfig) -> Value {
    if health.disable {
        return json!({ "Test": ["NONE"] });
    }
    let mut out = Map::new();
    if !health.test.0.is_empty() {
        out.insert("Test".into(), json!(health.test.0));
    }
    for (key, value) in [
        ("Interval", health.interval),
        ("Timeout", health.timeout),
        ("StartPeriod", health.start_period),
        ("StartInterval", health.start_interval),
    ] {
        if let Some(d) = value {
            out.insert(key.into(), json!(d.0));
        }
    }
    if let Some(retries) = health.retries {
        out.insert("Retries".into(), json!(retries));
    }
    Value::Object(out)
}

/// `ports:` targets and `expose:` entries as `{"80/tcp": {}}`.
fn exposed_ports(service: &ServiceConfig) -> Map<String, Value> {
    let mut out = Map::new();
    for port in &service.ports {
        let protocol = if port.protocol.is_empty() {
            "tcp"
        } else {
            port.protocol.as_str()
        };
        out.insert(format!("{}/{protocol}", port.target), json!({}));
    }
    for expose in &service.expose.0 {
        let key = if expose.contains('/') {
            expose.clone()
        } else {
            format!("{expose}/tcp")
        };
        out.insert(key, json!({}));
    }
    out
}

/// The default container name: `container_name`, else `project-service-N` (one-offs:
/// `project-service-run-<first 12 of slug>`).
pub fn container_name(project: &Project, service: &ServiceConfig, replica: &Replica) -> String {
    match replica {
        Replica::Number(_) if !service.container_name.is_empty() => service.container_name.clone(),
        Replica::Number(n) => format!("{}-{}-{n}", project.name, service.name),
        Replica::OneOff { slug } => format!(
            "{}-{}-run-{}",
            project.name,
            service.name,
            &slug[..slug.len().min(12)]
        ),
    }
}

/// `POST /networks/create` body for the project network `key` (daemon name from `name:` or
/// `project_key`), with Compose's labels, driver, options, IPAM, internal, attachable,
/// enable_ipv6. External networks are never created: callers check first.
pub fn network_request(project: &Project, key: &str) -> Value {
    let config = project.networks.get(key).cloned().unwrap_or_default();
    let pools: Vec<Value> = config
        .ipam
        .config
        .iter()
        .flatten()
        .map(|pool| {
            let mut p = Map::new();
            for (k, v) in [
                ("Subnet", &pool.subnet),
                ("Gateway", &pool.gateway),
                ("IPRange", &pool.ip_range),
            ] {
                if !v.is_empty() {
                    p.insert(k.into(), json!(v));
                }
            }
            if !pool.auxiliary_addresses.0.is_empty() {
                p.insert(
                    "AuxiliaryAddresses".into(),
                    json!(pool.auxiliary_addresses.0),
                );
            }
            Value::Object(p)
        })
        .collect();
    let mut ipam = Map::new();
    if !config.ipam.driver.is_empty() {
        ipam.insert("Driver".into(), json!(config.ipam.driver));
    }
    ipam.insert("Config".into(), json!(pools));
    let driver = if config.driver.is_empty() {
        "bridge"
    } else {
        config.driver.as_str()
    };
    let mut body = json!({
        "Name": network_name(project, key),
        "CheckDuplicate": true,
        "Driver": driver,
        "Options": config.driver_opts.0,
        "IPAM": ipam,
        "Internal": config.internal,
        "Attachable": config.attachable,
        "Labels": crate::scheduler::labels::network_labels(project, key),
    });
    if let Some(v6) = config.enable_ipv6 {
        body["EnableIPv6"] = json!(v6);
    }
    body
}

/// `POST /volumes/create` body for the project volume `key`.
pub fn volume_request(project: &Project, key: &str) -> Value {
    let config = project.volumes.get(key).cloned().unwrap_or_default();
    let driver = if config.driver.is_empty() {
        "local"
    } else {
        config.driver.as_str()
    };
    json!({
        "Name": volume_name(project, key),
        "Driver": driver,
        "DriverOpts": config.driver_opts.0,
        "Labels": crate::scheduler::labels::volume_labels(project, key),
    })
}

/// The daemon-side name of project network `key` (`name:` or `project_key`).
pub fn network_name(project: &Project, key: &str) -> String {
    match project.networks.get(key) {
        Some(n) if !n.name.is_empty() => n.name.clone(),
        _ => format!("{}_{key}", project.name),
    }
}

/// The daemon-side name of project volume `key` (`name:` or `project_key`).
pub fn volume_name(project: &Project, key: &str) -> String {
    match project.volumes.get(key) {
        Some(v) if !v.name.is_empty() => v.name.clone(),
        _ => format!("{}_{key}", project.name),
    }
}

/// How many containers a service wants: `--scale` override, else `scale`, else
/// `deploy.replicas`, else 1.
pub fn desired_replicas(service: &ServiceConfig, scale_override: Option<u32>) -> u32 {
    if let Some(n) = scale_override {
        return n;
    }
    if let Some(n) = service.scale {
        return n.max(0) as u32;
    }
    service
        .deploy
        .as_ref()
        .and_then(|d| d.replicas)
        .map(|n| n.max(0) as u32)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests;
