//! `HostConfig`: mounts, published ports, restart policy, network mode, links and the
//! resource and security attributes, as Docker Compose fills it.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{volume_name, ContainerInput, ConvertError};
use crate::compose::model::ServiceConfig;

pub(super) fn host_config(
    input: ContainerInput<'_>,
    network_mode: String,
) -> Result<Value, ConvertError> {
    let service = input.service;
    let mut hc = Map::new();
    hc.insert("NetworkMode".into(), json!(network_mode));
    let (binds, mounts) = mounts(input)?;
    hc.insert("Binds".into(), json!(binds));
    hc.insert("Mounts".into(), json!(mounts));
    hc.insert("PortBindings".into(), Value::Object(port_bindings(service)));
    hc.insert("RestartPolicy".into(), restart_policy(service));
    hc.insert("Links".into(), json!(links(input)?));
    hc.insert("VolumesFrom".into(), json!(volumes_from(input)?));
    if !service.tmpfs.0.is_empty() {
        let tmpfs: BTreeMap<String, String> = service
            .tmpfs
            .0
            .iter()
            .map(|t| match t.split_once(':') {
                Some((path, opts)) => (path.to_string(), opts.to_string()),
                None => (t.clone(), String::new()),
            })
            .collect();
        hc.insert("Tmpfs".into(), json!(tmpfs));
    }
    let lists: [(&str, &Vec<String>); 6] = [
        ("CapAdd", &service.cap_add),
        ("CapDrop", &service.cap_drop),
        ("SecurityOpt", &service.security_opt),
        ("GroupAdd", &service.group_add),
        ("DnsOptions", &service.dns_opt),
        ("DeviceCgroupRules", &service.device_cgroup_rules),
    ];
    for (key, list) in lists {
        if !list.is_empty() {
            hc.insert(key.into(), json!(list));
        }
    }
    if !service.dns.0.is_empty() {
        hc.insert("Dns".into(), json!(service.dns.0));
    }
    if !service.dns_search.0.is_empty() {
        hc.insert("DnsSearch".into(), json!(service.dns_search.0));
    }
    let hosts = service.extra_hosts.as_list(":");
    if !hosts.is_empty() {
        hc.insert("ExtraHosts".into(), json!(hosts));
    }
    if !service.sysctls.0.is_empty() {
        hc.insert("Sysctls".into(), json!(service.sysctls.0));
    }
    hc.insert("Privileged".into(), json!(service.privileged));
    hc.insert("ReadonlyRootfs".into(), json!(service.read_only));
    if let Some(init) = service.init {
        hc.insert("Init".into(), json!(init));
    }
    for (key, value) in [
        ("PidMode", &service.pid),
        ("IpcMode", &service.ipc),
        ("UTSMode", &service.uts),
        ("UsernsMode", &service.userns_mode),
        ("CgroupParent", &service.cgroup_parent),
        ("Cgroupns", &service.cgroup),
        ("Isolation", &service.isolation),
        ("Runtime", &service.runtime),
    ] {
        if !value.is_empty() {
            hc.insert(key.into(), json!(value));
        }
    }
    if !service.devices.is_empty() {
        let devices: Vec<Value> = service
            .devices
            .iter()
            .map(|d| {
                json!({
                    "PathOnHost": d.source,
                    "PathInContainer": if d.target.is_empty() { &d.source } else { &d.target },
                    "CgroupPermissions": if d.permissions.is_empty() { "rwm" } else { d.permissions.as_str() },
                })
            })
            .collect();
        hc.insert("Devices".into(), json!(devices));
    }
    if !service.ulimits.is_empty() {
        let ulimits: Vec<Value> = service
            .ulimits
            .iter()
            .map(|(name, limit)| {
                let limit = limit.clone().unwrap_or_default();
                let (soft, hard) = if limit.single != 0 {
                    (limit.single, limit.single)
                } else {
                    (limit.soft, limit.hard)
                };
                json!({ "Name": name, "Soft": soft, "Hard": hard })
            })
            .collect();
        hc.insert("Ulimits".into(), json!(ulimits));
    }
    if let Some(logging) = &service.logging {
        hc.insert(
            "LogConfig".into(),
            json!({ "Type": logging.driver, "Config": logging.options.0 }),
        );
    }
    resources(service, &mut hc);
    Ok(Value::Object(hc))
}

/// Memory, CPU and pids limits from the service attributes and `deploy.resources`.
fn resources(service: &ServiceConfig, hc: &mut Map<String, Value>) {
    let limits = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.clone());
    let reservations = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.clone());
    let mut memory = service.mem_limit.0;
    let mut nano_cpus = (f64::from(service.cpus) * 1e9) as i64;
    let mut pids = service.pids_limit;
    if let Some(l) = &limits {
        if l.memory_bytes.0 != 0 {
            memory = l.memory_bytes.0;
        }
        if l.nano_cpus.0 != 0.0 {
            nano_cpus = (f64::from(l.nano_cpus.0) * 1e9) as i64;
        }
        if l.pids != 0 {
            pids = l.pids;
        }
    }
    let mut reservation = service.mem_reservation.0;
    if let Some(r) = &reservations {
        if r.memory_bytes.0 != 0 {
            reservation = r.memory_bytes.0;
        }
    }
    for (key, value) in [
        ("Memory", memory),
        ("MemoryReservation", reservation),
        ("MemorySwap", service.mem_swap_limit.0),
        ("NanoCpus", nano_cpus),
        ("CpuShares", service.cpu_shares),
        ("CpuPeriod", service.cpu_period),
        ("CpuQuota", service.cpu_quota),
        ("OomScoreAdj", service.oom_score_adj),
        ("ShmSize", service.shm_size.0),
    ] {
        if value != 0 {
            hc.insert(key.into(), json!(value));
        }
    }
    if pids != 0 {
        hc.insert("PidsLimit".into(), json!(pids));
    }
    if !service.cpuset.is_empty() {
        hc.insert("CpusetCpus".into(), json!(service.cpuset));
    }
    if service.oom_kill_disable {
        hc.insert("OomKillDisable".into(), json!(true));
    }
}

/// `restart:` (or `deploy.restart_policy`) as Docker's policy.
fn restart_policy(service: &ServiceConfig) -> Value {
    if !service.restart.is_empty() {
        let (name, count) = match service.restart.split_once(':') {
            Some((name, count)) => (name, count.parse::<i64>().unwrap_or(0)),
            None => (service.restart.as_str(), 0),
        };
        return json!({ "Name": name, "MaximumRetryCount": count });
    }
    if let Some(policy) = service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.clone())
    {
        let name = match policy.condition.as_str() {
            "none" => "no",
            "on-failure" => "on-failure",
            _ => "always",
        };
        let count = policy.max_attempts.unwrap_or(0);
        return json!({ "Name": name, "MaximumRetryCount": count });
    }
    json!({ "Name": "no", "MaximumRetryCount": 0 })
}

/// `ports:` as `PortBindings` (`{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`).
fn port_bindings(service: &ServiceConfig) -> Map<String, Value> {
    let mut out = Map::new();
    for port in &service.ports {
        let protocol = if port.protocol.is_empty() {
            "tcp"
        } else {
            port.protocol.as_str()
        };
        let key = format!("{}/{protocol}", port.target);
        let binding = json!({ "HostIp": port.host_ip, "HostPort": port.published });
        match out.entry(key).or_insert_with(|| json!([])) {
            Value::Array(list) => list.push(binding),
            other => *other = json!([binding]),
        }
    }
    out
}

/// `volumes:`: binds as `Binds` (the daemon creates a missing host path, as Compose
/// wants by default), volumes and tmpfs as `Mounts`.
fn mounts(input: ContainerInput<'_>) -> Result<(Vec<String>, Vec<Value>), ConvertError> {
    let service = input.service;
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for (index, volume) in service.volumes.iter().enumerate() {
        match volume.kind.as_str() {
            "bind" => {
                let mode = if volume.read_only { "ro" } else { "rw" };
                binds.push(format!("{}:{}:{mode}", volume.source, volume.target));
            }
            "volume" => {
                let source = if volume.source.is_empty() {
                    input
                        .refs
                        .inherited_volumes
                        .get(&volume.target)
                        .cloned()
                        .unwrap_or_default()
                } else if input.project.volumes.contains_key(&volume.source) {
                    volume_name(input.project, &volume.source)
                } else {
                    volume.source.clone()
                };
                let mut mount = json!({
                    "Type": "volume",
                    "Source": source,
                    "Target": volume.target,
                    "ReadOnly": volume.read_only,
                });
                if let Some(opts) = &volume.volume {
                    let mut vo = Map::new();
                    if opts.nocopy {
                        vo.insert("NoCopy".into(), json!(true));
                    }
                    if !opts.subpath.is_empty() {
                        vo.insert("Subpath".into(), json!(opts.subpath));
                    }
                    if !vo.is_empty() {
                        mount["VolumeOptions"] = Value::Object(vo);
                    }
                }
                mounts.push(mount);
            }
            "tmpfs" => {
                let mut mount = json!({ "Type": "tmpfs", "Target": volume.target });
                if let Some(t) = &volume.tmpfs {
                    let mut opts = Map::new();
                    if t.size.0 != 0 {
                        opts.insert("SizeBytes".into(), json!(t.size.0));
                    }
                    if t.mode != 0 {
                        opts.insert("Mode".into(), json!(t.mode));
                    }
                    if !opts.is_empty() {
                        mount["TmpfsOptions"] = Value::Object(opts);
                    }
                }
                mounts.push(mount);
            }
            other => {
                return Err(ConvertError::Invalid {
                    path: format!("services.{}.volumes[{index}]", service.name),
                    message: format!("volume type {other:?} is not supported by berth yet"),
                })
            }
        }
    }
    // The replaced container's other anonymous volumes (the image's `VOLUME`s) come along.
    for (target, name) in &input.refs.inherited_volumes {
        if !service.volumes.iter().any(|v| &v.target == target) {
            mounts.push(json!({ "Type": "volume", "Source": name, "Target": target }));
        }
    }
    Ok((binds, mounts))
}

/// `links:` and `external_links:` as `container:alias`.
fn links(input: ContainerInput<'_>) -> Result<Vec<String>, ConvertError> {
    let mut out = Vec::new();
    for link in &input.service.links {
        let (target, alias) = link.split_once(':').unwrap_or((link, link));
        let container = input.refs.service_containers.get(target).ok_or_else(|| {
            ConvertError::MissingContainer {
                service: input.service.name.clone(),
                target: target.to_string(),
            }
        })?;
        out.push(format!("{container}:{alias}"));
    }
    for link in &input.service.external_links {
        let (target, alias) = link.split_once(':').unwrap_or((link, link));
        out.push(format!("{target}:{alias}"));
    }
    Ok(out)
}

/// `volumes_from: [service, container:name]` with services resolved to their container.
fn volumes_from(input: ContainerInput<'_>) -> Result<Vec<String>, ConvertError> {
    let mut out = Vec::new();
    for entry in &input.service.volumes_from {
        if let Some(name) = entry.strip_prefix("container:") {
            out.push(name.to_string());
            continue;
        }
        let (target, mode) = match entry.split_once(':') {
            Some((t, m)) => (t, Some(m)),
            None => (entry.as_str(), None),
        };
        let container = input.refs.service_containers.get(target).ok_or_else(|| {
            ConvertError::MissingContainer {
                service: input.service.name.clone(),
                target: target.to_string(),
            }
        })?;
        out.push(match mode {
            Some(m) => format!("{container}:{m}"),
            None => container.clone(),
        });
    }
    Ok(out)
}
