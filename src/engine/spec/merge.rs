//! [`resolve`]: Docker's create-time validation (`verifyContainerSettings`), its merge of the
//! request with the image config (`merge`, `mergeAndVerifyConfig`), its host config
//! defaults (`adaptContainerSettings`) and the process environment
//! (`CreateDaemonEnvironment`), with Docker's error texts.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::create_request::{nullable, str_slice, CreateRequest, Healthcheck, HostConfig};
use super::mounts::{clean_path, collect_mounts};
use super::signal::parse_signal;
use super::{
    ExtraHost, HostAddr, IpcMode, MergedConfig, Namespaces, NetworkMode, PidMode, Resources,
    Restart, RunSpec, SpecError, UtsMode,
};

/// The `config` part of an image config that a container inherits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRunConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub user: String,
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<String>,
    #[serde(default, deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub working_dir: String,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub stop_signal: String,
    #[serde(default, deserialize_with = "nullable")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub healthcheck: Option<Healthcheck>,
}

/// What [`resolve`] needs besides the request and the image.
#[derive(Clone, Debug)]
pub struct ResolveContext<'a> {
    /// The new container's 64-hex id (its first 12 characters are the default hostname).
    pub id: &'a str,
    /// The container name, without the leading `/`.
    pub name: &'a str,
    /// The host's hostname: a container on the host network uses it by default.
    pub host_hostname: &'a str,
    /// Online CPUs, the bound of `--cpus`.
    pub host_cpus: u32,
}

/// Docker's default `PATH` for Linux containers.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Docker's default `--shm-size`: 64 MiB.
pub const DEFAULT_SHM_SIZE: i64 = 64 << 20;
const DEFAULT_STOP_TIMEOUT: i64 = 10;
const SIGTERM: i32 = 15;
/// Docker's smallest `--memory` and `--memory-reservation`.
const MIN_MEMORY: i64 = 6 << 20;
const MIN_CPU_SHARES: i64 = 2;
const MAX_CPU_SHARES: i64 = 262_144;
/// Healthcheck durations below 1 ms are refused.
const MIN_HEALTH_DURATION_NS: i64 = 1_000_000;

/// Validates `request`, merges it with the image's run config and applies Docker's
/// defaults. The errors are Docker's, in Docker's order: container config, host config,
/// platform checks, then the merge (`no command specified`), then mounts and sysctls.
pub fn resolve(
    request: &CreateRequest,
    image: &ImageRunConfig,
    ctx: &ResolveContext<'_>,
) -> Result<RunSpec, SpecError> {
    let cfg = &request.config;
    let hc = &request.host_config;
    validate_container_config(request)?;
    let restart = validate_host_config(hc)?;
    let namespaces = parse_namespaces(hc)?;
    validate_network_conflicts(request, &namespaces.network)?;
    let resources = resolve_resources(hc, ctx.host_cpus)?;
    if hc.shm_size < 0 {
        return Err(SpecError::invalid("SHM size can not be less than 0"));
    }

    let mut config = merge_config(request, image);
    if config.entrypoint.is_empty() && config.cmd.is_empty() {
        return Err(SpecError::invalid("no command specified"));
    }
    if config.hostname.is_empty() {
        config.hostname = default_hostname(&namespaces.network, ctx);
    }
    let working_dir = match config.working_dir.as_str() {
        "" => "/".to_string(),
        wd => clean_path(wd),
    };
    // Only the container's own value was validated; a bad image value falls back like
    // Docker's `StopSignal()`.
    let stop_signal = match config.stop_signal.as_str() {
        "" => SIGTERM,
        s => parse_signal(s).unwrap_or(SIGTERM),
    };
    let (path, args) = command_line(&config.entrypoint, &config.cmd);
    let process_env = process_env(&config);
    let mounts = collect_mounts(hc, &config.volumes)?;
    validate_sysctls(&hc.sysctls, &namespaces)?;
    validate_ulimits(&hc.ulimits)?;
    let extra_hosts = hc
        .extra_hosts
        .iter()
        .map(|h| parse_extra_host(h))
        .collect::<Result<_, _>>()?;

    Ok(RunSpec {
        id: ctx.id.to_string(),
        name: ctx.name.trim_start_matches('/').to_string(),
        image: cfg.image.clone(),
        path,
        args,
        process_env,
        working_dir,
        stop_signal,
        stop_timeout: config.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
        config,
        restart,
        auto_remove: hc.auto_remove,
        init: hc.init.unwrap_or(false),
        privileged: hc.privileged,
        read_only_rootfs: hc.readonly_rootfs,
        namespaces,
        mounts,
        shm_size: if hc.shm_size == 0 {
            DEFAULT_SHM_SIZE
        } else {
            hc.shm_size
        },
        sysctls: hc.sysctls.clone(),
        ulimits: hc.ulimits.clone(),
        resources,
        extra_hosts,
        dns: hc.dns.clone(),
        dns_search: hc.dns_search.clone(),
        dns_options: hc.dns_options.clone(),
        cap_add: hc.cap_add.clone(),
        cap_drop: hc.cap_drop.clone(),
        security_opt: hc.security_opt.clone(),
        devices: hc.devices.clone(),
        log_config: hc.log_config.clone(),
        host_config: hc.clone(),
        networking_config: request.networking_config.clone(),
    })
}

/// Docker's `validateContainerConfig`: working dir, stop signal, env names, healthcheck.
fn validate_container_config(request: &CreateRequest) -> Result<(), SpecError> {
    let cfg = &request.config;
    if !cfg.working_dir.is_empty() && !cfg.working_dir.starts_with('/') {
        return Err(SpecError::invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            cfg.working_dir
        )));
    }
    if !cfg.stop_signal.is_empty() {
        parse_signal(&cfg.stop_signal)?;
    }
    for env in &cfg.env {
        if env.split('=').next().unwrap_or_default().is_empty() {
            return Err(SpecError::invalid(format!(
                "invalid environment variable: {env}"
            )));
        }
    }
    if let Some(h) = &cfg.healthcheck {
        validate_healthcheck(h)?;
    }
    Ok(())
}

fn validate_healthcheck(h: &Healthcheck) -> Result<(), SpecError> {
    let too_short = |ns: i64| ns != 0 && ns < MIN_HEALTH_DURATION_NS;
    for (field, ns) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if too_short(ns) {
            return Err(SpecError::invalid(format!(
                "{field} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if h.retries < 0 {
        return Err(SpecError::invalid(
            "Retries in Healthcheck cannot be negative",
        ));
    }
    Ok(())
}

/// Docker's `validateHostConfig`: AutoRemove with a restart policy, `--add-host`, port
/// specs, the restart policy itself.
fn validate_host_config(hc: &HostConfig) -> Result<Restart, SpecError> {
    let policy = hc.restart_policy.name.as_str();
    if hc.auto_remove && !matches!(policy, "" | "no") {
        return Err(SpecError::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    for host in &hc.extra_hosts {
        parse_extra_host(host)?;
    }
    for (port, bindings) in &hc.port_bindings {
        let number = port.split_once('/').map_or(port.as_str(), |(n, _)| n);
        if !is_port_range(number) {
            return Err(SpecError::invalid(format!(
                "invalid port specification: {number:?}"
            )));
        }
        for b in bindings.iter().flatten() {
            let host = b
                .host_port
                .split_once('/')
                .map_or(b.host_port.as_str(), |(n, _)| n);
            if !host.is_empty() && !is_port_range(host) {
                return Err(SpecError::invalid(format!(
                    "invalid port specification: {:?}",
                    b.host_port
                )));
            }
        }
    }
    parse_restart(policy, hc.restart_policy.maximum_retry_count)
}

/// `80` or `8000-8010`.
fn is_port_range(s: &str) -> bool {
    let (start, end) = s.split_once('-').unwrap_or((s, s));
    match (start.parse::<u16>(), end.parse::<u16>()) {
        (Ok(a), Ok(b)) => a <= b,
        _ => false,
    }
}

fn parse_restart(name: &str, max_retries: i64) -> Result<Restart, SpecError> {
    match name {
        "always" | "unless-stopped" | "no" if max_retries != 0 => Err(SpecError::invalid(format!(
            "maximum retry count cannot be used with restart policy '{name}'"
        ))),
        "" | "no" => Ok(Restart::No),
        "always" => Ok(Restart::Always),
        "unless-stopped" => Ok(Restart::UnlessStopped),
        "on-failure" if max_retries < 0 => {
            Err(SpecError::invalid("maximum retry count cannot be negative"))
        }
        "on-failure" => Ok(Restart::OnFailure { max_retries }),
        _ => Err(SpecError::invalid(format!(
            "invalid restart policy '{name}'"
        ))),
    }
}

/// `name:ip` or `name:host-gateway`; only the first `:` splits, so IPv6 works.
fn parse_extra_host(raw: &str) -> Result<ExtraHost, SpecError> {
    let (name, ip) = match raw.split_once(':') {
        Some((name, ip)) if !name.is_empty() => (name, ip),
        _ => {
            return Err(SpecError::invalid(format!(
                "bad format for add-host: {raw:?}"
            )))
        }
    };
    let addr = if ip == "host-gateway" {
        HostAddr::HostGateway
    } else {
        let ip: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| SpecError::invalid(format!("invalid IP address in add-host: {ip:?}")))?;
        HostAddr::Ip(ip)
    };
    Ok(ExtraHost {
        name: name.to_string(),
        addr,
    })
}

/// `container:<id>` → the id, when the mode has that form.
fn container_ref(mode: &str) -> Option<&str> {
    mode.strip_prefix("container:")
}

fn parse_namespaces(hc: &HostConfig) -> Result<Namespaces, SpecError> {
    let network = match hc.network_mode.as_str() {
        "" | "default" | "bridge" => NetworkMode::Bridge,
        "host" => NetworkMode::Host,
        "none" => NetworkMode::None,
        mode => match container_ref(mode) {
            Some("") => {
                return Err(SpecError::invalid(
                    "Invalid network mode: invalid container format container:<name|id>",
                ))
            }
            Some(id) => NetworkMode::Container(id.to_string()),
            None => NetworkMode::Named(mode.to_string()),
        },
    };
    let pid = match hc.pid_mode.as_str() {
        "" => PidMode::Private,
        "host" => PidMode::Host,
        mode => match container_ref(mode) {
            Some(id) if !id.is_empty() => PidMode::Container(id.to_string()),
            _ => return Err(SpecError::invalid(format!("invalid PID mode: {mode}"))),
        },
    };
    let ipc = match hc.ipc_mode.as_str() {
        // Docker's daemon default (`default-ipc-mode`).
        "" | "private" => IpcMode::Private,
        "shareable" => IpcMode::Shareable,
        "none" => IpcMode::None,
        "host" => IpcMode::Host,
        mode => match container_ref(mode) {
            Some(id) if !id.is_empty() => IpcMode::Container(id.to_string()),
            _ => return Err(SpecError::invalid(format!("invalid IPC mode: {mode}"))),
        },
    };
    let uts = match hc.uts_mode.as_str() {
        "" => UtsMode::Private,
        "host" => UtsMode::Host,
        mode => return Err(SpecError::invalid(format!("invalid UTS mode: {mode}"))),
    };
    Ok(Namespaces {
        network,
        pid,
        ipc,
        uts,
    })
}

/// Docker's `validateNetMode`: options that make no sense when the network namespace or
/// the UTS namespace is shared.
fn validate_network_conflicts(
    request: &CreateRequest,
    network: &NetworkMode,
) -> Result<(), SpecError> {
    let cfg = &request.config;
    let hc = &request.host_config;
    let joins_container = matches!(network, NetworkMode::Container(_));
    let conflict = if joins_container && !cfg.hostname.is_empty() {
        Some("conflicting options: hostname and the network mode")
    } else if joins_container && !hc.dns.is_empty() {
        Some("conflicting options: dns and the network mode")
    } else if joins_container && !hc.extra_hosts.is_empty() {
        Some("conflicting options: custom host-to-IP mapping and the network mode")
    } else if (joins_container || *network == NetworkMode::Host) && !cfg.mac_address.is_empty() {
        Some("conflicting options: mac-address and the network mode")
    } else if joins_container && (!hc.port_bindings.is_empty() || hc.publish_all_ports) {
        Some("conflicting options: port publishing and the container type network mode")
    } else if joins_container && !cfg.exposed_ports.is_empty() {
        Some("conflicting options: port exposing and the container type network mode")
    } else if hc.uts_mode == "host" && !cfg.hostname.is_empty() {
        Some("conflicting options: hostname and the UTS mode")
    } else {
        None
    };
    conflict.map_or(Ok(()), |c| Err(SpecError::invalid(c)))
}

/// Docker's Linux resource checks, then its defaults: swap twice the memory, CPU shares
/// clamped, a non-positive pids limit meaning unlimited.
fn resolve_resources(hc: &HostConfig, host_cpus: u32) -> Result<Resources, SpecError> {
    let fail = |m: &str| Err(SpecError::invalid(m));
    if hc.memory != 0 && hc.memory < MIN_MEMORY {
        return fail("Minimum memory limit allowed is 6MB");
    }
    if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
        return fail("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if hc.memory == 0 && hc.memory_swap > 0 {
        return fail(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        );
    }
    if hc.memory > 0 && hc.memory_reservation > 0 && hc.memory < hc.memory_reservation {
        return fail(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        );
    }
    if hc.memory_reservation > 0 && hc.memory_reservation < MIN_MEMORY {
        return fail("Minimum memory reservation allowed is 6MB");
    }
    if hc.nano_cpus < 0 || hc.nano_cpus > i64::from(host_cpus) * 1_000_000_000 {
        return Err(SpecError::invalid(format!(
            "Range of CPUs is from 0.01 to {host_cpus}.00, as there are only {host_cpus} CPUs available"
        )));
    }
    let memory_swap = if hc.memory > 0 && hc.memory_swap == 0 {
        hc.memory * 2
    } else {
        hc.memory_swap
    };
    let cpu_shares = if hc.cpu_shares < 0 {
        MIN_CPU_SHARES
    } else {
        hc.cpu_shares.min(MAX_CPU_SHARES)
    };
    Ok(Resources {
        memory: hc.memory,
        memory_swap,
        memory_reservation: hc.memory_reservation,
        nano_cpus: hc.nano_cpus,
        cpu_shares,
        cpuset_cpus: hc.cpuset_cpus.clone(),
        cpuset_mems: hc.cpuset_mems.clone(),
        pids_limit: hc.pids_limit.filter(|n| *n > 0),
        oom_kill_disable: hc.oom_kill_disable.unwrap_or(false),
    })
}

/// Docker's `merge(userConf, imageConf)` plus the `[""]` entrypoint reset.
fn merge_config(request: &CreateRequest, image: &ImageRunConfig) -> MergedConfig {
    let cfg = &request.config;
    let mut env = cfg.env.clone();
    if env.is_empty() {
        env = image.env.clone();
    } else {
        let key = |e: &str| e.split('=').next().unwrap_or_default().to_string();
        let user_keys: BTreeSet<String> = cfg.env.iter().map(|e| key(e)).collect();
        env.extend(
            image
                .env
                .iter()
                .filter(|e| !user_keys.contains(&key(e)))
                .cloned(),
        );
    }
    let mut labels = image.labels.clone();
    labels.extend(cfg.labels.clone());

    // A container entrypoint (even `[]` or `[""]`) drops the image's cmd unless the
    // container gives one; only an absent entrypoint inherits the image's.
    let user_entrypoint = cfg.entrypoint.clone().unwrap_or_default();
    let mut entrypoint = user_entrypoint.clone();
    let mut cmd = cfg.cmd.clone().unwrap_or_default();
    if user_entrypoint.is_empty() {
        if cmd.is_empty() {
            cmd = image.cmd.clone().unwrap_or_default();
        }
        if cfg.entrypoint.is_none() {
            entrypoint = image.entrypoint.clone().unwrap_or_default();
        }
    }
    if entrypoint.len() == 1 && entrypoint[0].is_empty() {
        entrypoint.clear();
    }

    let healthcheck = merge_healthcheck(cfg.healthcheck.as_ref(), image.healthcheck.as_ref());
    let or_image =
        |mine: &str, theirs: &str| if mine.is_empty() { theirs } else { mine }.to_string();
    MergedConfig {
        hostname: cfg.hostname.clone(),
        domainname: cfg.domainname.clone(),
        user: or_image(&cfg.user, &image.user),
        group_add: request.host_config.group_add.clone(),
        attach_stdin: cfg.attach_stdin,
        attach_stdout: cfg.attach_stdout,
        attach_stderr: cfg.attach_stderr,
        tty: cfg.tty,
        open_stdin: cfg.open_stdin,
        stdin_once: cfg.stdin_once,
        env,
        entrypoint,
        cmd,
        working_dir: or_image(&cfg.working_dir, &image.working_dir),
        labels,
        stop_signal: or_image(&cfg.stop_signal, &image.stop_signal),
        stop_timeout: cfg.stop_timeout,
        exposed_ports: cfg
            .exposed_ports
            .keys()
            .chain(image.exposed_ports.keys())
            .cloned()
            .collect(),
        volumes: cfg
            .volumes
            .keys()
            .chain(image.volumes.keys())
            .cloned()
            .collect(),
        healthcheck,
        mac_address: cfg.mac_address.clone(),
        network_disabled: cfg.network_disabled,
    }
}

/// The container's healthcheck with each unset field taken from the image's.
fn merge_healthcheck(
    mine: Option<&Healthcheck>,
    image: Option<&Healthcheck>,
) -> Option<Healthcheck> {
    let Some(image) = image else {
        return mine.cloned();
    };
    let Some(mine) = mine else {
        return Some(image.clone());
    };
    let pick = |a: i64, b: i64| if a == 0 { b } else { a };
    Some(Healthcheck {
        test: if mine.test.is_empty() {
            image.test.clone()
        } else {
            mine.test.clone()
        },
        interval: pick(mine.interval, image.interval),
        timeout: pick(mine.timeout, image.timeout),
        start_period: pick(mine.start_period, image.start_period),
        start_interval: pick(mine.start_interval, image.start_interval),
        retries: pick(mine.retries, image.retries),
    })
}

/// The first 12 characters of the id, or the host's name on the host network.
fn default_hostname(network: &NetworkMode, ctx: &ResolveContext<'_>) -> String {
    if *network == NetworkMode::Host {
        return ctx.host_hostname.to_string();
    }
    ctx.id.chars().take(12).collect()
}

/// Docker's `getEntrypointAndArgs`. The caller has checked that one of them is non-empty.
fn command_line(entrypoint: &[String], cmd: &[String]) -> (String, Vec<String>) {
    let mut all = entrypoint.iter().chain(cmd).cloned();
    let path = all.next().unwrap_or_default();
    (path, all.collect())
}

/// Docker's `CreateDaemonEnvironment`: defaults, then the config env replacing equal keys
/// or appending; a bare `KEY` removes a default.
fn process_env(config: &MergedConfig) -> Vec<String> {
    let mut env = vec![
        DEFAULT_PATH.to_string(),
        format!("HOSTNAME={}", config.hostname),
    ];
    if config.tty {
        env.push("TERM=xterm".to_string());
    }
    replace_or_append_env(env, &config.env)
}

/// Docker's `ReplaceOrAppendEnvValues`, duplicates among the overrides included.
pub(crate) fn replace_or_append_env(defaults: Vec<String>, overrides: &[String]) -> Vec<String> {
    let key_of = |e: &str| e.split('=').next().unwrap_or_default().to_string();
    let index: BTreeMap<String, usize> = defaults
        .iter()
        .enumerate()
        .map(|(i, e)| (key_of(e), i))
        .collect();
    let mut out: Vec<Option<String>> = defaults.into_iter().map(Some).collect();
    for value in overrides {
        match value.split_once('=') {
            None => {
                if let Some(i) = index.get(value.as_str()) {
                    out[*i] = None;
                }
            }
            Some((key, _)) => match index.get(key) {
                Some(i) => out[*i] = Some(value.clone()),
                None => out.push(Some(value.clone())),
            },
        }
    }
    out.into_iter().flatten().collect()
}

/// Only namespaced sysctls, and only when the container has its own namespace of that
/// kind. Docker leaves this check to runc at start; the texts are runc's.
fn validate_sysctls(sysctls: &BTreeMap<String, String>, ns: &Namespaces) -> Result<(), SpecError> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    for key in sysctls.keys() {
        if IPC.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
            if ns.ipc == IpcMode::Host {
                return Err(SpecError::invalid(format!(
                    "sysctl {key:?} is not allowed in the hosts ipc namespace"
                )));
            }
            continue;
        }
        if key.starts_with("net.") {
            if ns.network == NetworkMode::Host {
                return Err(SpecError::invalid(format!(
                    "sysctl {key:?} not allowed in host network namespace"
                )));
            }
            continue;
        }
        if ns.uts == UtsMode::Private {
            match key.as_str() {
                "kernel.domainname" => continue,
                "kernel.hostname" => {
                    return Err(SpecError::invalid(format!(
                    "sysctl {key:?} is not allowed as it conflicts with the OCI \"hostname\" field"
                )))
                }
                _ => {}
            }
        }
        return Err(SpecError::invalid(format!(
            "sysctl {key:?} is not in a separate kernel namespace"
        )));
    }
    Ok(())
}

/// Names as `--ulimit` takes them (lowercase, without `RLIMIT_`).
const ULIMIT_NAMES: [&str; 16] = [
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// go-units' `ParseUlimit` rules, applied to the decoded entries.
fn validate_ulimits(ulimits: &[super::Ulimit]) -> Result<(), SpecError> {
    for u in ulimits {
        if !ULIMIT_NAMES.contains(&u.name.as_str()) {
            return Err(SpecError::invalid(format!(
                "invalid ulimit type: {}",
                u.name
            )));
        }
        // -1 is "unlimited" and compares as the largest value.
        let as_limit = |n: i64| if n < 0 { u64::MAX } else { n as u64 };
        if as_limit(u.soft) > as_limit(u.hard) {
            return Err(SpecError::invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                u.soft, u.hard
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
