//! The container spec: Docker's create request, merged with the image's run config and
//! validated with Docker's rules and error texts, becomes a [`RunSpec`], the engine's input.
//!
//! Pure: no syscalls, no processes. The only file reads are in [`user`], which looks a
//! `--user` up in the passwd and group files under a rootfs path it is given.
//!
//! Entry points:
//! - [`CreateRequest`] (in [`create_request`]): the `POST /containers/create` body.
//! - [`resolve`]: `(request, image run config, id and name, host facts) → RunSpec`, at create
//!   time, with Docker's create-time errors (bad restart policy, relative working dir, no
//!   command, bad `-v`, bad sysctl, ...).
//! - [`user::resolve_user`]: at start time, once the rootfs is mounted (Docker and runc do
//!   it then too), `--user` and `--group-add` become uid, gid, groups and home.
//! - [`names`]: container name rules, random names, container ids.
//! - [`hosts`]: the per-container `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`.
//!
//! Not done here yet: named volumes are only recorded ([`MountSpec::Volume`]) for the volume
//! step; `host-gateway` in `--add-host` is kept as [`HostAddr::HostGateway`] for the network
//! step; bind sources are not checked for existence (Docker checks `--mount` sources at
//! create time; the mount step does it); capabilities, seccomp and devices pass through
//! untouched for `engine::security`; the port bindings and `NetworkingConfig` pass through
//! for the network step.

pub mod create_request;
pub mod hosts;
mod merge;
mod mounts;
pub mod names;
mod signal;
pub mod user;

use std::collections::{BTreeMap, BTreeSet};

pub use create_request::{
    CreateRequest, DeviceMapping, Healthcheck, HostConfig, LogConfig, PortBinding, Ulimit,
};
pub use merge::{resolve, ImageRunConfig, ResolveContext};
pub use mounts::tmpfs_options_from_bytes;
pub use signal::parse_signal;

/// Everything the engine needs to create and start one container; Docker's merged
/// `Config` and `HostConfig` with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: String,
    /// The merged config as `docker inspect` shows it under `Config`.
    pub config: MergedConfig,
    /// The program to exec: Docker's `Path`.
    pub path: String,
    /// Its arguments: Docker's `Args`.
    pub args: Vec<String>,
    /// The process environment: `PATH` default, `HOSTNAME`, `TERM` with a tty, then
    /// `config.env` replacing or appending (a bare `KEY` unsets).
    pub process_env: Vec<String>,
    /// Absolute and cleaned; `/` by default.
    pub working_dir: String,
    pub stop_signal: i32,
    /// Seconds to wait after the stop signal before SIGKILL.
    pub stop_timeout: i64,
    pub restart: Restart,
    pub auto_remove: bool,
    pub init: bool,
    pub privileged: bool,
    pub read_only_rootfs: bool,
    pub namespaces: Namespaces,
    /// Binds, named and anonymous volumes and tmpfs mounts, sorted by destination depth so
    /// a parent is mounted before its children.
    pub mounts: Vec<MountSpec>,
    /// `/dev/shm` size in bytes.
    pub shm_size: i64,
    /// Validated against the namespaces the container gets.
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    pub resources: Resources,
    pub extra_hosts: Vec<ExtraHost>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// Passed through for `engine::security`.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub devices: Vec<DeviceMapping>,
    pub log_config: LogConfig,
    /// The request's host config, kept for `docker inspect`.
    pub host_config: HostConfig,
    /// Passed through for the network step.
    pub networking_config: Option<serde_json::Value>,
}

/// Docker's `Config` after the merge with the image config (what `inspect` shows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergedConfig {
    pub hostname: String,
    pub domainname: String,
    /// Unresolved `--user` (the image's `User` when not given).
    pub user: String,
    pub group_add: Vec<String>,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    /// The container's env first, then image entries whose key it does not set.
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
    /// As given (`""` when neither container nor image set one).
    pub stop_signal: String,
    pub stop_timeout: Option<i64>,
    pub exposed_ports: BTreeSet<String>,
    /// Anonymous volume destinations from the image and the request.
    pub volumes: BTreeSet<String>,
    pub healthcheck: Option<Healthcheck>,
    pub mac_address: String,
    pub network_disabled: bool,
}

/// A validated restart policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Restart {
    #[default]
    No,
    Always,
    UnlessStopped,
    /// `max_retries` 0 means unlimited.
    OnFailure {
        max_retries: i64,
    },
}

/// Which namespaces the container shares and with whom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespaces {
    pub network: NetworkMode,
    pub pid: PidMode,
    pub ipc: IpcMode,
    pub uts: UtsMode,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// `default` or `bridge`.
    #[default]
    Bridge,
    Host,
    None,
    /// Joins another container's network namespace.
    Container(String),
    /// A user-defined network.
    Named(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PidMode {
    #[default]
    Private,
    Host,
    Container(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IpcMode {
    /// Own namespace, `/dev/shm` not shareable (Docker's daemon default).
    #[default]
    Private,
    /// Own namespace, `/dev/shm` may be joined by others.
    Shareable,
    /// Own namespace and no `/dev/shm` mount.
    None,
    Host,
    Container(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum UtsMode {
    #[default]
    Private,
    Host,
}

/// One mount, validated; destinations are absolute and cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountSpec {
    Bind {
        source: String,
        destination: String,
        read_only: bool,
        /// `rprivate` unless given.
        propagation: String,
        /// Only a `--mount` bind can be non-recursive.
        recursive: bool,
    },
    /// A named volume (`name` set) or an anonymous one, created by the volume step.
    Volume {
        name: Option<String>,
        destination: String,
        read_only: bool,
        /// `nocopy` turns off copying the image's content into a new volume.
        copy_data: bool,
    },
    Tmpfs {
        destination: String,
        /// Merged mount options, Docker's defaults first (`noexec,nosuid,nodev,rprivate`),
        /// later duplicates winning: `["noexec","nosuid","nodev","rprivate","size=65536k"]`.
        options: Vec<String>,
    },
}

impl MountSpec {
    pub fn destination(&self) -> &str {
        match self {
            MountSpec::Bind { destination, .. }
            | MountSpec::Volume { destination, .. }
            | MountSpec::Tmpfs { destination, .. } => destination,
        }
    }
}

/// Cgroup limits, normalised as Docker's `adaptContainerSettings` does: the cgroup
/// manager's own type, so the resolved spec hands it over unchanged.
pub use crate::engine::cgroups::Resources;

/// One `--add-host` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraHost {
    pub name: String,
    pub addr: HostAddr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostAddr {
    Ip(std::net::IpAddr),
    /// `host-gateway`: the network step substitutes the host's address.
    HostGateway,
}

/// Why a request or a user could not be resolved. The API answers `InvalidParameter` (400)
/// with the message, as Docker does.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// The request breaks one of Docker's rules; the text is Docker's.
    #[error("{0}")]
    Invalid(String),
    /// `--user` or `--group-add` names nobody in the image.
    #[error("{0}")]
    User(String),
    /// Reading the image's passwd or group file failed for another reason than absence.
    #[error("reading {path}: {detail}")]
    Read { path: String, detail: String },
    /// The system random source failed.
    #[error("generating a random id: {0}")]
    Random(String),
}

impl SpecError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        SpecError::Invalid(msg.into())
    }
}
