//! `docker inspect`: the full `ContainerInspect` shape from the record and its `RunSpec`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::create::run_spec;
use super::entry::Entry;
use super::remove::dir_size;
use super::start::log_path;
use super::store::{Record, Status};
use super::{blocking, ContainerError, Containers};
use crate::api::container_types::{
    ContainerConfig, ContainerInspect, ContainerState, GraphDriver, MountPoint, NetworkSettings,
};
use crate::engine::spec::{MountSpec, RunSpec};
use crate::image::digest::Digest;

impl Containers {
    pub(super) async fn inspect_container(
        &self,
        entry: &Arc<Entry>,
        size: bool,
    ) -> Result<ContainerInspect, ContainerError> {
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        let lower: Vec<String> = record
            .layers
            .iter()
            .rev()
            .filter_map(|c| Digest::parse(c).ok())
            .map(|d| self.images.layer_dir(&d).display().to_string())
            .collect();
        let mut out = build(&record, &spec, &entry.dir, &lower);
        out.network_settings = self.network_settings(&record, &spec);
        out.exec_ids = Some(entry.exec_ids()).filter(|ids| !ids.is_empty());
        if size {
            let upper = entry.dir.join("fs/upper");
            let rw = blocking("measuring the container", move || Ok(dir_size(&upper))).await?;
            let images = self.images.clone();
            let image_id = record.image_id.clone();
            let image_size = blocking("reading the image", move || {
                Ok(Digest::parse(&image_id)
                    .ok()
                    .and_then(|d| images.image(&d).ok().flatten())
                    .map(|i| i.size)
                    .unwrap_or(0))
            })
            .await?;
            out.size_rw = Some(i64::try_from(rw).unwrap_or(i64::MAX));
            out.size_root_fs = Some(i64::try_from(rw + image_size).unwrap_or(i64::MAX));
        }
        Ok(out)
    }
}

/// `HostConfig.NetworkMode` as Docker shows it (`default` when unset).
pub(super) fn network_mode(mode: &str) -> String {
    if mode.is_empty() {
        "default".into()
    } else {
        mode.to_string()
    }
}

fn build(record: &Record, spec: &RunSpec, dir: &Path, lower: &[String]) -> ContainerInspect {
    let st = &record.state;
    let file = |name: &str| dir.join(name).display().to_string();
    let mut host_config = record.request.host_config.clone();
    host_config.network_mode = network_mode(&host_config.network_mode);
    if host_config.log_config.r#type.is_empty() {
        host_config.log_config.r#type = "json-file".into();
    }
    if host_config.shm_size == 0 {
        host_config.shm_size = spec.shm_size;
    }
    if host_config.restart_policy.name.is_empty() {
        host_config.restart_policy.name = "no".into();
    }
    let mut graph = BTreeMap::new();
    if !lower.is_empty() {
        graph.insert("LowerDir".to_string(), lower.join(":"));
    }
    graph.insert("MergedDir".to_string(), file("fs/merged"));
    graph.insert("UpperDir".to_string(), file("fs/upper"));
    graph.insert("WorkDir".to_string(), file("fs/work"));
    ContainerInspect {
        id: record.id.clone(),
        created: record.created.clone(),
        path: spec.path.clone(),
        args: spec.args.clone(),
        state: ContainerState {
            status: st.status.as_str().to_string(),
            running: st.status.is_running(),
            paused: st.status == Status::Paused,
            restarting: st.status == Status::Restarting,
            oom_killed: st.oom_killed,
            dead: st.status == Status::Dead,
            pid: if st.status.is_running() {
                i64::from(st.pid)
            } else {
                0
            },
            exit_code: i64::from(st.exit_code),
            error: st.error.clone(),
            started_at: st.started_at.clone(),
            finished_at: st.finished_at.clone(),
            health: st.health.clone(),
        },
        image: record.image_id.clone(),
        resolv_conf_path: file("resolv.conf"),
        hostname_path: file("hostname"),
        hosts_path: file("hosts"),
        log_path: log_path(dir, &record.id).display().to_string(),
        name: format!("/{}", record.name),
        restart_count: record.restart_count,
        driver: "overlay2".into(),
        platform: "linux".into(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: None,
        host_config,
        graph_driver: GraphDriver {
            name: "overlay2".into(),
            data: graph,
        },
        size_rw: None,
        size_root_fs: None,
        mounts: mount_points(spec, record),
        config: docker_config(record, spec),
        // Filled in by the caller, which can ask the network manager.
        network_settings: NetworkSettings::default(),
    }
}

/// `Config` in Docker's field names, from the merged config.
fn docker_config(record: &Record, spec: &RunSpec) -> ContainerConfig {
    let c = &spec.config;
    let set = |s: &std::collections::BTreeSet<String>| {
        s.iter()
            .map(|k| (k.clone(), serde_json::json!({})))
            .collect()
    };
    ContainerConfig {
        hostname: c.hostname.clone(),
        domainname: c.domainname.clone(),
        user: c.user.clone(),
        attach_stdin: c.attach_stdin,
        attach_stdout: c.attach_stdout,
        attach_stderr: c.attach_stderr,
        exposed_ports: set(&c.exposed_ports),
        tty: c.tty,
        open_stdin: c.open_stdin,
        stdin_once: c.stdin_once,
        env: c.env.clone(),
        cmd: Some(c.cmd.clone()).filter(|v| !v.is_empty()),
        healthcheck: c.healthcheck.clone(),
        args_escaped: false,
        image: record.image.clone(),
        volumes: set(&c.volumes),
        working_dir: c.working_dir.clone(),
        entrypoint: Some(c.entrypoint.clone()).filter(|v| !v.is_empty()),
        network_disabled: c.network_disabled,
        mac_address: c.mac_address.clone(),
        on_build: Vec::new(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        stop_timeout: c.stop_timeout,
        shell: record.request.config.shell.clone(),
    }
}

/// `Mounts` for inspect and list; volumes as the record has them (name, `_data`, mode).
pub(super) fn mount_points(spec: &RunSpec, record: &Record) -> Vec<MountPoint> {
    spec.mounts
        .iter()
        .map(|m| match m {
            MountSpec::Bind {
                source,
                destination,
                read_only,
                propagation,
                ..
            } => MountPoint {
                r#type: "bind".into(),
                source: source.clone(),
                destination: destination.clone(),
                mode: if *read_only {
                    "ro".into()
                } else {
                    String::new()
                },
                rw: !read_only,
                propagation: propagation.clone(),
                ..MountPoint::default()
            },
            MountSpec::Volume {
                name,
                destination,
                read_only,
                ..
            } => {
                let attached = record.volumes.get(destination);
                MountPoint {
                    r#type: "volume".into(),
                    name: attached
                        .map(|a| a.name.clone())
                        .or_else(|| name.clone())
                        .unwrap_or_default(),
                    source: attached.map(|a| a.source.clone()).unwrap_or_default(),
                    destination: destination.clone(),
                    driver: "local".into(),
                    mode: attached.map(|a| a.mode.clone()).unwrap_or_default(),
                    rw: !read_only,
                    propagation: String::new(),
                }
            }
            MountSpec::Tmpfs { destination, .. } => MountPoint {
                r#type: "tmpfs".into(),
                destination: destination.clone(),
                rw: true,
                ..MountPoint::default()
            },
        })
        .collect()
}
