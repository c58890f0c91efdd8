//! Wire types of `POST /containers/create`: Docker's `ContainerConfig`, `HostConfig` and
//! `NetworkingConfig`, with Docker's field names.
//!
//! Every field is optional or defaulted and accepts JSON `null` (Go clients send `null` for
//! nil slices and maps), so any body `docker run`, docker-py or compose sends decodes.
//! Decoding never validates: the rules live in [`super::resolve`]. The API module re-exports
//! these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Treats `null` like an absent field.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Docker's `StrSlice`: `null`, a list of strings, or one string (a one-element list).
pub(super) fn str_slice<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::One(s)) => Some(vec![s]),
        Some(Either::Many(v)) => Some(v),
    })
}

/// The whole body: the container config at the top level, plus `HostConfig` and
/// `NetworkingConfig`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(default, deserialize_with = "nullable")]
    pub host_config: HostConfig,
    /// Endpoint settings per network; the networking step reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<serde_json::Value>,
}

/// Docker's `container.Config` as sent by clients.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub hostname: String,
    #[serde(default, deserialize_with = "nullable")]
    pub domainname: String,
    /// `uid`, `uid:gid`, `name` or `name:group`, resolved at start by [`super::user`].
    #[serde(default, deserialize_with = "nullable")]
    pub user: String,
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdin: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdout: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// `"80/tcp": {}`.
    #[serde(default, deserialize_with = "nullable")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub open_stdin: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub stdin_once: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<String>,
    /// `None` (absent or null) and `Some([])` differ only for the entrypoint; kept as
    /// `Option` for symmetry with Docker's `StrSlice`.
    #[serde(default, deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, deserialize_with = "nullable")]
    pub args_escaped: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub image: String,
    /// Anonymous volume destinations: `"/data": {}`.
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub working_dir: String,
    /// `None` inherits the image's; `Some([""])` clears it (`--entrypoint ""`).
    #[serde(default, deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub network_disabled: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub mac_address: String,
    #[serde(default, deserialize_with = "nullable")]
    pub on_build: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub stop_signal: String,
    /// Seconds; `None` means Docker's default of 10.
    #[serde(default, deserialize_with = "nullable")]
    pub stop_timeout: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub shell: Vec<String>,
}

/// `HEALTHCHECK`, durations in nanoseconds as Docker sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default, deserialize_with = "nullable")]
    pub test: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub interval: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub timeout: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub start_period: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub start_interval: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub retries: i64,
}

/// Docker's `container.HostConfig` (the fields berth acts on; unknown ones are ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `-v` strings: `/host:/ctr[:mode]`, `name:/ctr[:mode]` or `/ctr`.
    #[serde(default, deserialize_with = "nullable")]
    pub binds: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub network_mode: String,
    /// `--link name[:alias]`: legacy links on the default bridge (`/etc/hosts` entries).
    #[serde(default, deserialize_with = "nullable")]
    pub links: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub port_bindings: BTreeMap<String, Option<Vec<PortBinding>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub publish_all_ports: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub restart_policy: RestartPolicy,
    #[serde(default, deserialize_with = "nullable")]
    pub auto_remove: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub mounts: Vec<Mount>,
    #[serde(default, deserialize_with = "nullable")]
    pub cap_add: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub cap_drop: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub dns: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub dns_options: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub dns_search: Vec<String>,
    /// `name:ip`, or `name:host-gateway`.
    #[serde(default, deserialize_with = "nullable")]
    pub extra_hosts: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub group_add: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub ipc_mode: String,
    #[serde(default, deserialize_with = "nullable")]
    pub pid_mode: String,
    #[serde(default, rename = "UTSMode", deserialize_with = "nullable")]
    pub uts_mode: String,
    #[serde(default, deserialize_with = "nullable")]
    pub privileged: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub readonly_rootfs: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub security_opt: Vec<String>,
    /// Destination → mount options (`size=64m,mode=1777`).
    #[serde(default, deserialize_with = "nullable")]
    pub tmpfs: BTreeMap<String, String>,
    /// Bytes; 0 means Docker's default of 64 MiB.
    #[serde(default, deserialize_with = "nullable")]
    pub shm_size: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub sysctls: BTreeMap<String, String>,
    /// `None` means the daemon's default (no init).
    #[serde(default, deserialize_with = "nullable")]
    pub init: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub memory: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub memory_swap: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub memory_reservation: i64,
    #[serde(default, rename = "NanoCpus", deserialize_with = "nullable")]
    pub nano_cpus: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub cpu_shares: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub cpuset_cpus: String,
    #[serde(default, deserialize_with = "nullable")]
    pub cpuset_mems: String,
    #[serde(default, deserialize_with = "nullable")]
    pub pids_limit: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub oom_kill_disable: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub ulimits: Vec<Ulimit>,
    #[serde(default, deserialize_with = "nullable")]
    pub devices: Vec<DeviceMapping>,
    #[serde(default, deserialize_with = "nullable")]
    pub log_config: LogConfig,
}

/// One published port: `HostIp` empty means all addresses, `HostPort` empty means any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    #[serde(default, deserialize_with = "nullable")]
    pub host_ip: String,
    #[serde(default, deserialize_with = "nullable")]
    pub host_port: String,
}

/// `--restart`: `Name` is `""`, `no`, `always`, `unless-stopped` or `on-failure`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub maximum_retry_count: i64,
}

/// `--mount`: one entry of `HostConfig.Mounts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Mount {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(default, deserialize_with = "nullable")]
    pub r#type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub source: String,
    #[serde(default, deserialize_with = "nullable")]
    pub target: String,
    #[serde(default, deserialize_with = "nullable")]
    pub read_only: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub consistency: String,
    #[serde(default, deserialize_with = "nullable")]
    pub bind_options: Option<BindOptions>,
    /// Driver and labels of a named volume; the volume step reads them.
    #[serde(default, deserialize_with = "nullable")]
    pub volume_options: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BindOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub propagation: String,
    #[serde(default, deserialize_with = "nullable")]
    pub non_recursive: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TmpfsOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub size_bytes: i64,
    /// Permission bits as a number (JSON has no octal: 1777 octal is 1023).
    #[serde(default, deserialize_with = "nullable")]
    pub mode: u32,
}

/// `--ulimit nofile=1024:2048`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub soft: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub hard: i64,
}

/// `--device /dev/x:/dev/y:rwm`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    #[serde(default, deserialize_with = "nullable")]
    pub path_on_host: String,
    #[serde(default, deserialize_with = "nullable")]
    pub path_in_container: String,
    #[serde(default, deserialize_with = "nullable")]
    pub cgroup_permissions: String,
}

/// `--log-driver` and `--log-opt`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub r#type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub config: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body as `docker run -it --rm -v /tmp:/data:ro alpine sh` sends it (trimmed to the
    /// fields that matter, nulls kept).
    const DOCKER_RUN_BODY: &str = r#"{
        "Hostname": "", "Domainname": "", "User": "",
        "AttachStdin": true, "AttachStdout": true, "AttachStderr": true,
        "Tty": true, "OpenStdin": true, "StdinOnce": true,
        "Env": null, "Cmd": ["sh"], "Image": "alpine", "Volumes": {},
        "WorkingDir": "", "Entrypoint": null, "OnBuild": null, "Labels": {},
        "HostConfig": {
            "Binds": ["/tmp:/data:ro"], "ContainerIDFile": "",
            "LogConfig": {"Type": "", "Config": {}},
            "NetworkMode": "default", "PortBindings": {},
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": true, "VolumeDriver": "", "VolumesFrom": null,
            "ConsoleSize": [50, 200], "CapAdd": null, "CapDrop": null,
            "CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [],
            "ExtraHosts": null, "GroupAdd": null, "IpcMode": "", "Cgroup": "",
            "Links": null, "OomScoreAdj": 0, "PidMode": "", "Privileged": false,
            "PublishAllPorts": false, "ReadonlyRootfs": false, "SecurityOpt": null,
            "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
            "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "",
            "BlkioWeight": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [],
            "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": null,
            "OomKillDisable": null, "PidsLimit": null, "Ulimits": null,
            "Mounts": null, "Init": null, "Tmpfs": null, "Sysctls": null
        },
        "NetworkingConfig": {"EndpointsConfig": {}}
    }"#;

    #[test]
    fn decodes_a_docker_run_body_with_nulls() {
        let req: CreateRequest = serde_json::from_str(DOCKER_RUN_BODY).expect("decodes");
        assert_eq!(req.config.image, "alpine");
        assert_eq!(req.config.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(req.config.entrypoint, None);
        assert!(req.config.env.is_empty());
        assert!(req.config.tty && req.config.open_stdin && req.config.stdin_once);
        assert_eq!(req.host_config.binds, vec!["/tmp:/data:ro"]);
        assert!(req.host_config.auto_remove);
        assert_eq!(req.host_config.restart_policy.name, "no");
        assert_eq!(req.host_config.pids_limit, None);
        assert_eq!(req.host_config.init, None);
        assert!(req.networking_config.is_some());
    }

    #[test]
    fn decodes_an_empty_body() {
        let req: CreateRequest = serde_json::from_str("{}").expect("decodes");
        assert_eq!(req, CreateRequest::default());
    }

    #[test]
    fn decodes_a_null_host_config() {
        let req: CreateRequest =
            serde_json::from_str(r#"{"Image":"x","HostConfig":null}"#).expect("decodes");
        assert_eq!(req.host_config, HostConfig::default());
    }

    #[test]
    fn keeps_an_explicit_empty_entrypoint_distinct_from_absent() {
        let req: CreateRequest =
            serde_json::from_str(r#"{"Entrypoint":[""],"Cmd":[]}"#).expect("decodes");
        assert_eq!(req.config.entrypoint, Some(vec![String::new()]));
        assert_eq!(req.config.cmd, Some(vec![]));
    }

    #[test]
    fn decodes_mounts_ulimits_and_field_renames() {
        let req: CreateRequest = serde_json::from_str(
            r#"{"HostConfig":{"UTSMode":"host","NanoCpus":1500000000,
                "Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1024,"Mode":448}},
                          {"Type":"bind","Source":"/a","Target":"/b","BindOptions":{"Propagation":"rshared"}}],
                "Ulimits":[{"Name":"nofile","Soft":10,"Hard":20}],
                "PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}],"81/tcp":null}}}"#,
        )
        .expect("decodes");
        let hc = req.host_config;
        assert_eq!(hc.uts_mode, "host");
        assert_eq!(hc.nano_cpus, 1_500_000_000);
        assert_eq!(
            hc.mounts[0].tmpfs_options.as_ref().map(|t| t.mode),
            Some(0o700)
        );
        assert_eq!(
            hc.mounts[1]
                .bind_options
                .as_ref()
                .map(|b| b.propagation.as_str()),
            Some("rshared")
        );
        assert_eq!(hc.ulimits[0].hard, 20);
        assert_eq!(
            hc.port_bindings["80/tcp"]
                .as_ref()
                .map(|v| v[0].host_port.as_str()),
            Some("8080")
        );
        assert_eq!(hc.port_bindings["81/tcp"], None);
    }

    #[test]
    fn accepts_a_string_cmd_and_entrypoint_like_docker() {
        let req: CreateRequest =
            serde_json::from_str(r#"{"Cmd":"echo hi","Entrypoint":null}"#).expect("decodes");
        assert_eq!(req.config.cmd, Some(vec!["echo hi".to_string()]));
        assert_eq!(req.config.entrypoint, None);
    }

    #[test]
    fn round_trips_through_json() {
        let req: CreateRequest = serde_json::from_str(DOCKER_RUN_BODY).expect("decodes");
        let text = serde_json::to_string(&req).expect("encodes");
        let back: CreateRequest = serde_json::from_str(&text).expect("decodes again");
        assert_eq!(back, req);
    }
}
