//! `start`: build the [`InitSpec`] from the container's `RunSpec` (layers, namespaces,
//! mounts, `/etc` files, cgroup, log), write `init.json`, launch the shim and hand the
//! running container to a supervisor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::create::{run_spec, write_etc_files};
use super::entry::Entry;
use super::store::{self, Record, Status};
use super::volumes::VolumeSources;
use super::{ContainerError, Containers};
use crate::daemon::networks::SandboxState;
use crate::engine::runtime::{
    self, CgroupSpec, InitSpec, LogSpec, MountSpec as RtMount, NamespaceKind, NamespaceSpec,
    ProcessSpec, RootfsSpec, ShmSpec,
};
use crate::engine::shim::{ShimClient, ShimError};
use crate::engine::spec::{IpcMode, MountSpec, NetworkMode, PidMode, RunSpec, UtsMode};
use crate::image::digest::Digest;

/// Berth's default json-file bounds: 20 MiB × 5 files.
const DEFAULT_LOG_MAX_SIZE: u64 = 20 << 20;
const DEFAULT_LOG_MAX_FILES: u32 = 5;

impl Containers {
    /// `docker start`: 304 when running, 409 when paused.
    pub(super) async fn start_by_user(&self, entry: &Arc<Entry>) -> Result<(), ContainerError> {
        let op = entry.op.lock().await;
        match entry.status() {
            Status::Paused => {
                return Err(ContainerError::Conflict(
                    "cannot start a paused container, try unpause instead".into(),
                ))
            }
            s if s.is_running() => return Err(ContainerError::NotModified),
            Status::Removing | Status::Dead => {
                return Err(ContainerError::Conflict(
                    "container is marked for removal and cannot be started".into(),
                ))
            }
            _ => {}
        }
        // A user start resets the policy's count and backoff, as Docker's.
        *entry.backoff() = None;
        entry.update(false, |r| {
            r.restart_count = 0;
            r.state.stopped_by_user = false;
        })?;
        let started = self.start_locked(entry).await;
        drop(op);
        // Docker removes an `--rm` container whose start failed: nobody will wait for it.
        let auto_remove = run_spec(&entry.snapshot()).is_ok_and(|s| s.auto_remove);
        if started.is_err() && auto_remove {
            if let Err(e) = self.remove_container(entry, true, true).await {
                tracing::warn!(container = %entry.id, "removing an --rm container: {e}");
            }
        }
        started
    }

    /// Starts the container; the caller holds `entry.op`. The network sandbox comes first
    /// (the init joins its namespace) and goes again when the launch fails.
    pub(super) async fn start_locked(&self, entry: &Arc<Entry>) -> Result<(), ContainerError> {
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        if let Err(e) = self.network_up(entry, &record, &spec).await {
            let text = e.to_string();
            entry.update(false, |r| {
                r.state.error = text.clone();
                r.state.exit_code = 128;
                if r.state.status != Status::Created {
                    r.state.status = Status::Exited;
                    r.state.finished_at = store::now_rfc3339();
                }
            })?;
            return Err(e);
        }
        let launched = self.launch(entry, spec).await;
        if launched.is_err() {
            self.release_volumes(&entry.snapshot());
            self.network_down(entry).await;
        }
        launched
    }

    /// Writes the `/etc` files and `init.json`, launches the shim, hands the container to
    /// a supervisor.
    async fn launch(&self, entry: &Arc<Entry>, spec: RunSpec) -> Result<(), ContainerError> {
        let record = entry.snapshot();
        let volumes = self.acquire_volumes(&record, &spec)?;
        let init = self.init_spec(&record, &spec, &entry.dir, &volumes)?;
        let etc = self.etc_network(&record);
        let dir = entry.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            write_etc_files(&dir, &spec, &etc)?;
            write_init(&dir, &init)
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ContainerError::Internal(e)),
            Err(e) => return Err(ContainerError::Internal(anyhow::anyhow!("{e}"))),
        }
        match ShimClient::launch(&self.exe, &entry.dir).await {
            Ok((client, state)) => {
                let generation = entry.next_generation();
                entry.update(false, |r| {
                    r.state.status = Status::Running;
                    r.state.pid = state.init_pid;
                    r.state.shim_pid = state.shim_pid;
                    r.state.started_at = state.started_at.clone();
                    r.state.exit_code = 0;
                    r.state.error.clear();
                    r.state.oom_killed = false;
                    r.state.has_been_started = true;
                    // A new run is not healthy until its own probes say so.
                    if let Some(health) = r.state.health.as_mut() {
                        health.status = "starting".into();
                        health.failing_streak = 0;
                    }
                })?;
                entry.mark_started();
                self.publish(entry, "start", &[]);
                self.supervise(entry.clone(), client, generation);
                Ok(())
            }
            Err(e) => {
                let (code, err) = start_failure(&e);
                let text = err.to_string();
                entry.update(false, |r| {
                    r.state.error = text.clone();
                    r.state.exit_code = code;
                    r.state.pid = 0;
                    r.state.shim_pid = 0;
                    if r.state.status != Status::Created {
                        r.state.status = Status::Exited;
                        r.state.finished_at = store::now_rfc3339();
                    }
                })?;
                Err(err)
            }
        }
    }

    fn init_spec(
        &self,
        record: &Record,
        spec: &RunSpec,
        dir: &Path,
        volumes: &VolumeSources,
    ) -> Result<InitSpec, ContainerError> {
        let lower = record
            .layers
            .iter()
            .rev()
            .map(|c| {
                Digest::parse(c)
                    .map(|d| self.images.layer_dir(&d))
                    .map_err(|e| ContainerError::Internal(anyhow::anyhow!("bad layer id {c}: {e}")))
            })
            .collect::<Result<Vec<PathBuf>, _>>()?;
        let (namespaces, shm) = self.namespaces(spec, record.sandbox.as_ref())?;
        let masked = |paths: &[&str]| -> Vec<String> {
            if spec.privileged {
                Vec::new()
            } else {
                paths.iter().map(|p| p.to_string()).collect()
            }
        };
        let mut process_args = vec![spec.path.clone()];
        process_args.extend(spec.args.iter().cloned());
        Ok(InitSpec {
            id: record.id.clone(),
            name: record.name.clone(),
            rootfs: RootfsSpec {
                lower,
                upper: dir.join("fs/upper"),
                work: dir.join("fs/work"),
                target: dir.join("fs/merged"),
                read_only: spec.read_only_rootfs,
            },
            process: ProcessSpec {
                args: process_args,
                env: spec.process_env.clone(),
                cwd: spec.working_dir.clone(),
                user: spec.config.user.clone(),
                group_add: spec.config.group_add.clone(),
                tty: spec.config.tty,
                stdin: spec.config.open_stdin,
                rlimits: spec.ulimits.clone(),
                cap_add: spec.cap_add.clone(),
                cap_drop: spec.cap_drop.clone(),
                security_opt: spec.security_opt.clone(),
                stop_signal: spec.stop_signal,
            },
            hostname: spec.config.hostname.clone(),
            domainname: spec.config.domainname.clone(),
            namespaces,
            mounts: mounts(spec, dir, volumes),
            copy_up: volumes.copy_up.clone(),
            shm,
            devices: spec.devices.clone(),
            privileged: spec.privileged,
            masked_paths: masked(runtime::MASKED_PATHS),
            readonly_paths: masked(runtime::READONLY_PATHS),
            sysctls: spec.sysctls.clone(),
            cgroup: CgroupSpec {
                name: cgroup_name(&record.id),
                resources: spec.resources.clone(),
            },
            init: spec.init,
            log: log_spec(spec, dir, &record.id)?,
        })
    }

    /// The namespaces to create or join (the network sandbox's pinned one when there is
    /// one), and `/dev/shm`.
    fn namespaces(
        &self,
        spec: &RunSpec,
        sandbox: Option<&SandboxState>,
    ) -> Result<(Vec<NamespaceSpec>, ShmSpec), ContainerError> {
        let new = |kind| NamespaceSpec { kind, path: None };
        let mut out = vec![new(NamespaceKind::Mount)];
        if spec.namespaces.uts == UtsMode::Private {
            out.push(new(NamespaceKind::Uts));
        }
        let shm = match &spec.namespaces.ipc {
            IpcMode::Private | IpcMode::Shareable => {
                out.push(new(NamespaceKind::Ipc));
                ShmSpec::Private {
                    size: spec.shm_size,
                }
            }
            IpcMode::None => {
                out.push(new(NamespaceKind::Ipc));
                ShmSpec::None
            }
            IpcMode::Host => ShmSpec::Join {
                source: PathBuf::from("/dev/shm"),
            },
            IpcMode::Container(other) => {
                let pid = self.running_pid(other, "IPC")?;
                out.push(join(NamespaceKind::Ipc, pid, "ipc"));
                ShmSpec::Join {
                    source: PathBuf::from(format!("/proc/{pid}/root/dev/shm")),
                }
            }
        };
        match &spec.namespaces.pid {
            PidMode::Private => out.push(new(NamespaceKind::Pid)),
            PidMode::Host => {}
            PidMode::Container(other) => {
                let pid = self.running_pid(other, "PID")?;
                out.push(join(NamespaceKind::Pid, pid, "pid"));
            }
        }
        match &spec.namespaces.network {
            NetworkMode::Host => {}
            NetworkMode::Container(other) => {
                let pid = self.running_pid(other, "network")?;
                out.push(join(NamespaceKind::Net, pid, "net"));
            }
            // Bridge and user networks join the sandbox's namespace; `none` (and
            // `NetworkDisabled`) get a fresh one with only `lo`.
            NetworkMode::Bridge | NetworkMode::None | NetworkMode::Named(_) => {
                out.push(NamespaceSpec {
                    kind: NamespaceKind::Net,
                    path: sandbox.map(|s| s.netns.clone()),
                })
            }
        }
        if Path::new("/proc/self/ns/cgroup").exists() {
            out.push(new(NamespaceKind::Cgroup));
        }
        Ok((out, shm))
    }

    /// The init PID of running container `reference`, with Docker's errors.
    fn running_pid(&self, reference: &str, what: &str) -> Result<i32, ContainerError> {
        let entry = self.entry(reference)?;
        let record = entry.snapshot();
        if !record.state.status.is_running() || record.state.pid <= 0 {
            return Err(ContainerError::Conflict(format!(
                "cannot join {what} of a non running container: {}",
                record.id
            )));
        }
        Ok(record.state.pid)
    }
}

fn join(kind: NamespaceKind, pid: i32, name: &str) -> NamespaceSpec {
    NamespaceSpec {
        kind,
        path: Some(PathBuf::from(format!("/proc/{pid}/ns/{name}"))),
    }
}

/// `berth/<id>`.
pub(super) fn cgroup_name(id: &str) -> String {
    format!("berth/{id}")
}

/// The request's mounts (volumes at the host paths the volume manager gave), then the
/// three `/etc` files.
fn mounts(spec: &RunSpec, dir: &Path, volumes: &VolumeSources) -> Vec<RtMount> {
    let mut out = Vec::new();
    for m in &spec.mounts {
        out.push(match m {
            MountSpec::Bind {
                source,
                destination,
                read_only,
                propagation,
                recursive,
            } => RtMount::Bind {
                source: PathBuf::from(source),
                destination: destination.clone(),
                read_only: *read_only,
                propagation: propagation.clone(),
                recursive: *recursive,
            },
            MountSpec::Volume {
                destination,
                read_only,
                ..
            } => RtMount::Bind {
                source: volumes.paths.get(destination).cloned().unwrap_or_default(),
                destination: destination.clone(),
                read_only: *read_only,
                propagation: "rprivate".into(),
                recursive: true,
            },
            MountSpec::Tmpfs {
                destination,
                options,
            } => RtMount::Tmpfs {
                destination: destination.clone(),
                options: options.clone(),
            },
        });
    }
    for file in ["hostname", "hosts", "resolv.conf"] {
        out.push(RtMount::Bind {
            source: dir.join(file),
            destination: format!("/etc/{file}"),
            read_only: false,
            propagation: "rprivate".into(),
            recursive: true,
        });
    }
    out
}

/// `<dir>/<id>-json.log`, Docker's path.
pub(super) fn log_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}-json.log"))
}

fn log_spec(spec: &RunSpec, dir: &Path, id: &str) -> Result<LogSpec, ContainerError> {
    let opts = &spec.log_config.config;
    let size = opts.get("max-size").map(|s| parse_size(s)).transpose()?;
    let files =
        opts.get("max-file")
            .map(|s| {
                s.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ContainerError::Invalid(format!("invalid value for max-file: {s}"))
                })
            })
            .transpose()?;
    let (max_size, max_files) = match (size, files) {
        (None, None) => (DEFAULT_LOG_MAX_SIZE, DEFAULT_LOG_MAX_FILES),
        (Some(s), f) => (s, f.unwrap_or(1)),
        (None, Some(f)) => (DEFAULT_LOG_MAX_SIZE, f),
    };
    Ok(LogSpec {
        path: log_path(dir, id),
        max_size,
        max_files,
    })
}

/// go-units' `RAMInBytes`: `10m`, `1k`, `2g`, `512` (binary multiples).
pub(super) fn parse_size(s: &str) -> Result<u64, ContainerError> {
    let bad = || ContainerError::Invalid(format!("invalid size: '{s}'"));
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    if n.is_nan() || n < 0.0 {
        return Err(bad());
    }
    Ok((n * mult as f64) as u64)
}

/// Writes `init.json`, drops a stale `exit.json`.
fn write_init(dir: &Path, init: &InitSpec) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(init)?;
    store::write_replace(&dir.join("init.json"), &bytes)?;
    match std::fs::remove_file(dir.join("exit.json")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("removing the old exit.json: {e}")),
    }
}

/// Docker's text and status for a start that failed, and the exit code it records (127
/// for a missing program, 126 for one that cannot run, as Docker).
fn start_failure(e: &ShimError) -> (i32, ContainerError) {
    let text = format!("failed to create task for container: {e}");
    let lower = text.to_ascii_lowercase();
    if lower.contains("executable file not found") || lower.contains("no such file or directory") {
        (127, ContainerError::Invalid(text))
    } else if lower.contains("permission denied") {
        (126, ContainerError::Invalid(text))
    } else {
        (128, ContainerError::Internal(anyhow::anyhow!(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_go_units() {
        assert_eq!(parse_size("10m").unwrap(), 10 << 20);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert_eq!(parse_size("2GB").unwrap(), 2 << 30);
        assert_eq!(parse_size("512").unwrap(), 512);
        assert!(parse_size("x").is_err());
        assert!(parse_size("-1m").is_err());
    }

    #[test]
    fn start_failures_name_the_cause_with_dockers_prefix() {
        let (code, e) = start_failure(&ShimError::Start(
            "exec: \"nope\": executable file not found in $PATH".into(),
        ));
        assert_eq!(code, 127);
        assert!(matches!(e, ContainerError::Invalid(_)));
        assert!(e
            .to_string()
            .starts_with("failed to create task for container: "));
        let (code, e) = start_failure(&ShimError::Start("mounting /proc: EPERM".into()));
        assert_eq!(code, 128);
        assert!(matches!(e, ContainerError::Internal(_)));
    }
}
