//! The Docker Engine API's request and response bodies as Rust structs, with Docker's JSON
//! field names (v1.43, `../shared/reference/docker-engine-api-v1.43.yaml`).
//!
//! Shared by the daemon's server (which serialises them) and `api::client` users (which
//! decode answers from berth's daemon or Docker's). Plain data: no I/O here. Decoding is
//! lenient as Go's is: missing fields and `null` become the empty value, unknown fields are
//! ignored, so an answer from a newer Docker still decodes.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The newest API version berth serves.
pub const API_VERSION: &str = "1.43";
/// The oldest API version berth serves.
pub const MIN_API_VERSION: &str = "1.24";

/// Decodes `null` as the type's default, as Go does for slices and maps.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `{"message": "..."}`: every error answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(default)]
    pub message: String,
}

/// `GET /version`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemVersion {
    #[serde(default)]
    pub platform: VersionPlatform,
    #[serde(default, deserialize_with = "nullable")]
    pub components: Vec<ComponentVersion>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(rename = "MinAPIVersion", default)]
    pub min_api_version: String,
    #[serde(default)]
    pub git_commit: String,
    /// Docker's Go version; berth reports the Rust toolchain here.
    #[serde(default)]
    pub go_version: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kernel_version: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub experimental: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build_time: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionPlatform {
    #[serde(default)]
    pub name: String,
}

/// One entry of `SystemVersion.Components` (`Engine`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComponentVersion {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `GET /info`: the subset `docker info` prints, with every field it reads present.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemInfo {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(default)]
    pub containers: i64,
    #[serde(default)]
    pub containers_running: i64,
    #[serde(default)]
    pub containers_paused: i64,
    #[serde(default)]
    pub containers_stopped: i64,
    #[serde(default)]
    pub images: i64,
    #[serde(default)]
    pub driver: String,
    #[serde(default, deserialize_with = "nullable")]
    pub driver_status: Vec<[String; 2]>,
    #[serde(default)]
    pub docker_root_dir: String,
    #[serde(default)]
    pub plugins: PluginsInfo,
    #[serde(default)]
    pub memory_limit: bool,
    #[serde(default)]
    pub swap_limit: bool,
    #[serde(default)]
    pub cpu_cfs_period: bool,
    #[serde(default)]
    pub cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares", default)]
    pub cpu_shares: bool,
    #[serde(rename = "CPUSet", default)]
    pub cpu_set: bool,
    #[serde(default)]
    pub pids_limit: bool,
    #[serde(default)]
    pub oom_kill_disable: bool,
    #[serde(rename = "IPv4Forwarding", default)]
    pub ipv4_forwarding: bool,
    #[serde(default)]
    pub bridge_nf_iptables: bool,
    #[serde(default)]
    pub bridge_nf_ip6tables: bool,
    #[serde(default)]
    pub debug: bool,
    #[serde(rename = "NFd", default)]
    pub nfd: i64,
    #[serde(default)]
    pub n_goroutines: i64,
    #[serde(default)]
    pub system_time: String,
    #[serde(default)]
    pub logging_driver: String,
    #[serde(default)]
    pub cgroup_driver: String,
    #[serde(default)]
    pub cgroup_version: String,
    #[serde(default)]
    pub n_events_listener: i64,
    #[serde(default)]
    pub kernel_version: String,
    #[serde(default)]
    pub operating_system: String,
    #[serde(rename = "OSVersion", default)]
    pub os_version: String,
    #[serde(rename = "OSType", default)]
    pub os_type: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(rename = "NCPU", default)]
    pub ncpu: i64,
    #[serde(default)]
    pub mem_total: i64,
    #[serde(default)]
    pub index_server_address: String,
    #[serde(default)]
    pub registry_config: Option<RegistryServiceConfig>,
    #[serde(default)]
    pub http_proxy: String,
    #[serde(default)]
    pub https_proxy: String,
    #[serde(default)]
    pub no_proxy: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Vec<String>,
    #[serde(default)]
    pub experimental_build: bool,
    #[serde(default)]
    pub server_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub runtimes: BTreeMap<String, Runtime>,
    #[serde(default)]
    pub default_runtime: String,
    #[serde(default)]
    pub swarm: SwarmInfo,
    #[serde(default)]
    pub live_restore_enabled: bool,
    #[serde(default)]
    pub isolation: String,
    #[serde(default)]
    pub init_binary: String,
    #[serde(default)]
    pub containerd_commit: Commit,
    #[serde(default)]
    pub runc_commit: Commit,
    #[serde(default)]
    pub init_commit: Commit,
    #[serde(default, deserialize_with = "nullable")]
    pub security_options: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PluginsInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub volume: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub network: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub authorization: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub log: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegistryServiceConfig {
    #[serde(
        rename = "AllowNondistributableArtifactsCIDRs",
        default,
        deserialize_with = "nullable"
    )]
    pub allow_nondistributable_artifacts_cidrs: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub allow_nondistributable_artifacts_hostnames: Vec<String>,
    #[serde(
        rename = "InsecureRegistryCIDRs",
        default,
        deserialize_with = "nullable"
    )]
    pub insecure_registry_cidrs: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub index_configs: BTreeMap<String, IndexInfo>,
    #[serde(default, deserialize_with = "nullable")]
    pub mirrors: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub mirrors: Vec<String>,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub official: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    #[serde(default)]
    pub path: String,
    #[serde(
        rename = "runtimeArgs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub runtime_args: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Commit {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(default)]
    pub expected: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmInfo {
    #[serde(rename = "NodeID", default)]
    pub node_id: String,
    #[serde(default)]
    pub node_addr: String,
    /// `inactive` on berth: there is no swarm mode.
    #[serde(default)]
    pub local_node_state: String,
    #[serde(default)]
    pub control_available: bool,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub remote_managers: Option<Vec<serde_json::Value>>,
}

/// `GET /images/json`: one image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub parent_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub repo_digests: Vec<String>,
    /// Seconds since the epoch.
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub size: i64,
    /// -1: not computed (Docker's value unless asked).
    #[serde(default)]
    pub shared_size: i64,
    #[serde(default)]
    pub virtual_size: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// -1: not computed.
    #[serde(default)]
    pub containers: i64,
}

/// An image's (or a container's) run configuration, Docker's `container.Config` as it appears
/// in `Config` of `GET /images/{name}/json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub domainname: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub attach_stdout: bool,
    #[serde(default)]
    pub attach_stderr: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub open_stdin: bool,
    #[serde(default)]
    pub stdin_once: bool,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub working_dir: String,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub network_disabled: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(default)]
    pub on_build: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `GET /images/{name}/json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    #[serde(default)]
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub repo_digests: Vec<String>,
    #[serde(default)]
    pub parent: String,
    #[serde(default)]
    pub comment: String,
    /// RFC 3339 with nanoseconds.
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub container: String,
    #[serde(default)]
    pub container_config: Option<ContainerConfig>,
    #[serde(default)]
    pub docker_version: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub virtual_size: i64,
    #[serde(default)]
    pub graph_driver: GraphDriverData,
    #[serde(rename = "RootFS", default)]
    pub root_fs: RootFs,
    #[serde(default)]
    pub metadata: ImageMetadata,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriverData {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub data: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub layers: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageMetadata {
    /// RFC 3339; Docker sends Go's zero time when the image was never tagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
}

/// `GET /images/{name}/history`: one entry, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryResponseItem {
    /// The image ID for the top entry of a local image, `<missing>` otherwise.
    #[serde(default)]
    pub id: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub created_by: String,
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub comment: String,
}

/// `DELETE /images/{name}` answers a list of these: exactly one field set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDeleteResponseItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

/// `POST /images/prune`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagesPruneResponse {
    #[serde(default)]
    pub images_deleted: Option<Vec<ImageDeleteResponseItem>>,
    #[serde(default)]
    pub space_reclaimed: u64,
}

/// `POST /images/load` (non-streaming answer) and `POST /auth`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthResponse {
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity_token: String,
}

/// The object of an event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub attributes: BTreeMap<String, String>,
}

/// One line of `GET /events`. `status`, `id` and `from` are the pre-1.22 fields Docker still
/// sends for containers and images.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(rename = "Action", default)]
    pub action: String,
    #[serde(rename = "Actor", default)]
    pub actor: EventActor,
    #[serde(default)]
    pub scope: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub time: i64,
    /// Nanoseconds since the epoch.
    #[serde(rename = "timeNano", default)]
    pub time_nano: i64,
}

/// An OCI descriptor as `GET /distribution/{name}/json` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciDescriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub size: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciPlatform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

/// `GET /distribution/{name}/json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionInspect {
    #[serde(default)]
    pub descriptor: OciDescriptor,
    #[serde(default, deserialize_with = "nullable")]
    pub platforms: Vec<OciPlatform>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_uses_dockers_field_names() {
        let v = SystemVersion {
            api_version: API_VERSION.into(),
            min_api_version: MIN_API_VERSION.into(),
            ..Default::default()
        };
        let json = serde_json::to_value(&v).expect("serialises");
        assert_eq!(json["ApiVersion"], "1.43");
        assert_eq!(json["MinAPIVersion"], "1.24");
        assert!(json.get("Experimental").is_none());
    }

    #[test]
    fn nulls_decode_as_empty() {
        let s: ImageSummary =
            serde_json::from_str(r#"{"Id":"sha256:a","RepoTags":null,"Labels":null,"Created":1}"#)
                .expect("decodes");
        assert!(s.repo_tags.is_empty());
        assert!(s.labels.is_empty());
        assert_eq!(s.created, 1);
    }

    #[test]
    fn delete_item_sets_one_field() {
        let item = ImageDeleteResponseItem {
            untagged: Some("busybox:latest".into()),
            deleted: None,
        };
        assert_eq!(
            serde_json::to_string(&item).expect("serialises"),
            r#"{"Untagged":"busybox:latest"}"#
        );
    }

    #[test]
    fn event_has_lowercase_scope_and_time_fields() {
        let e = EventMessage {
            kind: "image".into(),
            action: "tag".into(),
            scope: "local".into(),
            time: 2,
            time_nano: 2_000_000_000,
            ..Default::default()
        };
        let json = serde_json::to_value(&e).expect("serialises");
        assert_eq!(json["Type"], "image");
        assert_eq!(json["timeNano"], 2_000_000_000i64);
        assert_eq!(json["scope"], "local");
    }

    #[test]
    fn info_driver_status_is_pairs() {
        let i = SystemInfo {
            driver_status: vec![["Backing Filesystem".into(), "extfs".into()]],
            ..Default::default()
        };
        let json = serde_json::to_value(&i).expect("serialises");
        assert_eq!(json["DriverStatus"][0][1], "extfs");
        assert_eq!(json["NCPU"], 0);
        assert!(json.get("OSType").is_some());
    }
}
