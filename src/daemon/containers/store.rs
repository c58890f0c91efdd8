//! The container record, `<root>/containers/<id>/config.json`: what the daemon knows about
//! one container across restarts. Written atomically (temp file, fsync, rename, fsync of
//! the directory), so a daemon killed mid-write leaves the old record or the new one.
//!
//! The `RunSpec` is not stored: it is resolved again from the stored request and image
//! config whenever needed (the resolution is deterministic), so the record stays small and
//! never disagrees with the request `inspect` shows.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::daemon::networks::SandboxState;
use crate::engine::spec::{CreateRequest, ImageRunConfig};

/// The record's file name inside the container directory.
pub const RECORD_FILE: &str = "config.json";

/// Docker's container states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// Docker's `IsRunning`: a paused or restarting container is still running.
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

/// Go's zero time, what Docker shows for a time that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `State` as persisted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub status: Status,
    /// The init's PID on the host; 0 when not running.
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    pub oom_killed: bool,
    /// The shim's PID (0 when none).
    pub shim_pid: i32,
    /// Stopped by the user (`stop`, `kill`): restart policies leave it alone, and
    /// `unless-stopped` stays down across daemon restarts.
    pub stopped_by_user: bool,
    /// Ever started (Docker's `HasBeenStartedBefore`).
    pub has_been_started: bool,
    /// The healthcheck's state while the container has one (`State.Health`).
    #[serde(default)]
    pub health: Option<crate::api::container_types::Health>,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.to_string(),
            finished_at: ZERO_TIME.to_string(),
            oom_killed: false,
            shim_pid: 0,
            stopped_by_user: false,
            has_been_started: false,
            health: None,
        }
    }
}

/// One container.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 64 hex.
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The image as the user named it.
    pub image: String,
    /// `sha256:...`.
    pub image_id: String,
    /// Chain IDs of the image's layers, bottom first (`sha256:...`).
    pub layers: Vec<String>,
    pub request: CreateRequest,
    pub image_config: ImageRunConfig,
    /// The host's hostname at create time (a `--network host` container's default).
    #[serde(default)]
    pub host_hostname: String,
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub restart_count: i64,
    /// The networks the container is attached to, in order (the network mode's first), as
    /// Docker keeps them in `NetworkSettings.Networks`; `None` in records made before
    /// networking, which get the network mode's network.
    #[serde(default)]
    pub networks: Option<Vec<NetworkAttachment>>,
    /// The live network sandbox while the container runs.
    #[serde(default)]
    pub sandbox: Option<SandboxState>,
    /// The container's volumes by destination (named and anonymous), made at create.
    #[serde(default)]
    pub volumes: std::collections::BTreeMap<String, super::volumes::VolumeAttachment>,
}

/// One network of a container: the endpoint's configuration, kept across runs
/// (`NetworkingConfig.EndpointsConfig`, `--network`, `network connect`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkAttachment {
    pub network_id: String,
    pub network_name: String,
    /// `--network-alias` (user-defined networks only).
    pub aliases: Vec<String>,
    /// `--ip`.
    pub ipv4: Option<std::net::Ipv4Addr>,
    /// `--ip6`.
    pub ipv6: Option<std::net::Ipv6Addr>,
    /// `--mac-address`.
    pub mac: Option<String>,
    /// `--link name:alias` (default bridge).
    pub links: Vec<String>,
}

/// Writes `record` to `<dir>/config.json` atomically.
pub fn save(dir: &Path, record: &Record) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("encoding the container record")?;
    write_atomic(&dir.join(RECORD_FILE), &bytes)
}

pub use crate::daemon::atomic::{write_replace, write_synced as write_atomic};

/// Reads `<dir>/config.json`.
pub fn load(dir: &Path) -> anyhow::Result<Record> {
    let path = dir.join(RECORD_FILE);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("decoding {}", path.display()))
}

/// Every record under `containers_root`; a directory without a readable record (a create
/// that died half way) is removed, as Docker drops containers it cannot load.
pub fn load_all(containers_root: &Path) -> anyhow::Result<Vec<Record>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(containers_root)
        .with_context(|| format!("reading {}", containers_root.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", containers_root.display()))?;
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        match load(&dir) {
            Ok(record) => out.push(record),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "dropping an unreadable container: {e:#}");
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
    Ok(out)
}

/// Now as RFC 3339 with nanoseconds, UTC (Docker's time format).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: "a".repeat(64),
            name: "web".into(),
            created: now_rfc3339(),
            image: "busybox".into(),
            image_id: format!("sha256:{}", "b".repeat(64)),
            layers: vec![],
            request: CreateRequest::default(),
            image_config: ImageRunConfig::default(),
            host_hostname: "h".into(),
            state: State::default(),
            restart_count: 0,
            networks: None,
            sandbox: None,
            volumes: Default::default(),
        }
    }

    #[test]
    fn records_round_trip_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = record();
        r.state.status = Status::Running;
        r.state.pid = 42;
        save(dir.path(), &r).unwrap();
        assert_eq!(load(dir.path()).unwrap(), r);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(RECORD_FILE)]);
        let text = std::fs::read_to_string(dir.path().join(RECORD_FILE)).unwrap();
        assert!(text.contains("\"status\": \"running\""), "{text}");
    }

    #[test]
    fn records_without_network_fields_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = serde_json::to_value(record()).unwrap();
        let obj = v.as_object_mut().unwrap();
        obj.remove("networks");
        obj.remove("sandbox");
        std::fs::write(dir.path().join(RECORD_FILE), v.to_string()).unwrap();
        let back = load(dir.path()).unwrap();
        assert_eq!(back.networks, None);
        assert_eq!(back.sandbox, None);
    }

    #[test]
    fn unreadable_directories_are_dropped() {
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("good");
        std::fs::create_dir(&good).unwrap();
        save(&good, &record()).unwrap();
        let bad = root.path().join("bad");
        std::fs::create_dir(&bad).unwrap();
        std::fs::write(bad.join(RECORD_FILE), b"{").unwrap();
        let all = load_all(root.path()).unwrap();
        assert_eq!(all.len(), 1);
        assert!(!bad.exists());
    }

    #[test]
    fn paused_and_restarting_count_as_running() {
        assert!(Status::Paused.is_running() && Status::Restarting.is_running());
        assert!(!Status::Exited.is_running() && !Status::Created.is_running());
    }
}
