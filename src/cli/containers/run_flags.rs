//! The flags of `berth run` and `berth create` (the docker CLI's `containerOptions`) and
//! their translation into the `POST /containers/create` body, with the docker CLI's
//! parsing rules and error texts (`opts.ValidateEnv`, `nat.ParsePortSpecs`, `--mount`
//! CSV, `seccomp=FILE` read on the client, ...).
//!
//! Pure apart from reading `--env-file`, `--label-file` and seccomp profile files and the
//! process environment for `-e NAME`. The networking flags are `run_network`'s. Not done
//! yet: `--volumes-from`, `--health-*`, `--link-local-ip`, blkio and realtime flags.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context};
use clap::Args;

use crate::compose::model::values::parse_ram_in_bytes;
use crate::engine::spec::create_request::{
    BindOptions, CreateRequest, DeviceMapping, LogConfig, Mount, PortBinding, RestartPolicy,
    TmpfsOptions, Ulimit,
};
use network::{networking, publish_standard_notation};

/// The container flags `run` and `create` share.
#[derive(Debug, Clone, Default, Args)]
pub struct ContainerFlags {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list")]
    pub add_host: Vec<String>,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach", value_name = "list")]
    pub attach: Vec<String>,
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list")]
    pub cap_drop: Vec<String>,
    /// Write the container ID to the file
    #[arg(long, value_name = "string")]
    pub cidfile: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_name = "int")]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_name = "decimal")]
    pub cpus: Option<f64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Add a host device to the container
    #[arg(long, value_name = "list")]
    pub device: Vec<String>,
    /// Set custom DNS servers
    #[arg(long, value_name = "list")]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", visible_alias = "dns-opt", value_name = "list")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list")]
    pub dns_search: Vec<String>,
    /// Container NIS domain name
    #[arg(long, value_name = "string")]
    pub domainname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long, value_name = "list")]
    pub expose: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list")]
    pub group_add: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long, value_name = "string")]
    pub hostname: Option<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long, value_name = "ip")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long, value_name = "ip")]
    pub ip6: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub init: Option<bool>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// IPC mode to use
    #[arg(long, value_name = "string")]
    pub ipc: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_name = "list")]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "list")]
    pub label_file: Vec<String>,
    /// Add link to another container
    #[arg(long, value_name = "list")]
    pub link: Vec<String>,
    /// Logging driver for the container
    #[arg(long = "log-driver", value_name = "string")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt", value_name = "list")]
    pub log_opt: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "string")]
    pub mac_address: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "bytes")]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes")]
    pub memory_reservation: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Attach a filesystem mount to the container
    #[arg(long, value_name = "mount")]
    pub mount: Vec<String>,
    /// Assign a name to the container
    #[arg(long, value_name = "string")]
    pub name: Option<String>,
    /// Connect a container to a network
    #[arg(long, visible_alias = "net", value_name = "network")]
    pub network: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(
        long = "network-alias",
        visible_alias = "net-alias",
        value_name = "list"
    )]
    pub network_alias: Vec<String>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub oom_kill_disable: Option<bool>,
    /// PID namespace to use
    #[arg(long, value_name = "string")]
    pub pid: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string", env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long, value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, value_name = "string", default_value = "missing")]
    pub pull: String,
    /// Suppress the pull output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, value_name = "string")]
    pub restart: Option<String>,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Security Options
    #[arg(long = "security-opt", value_name = "list")]
    pub security_opt: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes")]
    pub shm_size: Option<String>,
    /// Signal to stop the container
    #[arg(long = "stop-signal", value_name = "string")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", value_name = "int", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Sysctl options
    #[arg(long, value_name = "map")]
    pub sysctl: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long, value_name = "list")]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Ulimit options
    #[arg(long, value_name = "ulimit")]
    pub ulimit: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// UTS namespace to use
    #[arg(long, value_name = "string")]
    pub uts: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    pub volume: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    /// Image to create the container from
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The command and its arguments
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// What `POST /containers/create` gets: its body and its query.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateCall {
    pub body: CreateRequest,
    pub name: Option<String>,
    pub platform: Option<String>,
}

/// The create request for `flags`; `detach` is `run -d` (nothing attached).
pub fn to_create_call(flags: &ContainerFlags, detach: bool) -> anyhow::Result<CreateCall> {
    let mut req = CreateRequest::default();
    let c = &mut req.config;
    let h = &mut req.host_config;

    let mut attach = Attach::default();
    for stream in &flags.attach {
        match stream.to_lowercase().as_str() {
            "stdin" => attach.stdin = true,
            "stdout" => attach.stdout = true,
            "stderr" => attach.stderr = true,
            _ => bail!("invalid argument {stream:?} for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"),
        }
    }
    if detach && !flags.attach.is_empty() {
        bail!("conflicting options: cannot specify both --attach and --detach");
    }
    if flags.interactive {
        attach.stdin = true;
    }
    if flags.attach.is_empty() {
        attach.stdout = true;
        attach.stderr = true;
    }
    if !detach {
        c.attach_stdin = attach.stdin;
        c.attach_stdout = attach.stdout;
        c.attach_stderr = attach.stderr;
        c.stdin_once = flags.interactive && attach.stdin;
    }
    c.tty = flags.tty;
    c.open_stdin = flags.interactive;
    c.image = flags.image.clone();
    c.cmd = (!flags.command.is_empty()).then(|| flags.command.clone());
    c.entrypoint = flags.entrypoint.as_ref().map(|e| vec![e.clone()]);
    c.hostname = flags.hostname.clone().unwrap_or_default();
    c.domainname = flags.domainname.clone().unwrap_or_default();
    c.user = flags.user.clone().unwrap_or_default();
    c.working_dir = flags.workdir.clone().unwrap_or_default();
    c.stop_signal = flags.stop_signal.clone().unwrap_or_default();
    c.stop_timeout = flags.stop_timeout;

    c.env = read_kv_files(&flags.env_file)?;
    for e in &flags.env {
        c.env.push(validate_env(e)?);
    }
    for line in read_kv_files(&flags.label_file)?
        .iter()
        .chain(flags.label.iter())
    {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        c.labels.insert(k.to_owned(), v.to_owned());
    }

    for v in &flags.volume {
        match split_volume(v) {
            Some(_) => h.binds.push(v.clone()),
            None => {
                c.volumes.insert(v.clone(), serde_json::json!({}));
            }
        }
    }
    for m in &flags.mount {
        h.mounts.push(parse_mount(m)?);
    }
    for t in &flags.tmpfs {
        let (dest, opts) = t.split_once(':').unwrap_or((t, ""));
        h.tmpfs.insert(dest.to_owned(), opts.to_owned());
    }

    for p in &flags.publish {
        for (port, binding) in parse_port_spec(&publish_standard_notation(p)?)? {
            c.exposed_ports.insert(port.clone(), serde_json::json!({}));
            h.port_bindings
                .entry(port)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(binding);
        }
    }
    for e in &flags.expose {
        for port in parse_expose(e)? {
            c.exposed_ports.insert(port, serde_json::json!({}));
        }
    }
    h.publish_all_ports = flags.publish_all;

    let net = networking(flags)?;
    h.network_mode = net.network_mode;
    h.links = net.links;
    c.mac_address = net.mac_address;
    h.pid_mode = flags.pid.clone().unwrap_or_default();
    h.ipc_mode = flags.ipc.clone().unwrap_or_default();
    h.uts_mode = flags.uts.clone().unwrap_or_default();
    h.privileged = flags.privileged;
    h.readonly_rootfs = flags.read_only;
    h.auto_remove = flags.rm;
    h.cap_add = flags.cap_add.iter().map(|c| normalize_cap(c)).collect();
    h.cap_drop = flags.cap_drop.iter().map(|c| normalize_cap(c)).collect();
    h.security_opt = parse_security_opts(&flags.security_opt)?;
    h.dns = flags.dns.clone();
    h.dns_search = flags.dns_search.clone();
    h.dns_options = flags.dns_option.clone();
    h.extra_hosts = flags
        .add_host
        .iter()
        .map(|a| validate_extra_host(a))
        .collect::<anyhow::Result<_>>()?;
    h.group_add = flags.group_add.clone();
    for s in &flags.sysctl {
        let Some((k, v)) = s.split_once('=') else {
            bail!("invalid argument {s:?} for \"--sysctl\" flag: sysctl '{s}' is not allowed");
        };
        h.sysctls.insert(k.to_owned(), v.to_owned());
    }
    h.ulimits = flags
        .ulimit
        .iter()
        .map(|u| parse_ulimit(u))
        .collect::<anyhow::Result<_>>()?;
    h.devices = flags
        .device
        .iter()
        .map(|d| parse_device(d))
        .collect::<anyhow::Result<_>>()?;

    let bytes = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
        match v {
            None => Ok(0),
            Some(s) => parse_ram_in_bytes(s)
                .map_err(|e| anyhow!("invalid argument {s:?} for \"{flag}\" flag: {e}")),
        }
    };
    h.memory = bytes("-m, --memory", &flags.memory)?;
    h.memory_reservation = bytes("--memory-reservation", &flags.memory_reservation)?;
    h.memory_swap = match flags.memory_swap.as_deref() {
        Some("-1") => -1,
        other => bytes("--memory-swap", &other.map(str::to_owned))?,
    };
    h.shm_size = bytes("--shm-size", &flags.shm_size)?;
    h.nano_cpus = match flags.cpus {
        Some(cpus) if !(cpus >= 0.0 && cpus.is_finite()) => {
            bail!("invalid argument \"{cpus}\" for \"--cpus\" flag: invalid value")
        }
        Some(cpus) => (cpus * 1e9).round() as i64,
        None => 0,
    };
    h.cpu_shares = flags.cpu_shares.unwrap_or(0);
    h.cpuset_cpus = flags.cpuset_cpus.clone().unwrap_or_default();
    h.cpuset_mems = flags.cpuset_mems.clone().unwrap_or_default();
    h.pids_limit = flags.pids_limit;
    h.oom_kill_disable = Some(flags.oom_kill_disable.unwrap_or(false));
    h.init = flags.init;
    h.restart_policy = parse_restart(flags.restart.as_deref().unwrap_or("no"))?;
    if flags.rm && !matches!(h.restart_policy.name.as_str(), "" | "no") {
        bail!("conflicting options: cannot specify both --restart and --rm");
    }
    let mut log_config = LogConfig {
        r#type: flags.log_driver.clone().unwrap_or_default(),
        config: BTreeMap::new(),
    };
    for o in &flags.log_opt {
        let (k, v) = o.split_once('=').unwrap_or((o, ""));
        log_config.config.insert(k.to_owned(), v.to_owned());
    }
    h.log_config = log_config;
    req.networking_config = Some(net.networking_config);

    Ok(CreateCall {
        body: req,
        name: flags.name.clone(),
        platform: flags.platform.clone().filter(|p| !p.is_empty()),
    })
}

#[derive(Default)]
struct Attach {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// `opts.ValidateEnv`: `NAME=value` as given; a bare `NAME` takes the value from our
/// environment when it is set there, else stays bare.
pub fn validate_env(e: &str) -> anyhow::Result<String> {
    let (key, _) = e.split_once('=').unwrap_or((e, ""));
    if key.is_empty() {
        bail!("invalid environment variable: {e}");
    }
    if e.contains('=') {
        return Ok(e.to_owned());
    }
    Ok(match std::env::var(key) {
        Ok(value) => format!("{key}={value}"),
        Err(_) => e.to_owned(),
    })
}

/// `--env-file`/`--label-file` lines: comments and blank lines skipped, bare names taken
/// from our environment (dropped when unset), as the docker CLI's `kvfile`.
fn read_kv_files(paths: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).with_context(|| format!("open {path}"))?;
        out.extend(parse_kv_lines(path, &text)?);
    }
    Ok(out)
}

fn parse_kv_lines(path: &str, text: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if key.contains(char::is_whitespace) {
            bail!(
                "variable '{}' contains whitespaces (at {path}:{})",
                key.trim_end(),
                i + 1
            );
        }
        match value {
            Some(v) => out.push(format!("{key}={v}")),
            None => {
                if let Ok(v) = std::env::var(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// `-v` with a source (`src:dst[:mode]`), or `None` for an anonymous volume (`/dst`).
fn split_volume(v: &str) -> Option<(&str, &str)> {
    let (source, rest) = v.split_once(':')?;
    Some((source, rest))
}

/// `--mount type=bind,source=/a,target=/b,readonly,bind-propagation=rshared`.
pub fn parse_mount(spec: &str) -> anyhow::Result<Mount> {
    let invalid = |msg: String| anyhow!("invalid argument {spec:?} for \"--mount\" flag: {msg}");
    let mut m = Mount {
        r#type: "volume".into(),
        ..Mount::default()
    };
    let mut bind = BindOptions::default();
    let mut tmpfs = TmpfsOptions::default();
    let mut has_bind = false;
    let mut has_tmpfs = false;
    let mut volume_opts = serde_json::Map::new();
    for field in spec.split(',') {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_lowercase(), Some(v.trim())),
            None => (field.trim().to_lowercase(), None),
        };
        let truth = |v: Option<&str>| -> anyhow::Result<bool> {
            match v.map(str::to_lowercase).as_deref() {
                None | Some("1" | "true") => Ok(true),
                Some("0" | "false") => Ok(false),
                Some(other) => Err(invalid(format!("invalid value for {key}: {other}"))),
            }
        };
        match key.as_str() {
            "readonly" | "ro" => m.read_only = truth(value)?,
            "type" => m.r#type = value.unwrap_or("").to_lowercase(),
            "source" | "src" => m.source = value.unwrap_or("").to_owned(),
            "target" | "dst" | "destination" => m.target = value.unwrap_or("").to_owned(),
            "consistency" => m.consistency = value.unwrap_or("").to_owned(),
            "bind-propagation" => {
                has_bind = true;
                bind.propagation = value.unwrap_or("").to_lowercase();
            }
            "bind-nonrecursive" => {
                has_bind = true;
                bind.non_recursive = truth(value)?;
            }
            "tmpfs-size" => {
                has_tmpfs = true;
                let v = value.unwrap_or("");
                tmpfs.size_bytes = parse_ram_in_bytes(v)
                    .map_err(|_| invalid(format!("invalid value for {key}: {v}")))?;
            }
            "tmpfs-mode" => {
                has_tmpfs = true;
                let v = value.unwrap_or("");
                tmpfs.mode = u32::from_str_radix(v, 8)
                    .map_err(|_| invalid(format!("invalid value for {key}: {v}")))?;
            }
            "volume-nocopy" => {
                volume_opts.insert("NoCopy".into(), truth(value)?.into());
            }
            "volume-driver" => {
                volume_opts.insert(
                    "DriverConfig".into(),
                    serde_json::json!({"Name": value.unwrap_or("")}),
                );
            }
            _ if value.is_none() => {
                return Err(invalid(format!(
                    "invalid field '{field}' must be a key=value pair"
                )))
            }
            _ => return Err(invalid(format!("unexpected key '{key}' in '{field}'"))),
        }
    }
    if m.r#type.is_empty() {
        return Err(invalid("type is required".into()));
    }
    if m.target.is_empty() {
        return Err(invalid("target is required".into()));
    }
    if has_bind {
        if m.r#type != "bind" {
            return Err(invalid(format!(
                "cannot mix 'bind-*' options with mount type '{}'",
                m.r#type
            )));
        }
        m.bind_options = Some(bind);
    }
    if has_tmpfs {
        if m.r#type != "tmpfs" {
            return Err(invalid(format!(
                "cannot mix 'tmpfs-*' options with mount type '{}'",
                m.r#type
            )));
        }
        m.tmpfs_options = Some(tmpfs);
    }
    if !volume_opts.is_empty() {
        m.volume_options = Some(serde_json::Value::Object(volume_opts));
    }
    Ok(m)
}

/// `nat.ParsePortSpec`: `[ip:][hostPort:]containerPort[/proto]`, ranges on both sides;
/// returns (`"80/tcp"`, binding) pairs.
pub fn parse_port_spec(spec: &str) -> anyhow::Result<Vec<(String, PortBinding)>> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_lowercase()),
        None => (spec, "tcp".to_owned()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        bail!("invalid proto: {proto}");
    }
    // An IPv6 host address comes in brackets: `[::1]:80:80`.
    let (ip, rest) = match rest.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((ip, r)) => (ip.to_owned(), r),
            None => bail!("invalid IP address: {rest}"),
        },
        None => (String::new(), rest),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match (ip.is_empty(), parts.as_slice()) {
        (true, [c]) => (String::new(), "", *c),
        (true, [h, c]) => (String::new(), *h, *c),
        (true, [i, h, c]) => (i.to_string(), *h, *c),
        (false, [h, c]) => (ip, *h, *c),
        (false, [c]) => (ip, "", *c),
        _ => bail!("invalid port format for --publish: {spec}"),
    };
    if container.is_empty() {
        bail!("no port specified: {spec}<empty>");
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        bail!("invalid IP address: {ip}");
    }
    let (c_start, c_end) =
        parse_port_range(container).ok_or_else(|| anyhow!("invalid containerPort: {container}"))?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(parse_port_range(host).ok_or_else(|| anyhow!("invalid hostPort: {host}"))?)
    };
    if let Some((h_start, h_end)) = host_range {
        let (c_len, h_len) = (c_end - c_start, h_end - h_start);
        if c_len != h_len && c_len != 0 {
            bail!("invalid ranges specified for container and host Ports: {container} and {host}");
        }
    }
    let mut out = Vec::new();
    for (i, port) in (c_start..=c_end).enumerate() {
        let host_port = match host_range {
            None => String::new(),
            Some((hs, he)) if c_start == c_end && hs != he => format!("{hs}-{he}"),
            Some((hs, _)) => (u32::from(hs) + i as u32).to_string(),
        };
        out.push((
            format!("{port}/{proto}"),
            PortBinding {
                host_ip: ip.clone(),
                host_port,
            },
        ));
    }
    Ok(out)
}

/// `--expose 80`, `--expose 8000-8010/udp`.
fn parse_expose(spec: &str) -> anyhow::Result<Vec<String>> {
    if spec.contains(':') {
        bail!("invalid port format for --expose: {spec}");
    }
    let (range, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let (start, end) = parse_port_range(range).ok_or_else(|| {
        // nat.ParsePortRange's words: strconv's for a word that is not a number.
        let bad = range
            .split('-')
            .find(|p| p.parse::<u16>().is_err())
            .map_or_else(
                || format!("invalid range specified for port: {range}"),
                |p| format!("strconv.ParseUint: parsing {p:?}: invalid syntax"),
            );
        anyhow!("invalid range format for --expose: {spec}, error: {bad}")
    })?;
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
    (a <= b).then_some((a, b))
}

/// Capabilities as the docker CLI sends them: upper case, `CAP_` prefixed, `ALL` alone.
fn normalize_cap(cap: &str) -> String {
    let upper = cap.trim().to_uppercase();
    if upper == "ALL" || upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

/// `--security-opt`: a seccomp profile file is read here and sent inline, as Docker does.
fn parse_security_opts(opts: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for opt in opts {
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .unwrap_or((opt, ""));
        if key == "seccomp" && !value.is_empty() && value != "unconfined" {
            let text = std::fs::read(value)
                .with_context(|| format!("opening seccomp profile ({value}) failed"))?;
            let json: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("compacting json for seccomp profile ({value}) failed"))?;
            out.push(format!("seccomp={json}"));
        } else {
            out.push(opt.clone());
        }
    }
    Ok(out)
}

/// `--add-host name:ip` (or `name=ip`), kept as `name:ip`.
fn validate_extra_host(h: &str) -> anyhow::Result<String> {
    let (name, ip) = h
        .split_once('=')
        .or_else(|| h.split_once(':'))
        .ok_or_else(|| {
            anyhow!(
                "invalid argument {h:?} for \"--add-host\" flag: bad format for add-host: {h:?}"
            )
        })?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || (ip != "host-gateway" && ip.parse::<std::net::IpAddr>().is_err()) {
        bail!("invalid argument {h:?} for \"--add-host\" flag: invalid IP address in add-host: {ip:?}");
    }
    Ok(format!("{name}:{ip}"))
}

/// `--ulimit nofile=1024[:2048]`.
fn parse_ulimit(u: &str) -> anyhow::Result<Ulimit> {
    let invalid =
        || anyhow!("invalid argument {u:?} for \"--ulimit\" flag: invalid ulimit argument: {u}");
    let (name, values) = u.split_once('=').ok_or_else(invalid)?;
    let (soft, hard) = values.split_once(':').unwrap_or((values, values));
    let soft: i64 = soft.parse().map_err(|_| invalid())?;
    let hard: i64 = hard.parse().map_err(|_| invalid())?;
    if soft > hard && hard != -1 {
        bail!("invalid argument {u:?} for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}");
    }
    Ok(Ulimit {
        name: name.to_owned(),
        soft,
        hard,
    })
}

/// `--device /dev/host[:/dev/ctr][:rwm]`.
fn parse_device(d: &str) -> anyhow::Result<DeviceMapping> {
    let parts: Vec<&str> = d.split(':').collect();
    let is_perm = |s: &str| !s.is_empty() && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, ctr, perm) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_perm(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if is_perm(p) => (*h, *c, *p),
        _ => bail!("invalid argument {d:?} for \"--device\" flag: bad format for path: {d}"),
    };
    Ok(DeviceMapping {
        path_on_host: host.to_owned(),
        path_in_container: ctr.to_owned(),
        cgroup_permissions: perm.to_owned(),
    })
}

/// `--restart no|always|unless-stopped|on-failure[:N]`.
pub fn parse_restart(policy: &str) -> anyhow::Result<RestartPolicy> {
    let (name, count) = match policy.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (policy, None),
    };
    let maximum_retry_count = match count {
        None => 0,
        Some(c) => c.parse().map_err(|_| {
            anyhow!("invalid restart policy format: maximum retry count must be an integer")
        })?,
    };
    match name {
        "" | "no" | "always" | "unless-stopped" if count.is_some() => {
            bail!("invalid restart policy format: maximum retry count can only be used with 'on-failure'")
        }
        "" | "no" | "always" | "unless-stopped" | "on-failure" => Ok(RestartPolicy {
            name: name.to_owned(),
            maximum_retry_count,
        }),
        _ => bail!("invalid restart policy format: unknown policy '{name}'"),
    }
}

#[path = "run_network.rs"]
mod network;

#[cfg(test)]
#[path = "run_flags_tests.rs"]
mod tests;
