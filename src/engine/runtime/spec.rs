//! The container's init spec: everything the runtime needs to make one container's
//! namespaces, root filesystem and process, fully resolved except for the user (looked up in
//! the container's own `/etc/passwd` once its root is mounted, as runc does).
//!
//! The daemon writes it as `init.json` into the container directory at start; the shim reads
//! it and hands it to [`super::spawn_container`]. It is plain data with serde so that the
//! daemon (async, multi-threaded) never forks into a container: the shim, a fresh
//! single-threaded exec of the berth binary, does. Fields are only ever added (with
//! `#[serde(default)]`), never renamed, so a running shim and a newer daemon still agree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::cgroups::Resources;
use crate::engine::spec::{DeviceMapping, Ulimit};

/// One container, ready to run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InitSpec {
    /// The full 64-hex container ID.
    pub id: String,
    /// The container name without the leading `/`.
    pub name: String,
    pub rootfs: RootfsSpec,
    pub process: ProcessSpec,
    pub hostname: String,
    pub domainname: String,
    /// The namespaces to create or join. A kind not listed is shared with the host
    /// (`--pid host`, `--network host`, ...).
    pub namespaces: Vec<NamespaceSpec>,
    /// Binds and tmpfs mounts from the request, parents first, then the per-container files
    /// (`/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`, bound from the container
    /// directory).
    pub mounts: Vec<MountSpec>,
    /// Destinations of volume binds whose (empty) source first gets a copy of what the
    /// image has there (Docker's copy-up; `nocopy` and non-empty volumes are left out).
    pub copy_up: Vec<String>,
    pub shm: ShmSpec,
    /// `--device` entries.
    pub devices: Vec<DeviceMapping>,
    pub privileged: bool,
    /// Docker's masked paths (empty when privileged).
    pub masked_paths: Vec<String>,
    /// Docker's read-only paths (empty when privileged).
    pub readonly_paths: Vec<String>,
    /// Namespaced sysctls only (validated at create time).
    pub sysctls: BTreeMap<String, String>,
    pub cgroup: CgroupSpec,
    /// `--init`: a built-in init runs as PID 1, forwards signals and reaps zombies.
    pub init: bool,
    /// Where and how the shim writes the container's output.
    pub log: LogSpec,
}

/// The json-file log: `<dir>/<id>-json.log`, rotated at `max_size` bytes keeping
/// `max_files` files in all (berth bounds it by default: 20 MiB × 5, Docker's `local`
/// driver defaults; `--log-opt max-size=… max-file=…` override).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSpec {
    pub path: PathBuf,
    pub max_size: u64,
    pub max_files: u32,
}

/// The overlay root filesystem.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootfsSpec {
    /// The image's unpacked layer directories, top-most first (overlay's `lowerdir` order).
    /// Empty only for an image with no layers (then `upper` alone is the root).
    pub lower: Vec<PathBuf>,
    /// The container's own writable layer (`docker diff` reads it).
    pub upper: PathBuf,
    /// Overlay's work directory, on the same filesystem as `upper`.
    pub work: PathBuf,
    /// Where the overlay is mounted (inside the container's mount namespace only).
    pub target: PathBuf,
    /// `--read-only`.
    pub read_only: bool,
}

/// The container's first process.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessSpec {
    /// Docker's `Path` followed by `Args`.
    pub args: Vec<String>,
    /// The merged environment (`RunSpec::process_env`).
    pub env: Vec<String>,
    /// Absolute; created when missing, as Docker does.
    pub cwd: String,
    /// `--user` unresolved (`""`, `name`, `uid`, `name:group`, `uid:gid`).
    pub user: String,
    /// `--group-add`.
    pub group_add: Vec<String>,
    /// `-t`: the process gets a pty as its controlling terminal.
    pub tty: bool,
    /// `-i`: stdin stays open.
    pub stdin: bool,
    pub rlimits: Vec<Ulimit>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--security-opt`: `seccomp=unconfined|<profile JSON>`, `no-new-privileges[=true]`,
    /// others ignored here (apparmor, label).
    pub security_opt: Vec<String>,
    /// `--stop-signal`, for the built-in init's forwarding and for `stop`.
    pub stop_signal: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceKind {
    Mount,
    Uts,
    Ipc,
    Pid,
    Net,
    Cgroup,
}

/// A namespace to create (`path: None`) or to join (`/proc/<pid>/ns/net` of another
/// container's init, for `--network container:x`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceSpec {
    pub kind: NamespaceKind,
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// A mount inside the container, sources resolved on the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MountSpec {
    Bind {
        source: PathBuf,
        destination: String,
        read_only: bool,
        /// `rprivate` (default), `private`, `shared`, `rshared`, `slave`, `rslave`.
        propagation: String,
        recursive: bool,
    },
    Tmpfs {
        destination: String,
        /// Docker's defaults then the user's (`noexec,nosuid,nodev,rprivate,size=65536k`).
        options: Vec<String>,
    },
}

/// What `/dev/shm` is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ShmSpec {
    /// A fresh tmpfs of this many bytes (`--shm-size`, 64 MiB by default).
    Private { size: i64 },
    /// Bind another container's `/dev/shm` (`--ipc container:x`), a host path.
    Join { source: PathBuf },
    /// `--ipc none`: no `/dev/shm` mount.
    #[default]
    None,
}

/// The container's cgroup; the shim creates it, puts the init in it before any user code
/// runs, and destroys it once the container is gone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CgroupSpec {
    /// Relative to each hierarchy's root: `berth/<id>`.
    pub name: String,
    pub resources: Resources,
}

/// A process started in a running container (`docker exec`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecSpec {
    /// Docker's exec ID.
    pub id: String,
    pub args: Vec<String>,
    /// The container's process env with the exec's `-e` entries replacing or appending.
    pub env: Vec<String>,
    /// Empty means the container's working directory.
    pub cwd: String,
    /// Empty means the container's user.
    pub user: String,
    pub tty: bool,
    pub stdin: bool,
    /// `docker exec --privileged`: every capability, no seccomp filter.
    pub privileged: bool,
}
