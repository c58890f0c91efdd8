//! `/_ping`, `/version` and `/info`: what the daemon is and runs on.
//!
//! Facts about the host come from `/proc` and `/sys` at request time (cheap reads, off the
//! runtime for the store count); nothing here changes state.

use std::collections::BTreeMap;
use std::path::Path;

use hyper::header::HeaderValue;
use hyper::{Method, Response, StatusCode};

use super::body::{self, Body};
use super::errors::ApiError;
use crate::api::types::{
    Commit, ComponentVersion, IndexInfo, PluginsInfo, RegistryServiceConfig, Runtime, SwarmInfo,
    SystemInfo, SystemVersion, VersionPlatform, API_VERSION, MIN_API_VERSION,
};
use crate::daemon::state::Daemon;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Stands in for Docker's Go version: the toolchain berth requires.
const TOOLCHAIN: &str = concat!("rust", env!("CARGO_PKG_RUST_VERSION"), "+");

/// `GET|HEAD /_ping`: `OK` with the headers clients negotiate from.
pub fn ping(method: &Method) -> Response<Body> {
    let mut resp = if method == Method::HEAD {
        body::no_content(StatusCode::OK)
    } else {
        Response::new(body::full("OK"))
    };
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(hyper::header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert("Swarm", HeaderValue::from_static("inactive"));
    resp
}

/// `GET /version`.
pub fn version() -> Response<Body> {
    body::json(StatusCode::OK, &system_version())
}

pub fn system_version() -> SystemVersion {
    let kernel = kernel_version();
    let details = BTreeMap::from([
        ("ApiVersion".to_owned(), API_VERSION.to_owned()),
        ("Arch".to_owned(), go_arch().to_owned()),
        ("BuildTime".to_owned(), String::new()),
        ("Experimental".to_owned(), "false".to_owned()),
        ("GitCommit".to_owned(), String::new()),
        ("GoVersion".to_owned(), TOOLCHAIN.to_owned()),
        ("KernelVersion".to_owned(), kernel.clone()),
        ("MinAPIVersion".to_owned(), MIN_API_VERSION.to_owned()),
        ("Os".to_owned(), "linux".to_owned()),
    ]);
    SystemVersion {
        platform: VersionPlatform {
            name: format!("berth {VERSION}"),
        },
        components: vec![ComponentVersion {
            name: "Engine".to_owned(),
            version: VERSION.to_owned(),
            details: Some(details),
        }],
        version: VERSION.to_owned(),
        api_version: API_VERSION.to_owned(),
        min_api_version: MIN_API_VERSION.to_owned(),
        git_commit: String::new(),
        go_version: TOOLCHAIN.to_owned(),
        os: "linux".to_owned(),
        arch: go_arch().to_owned(),
        kernel_version: kernel,
        experimental: false,
        build_time: String::new(),
    }
}

/// `GET /info`.
pub async fn info(daemon: &Daemon) -> Result<Response<Body>, ApiError> {
    let store = daemon.images.clone();
    let images = tokio::task::spawn_blocking(move || store.list())
        .await??
        .len();
    Ok(body::json(StatusCode::OK, &system_info(daemon, images)))
}

fn system_info(daemon: &Daemon, images: usize) -> SystemInfo {
    let cgroup_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let os_release = read_os_release();
    let mut security_options = vec!["name=seccomp,profile=builtin".to_owned()];
    if cgroup_v2 {
        security_options.push("name=cgroupns".to_owned());
    }
    SystemInfo {
        id: daemon.id.clone(),
        images: images as i64,
        driver: "overlay2".to_owned(),
        driver_status: vec![
            [
                "Backing Filesystem".to_owned(),
                backing_filesystem(&daemon.root),
            ],
            ["Supports d_type".to_owned(), "true".to_owned()],
            ["Using metacopy".to_owned(), "false".to_owned()],
            ["Native Overlay Diff".to_owned(), "true".to_owned()],
            ["userxattr".to_owned(), "false".to_owned()],
        ],
        docker_root_dir: daemon.root.display().to_string(),
        plugins: PluginsInfo {
            volume: vec!["local".to_owned()],
            network: ["bridge", "host", "null"].map(str::to_owned).to_vec(),
            authorization: Vec::new(),
            log: vec!["json-file".to_owned()],
        },
        memory_limit: true,
        swap_limit: cgroup_v2
            || Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists(),
        cpu_cfs_period: true,
        cpu_cfs_quota: true,
        cpu_shares: true,
        cpu_set: true,
        pids_limit: true,
        oom_kill_disable: !cgroup_v2,
        ipv4_forwarding: read_trimmed("/proc/sys/net/ipv4/ip_forward") == "1",
        bridge_nf_iptables: read_trimmed("/proc/sys/net/bridge/bridge-nf-call-iptables") == "1",
        bridge_nf_ip6tables: read_trimmed("/proc/sys/net/bridge/bridge-nf-call-ip6tables") == "1",
        debug: daemon.debug,
        nfd: count_dir("/proc/self/fd"),
        n_goroutines: thread_count(),
        system_time: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
        logging_driver: "json-file".to_owned(),
        cgroup_driver: "cgroupfs".to_owned(),
        cgroup_version: if cgroup_v2 { "2" } else { "1" }.to_owned(),
        n_events_listener: daemon.events.listeners() as i64,
        kernel_version: kernel_version(),
        operating_system: os_release
            .get("PRETTY_NAME")
            .cloned()
            .unwrap_or_else(|| "Linux".to_owned()),
        os_version: os_release.get("VERSION_ID").cloned().unwrap_or_default(),
        os_type: "linux".to_owned(),
        architecture: std::env::consts::ARCH.to_owned(),
        ncpu: std::thread::available_parallelism().map_or(1, |n| n.get() as i64),
        mem_total: mem_total(),
        index_server_address: "https://index.docker.io/v1/".to_owned(),
        registry_config: Some(registry_service_config(
            &daemon.registry_config.insecure_registries,
        )),
        name: read_trimmed("/proc/sys/kernel/hostname"),
        server_version: VERSION.to_owned(),
        runtimes: BTreeMap::from([(
            "berth".to_owned(),
            Runtime {
                path: std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                runtime_args: None,
            },
        )]),
        default_runtime: "berth".to_owned(),
        swarm: SwarmInfo {
            local_node_state: "inactive".to_owned(),
            ..Default::default()
        },
        containerd_commit: Commit::default(),
        runc_commit: Commit::default(),
        init_commit: Commit::default(),
        security_options,
        ..Default::default()
    }
}

/// Docker's view of the registries: loopback is always insecure, plus the configured ones
/// (CIDRs in `InsecureRegistryCIDRs`, names in `IndexConfigs`).
fn registry_service_config(insecure: &[String]) -> RegistryServiceConfig {
    let mut cidrs = vec!["127.0.0.0/8".to_owned()];
    let mut index = BTreeMap::from([(
        "docker.io".to_owned(),
        IndexInfo {
            name: "docker.io".to_owned(),
            mirrors: Vec::new(),
            secure: true,
            official: true,
        },
    )]);
    for entry in insecure {
        if entry.contains('/') {
            cidrs.push(entry.clone());
        } else {
            index.insert(
                entry.clone(),
                IndexInfo {
                    name: entry.clone(),
                    mirrors: Vec::new(),
                    secure: false,
                    official: false,
                },
            );
        }
    }
    RegistryServiceConfig {
        insecure_registry_cidrs: cidrs,
        index_configs: index,
        ..Default::default()
    }
}

/// Go's name for this architecture (`amd64`, `arm64`), as Docker reports it in `/version`.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "arm" => "arm",
        other => other,
    }
}

fn kernel_version() -> String {
    read_trimmed("/proc/sys/kernel/osrelease")
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn read_os_release() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    parse_os_release(&text)
}

fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

fn mem_total() -> i64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<i64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn count_dir(path: &str) -> i64 {
    std::fs::read_dir(path).map_or(0, |d| d.count() as i64)
}

fn thread_count() -> i64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Docker's name for the filesystem under the root (`extfs`, `xfs`, ...).
fn backing_filesystem(root: &Path) -> String {
    use nix::sys::statfs;
    let Ok(fs) = statfs::statfs(root) else {
        return "<unknown>".to_owned();
    };
    let t = fs.filesystem_type();
    let name = if t == statfs::EXT4_SUPER_MAGIC {
        "extfs"
    } else if t == statfs::XFS_SUPER_MAGIC {
        "xfs"
    } else if t == statfs::BTRFS_SUPER_MAGIC {
        "btrfs"
    } else if t == statfs::TMPFS_MAGIC {
        "tmpfs"
    } else if t == statfs::OVERLAYFS_SUPER_MAGIC {
        "overlayfs"
    } else {
        "<unknown>"
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_head_has_no_body_and_the_negotiation_headers() {
        let resp = ping(&Method::HEAD);
        assert_eq!(resp.headers()["Docker-Experimental"], "false");
        assert_eq!(resp.headers()["Builder-Version"], "1");
        assert_eq!(resp.status(), StatusCode::OK);
    }

    #[test]
    fn version_reports_api_range() {
        let v = system_version();
        assert_eq!(v.api_version, "1.43");
        assert_eq!(v.min_api_version, "1.24");
        assert_eq!(v.os, "linux");
        assert_eq!(v.components[0].name, "Engine");
        assert!(!v.kernel_version.is_empty());
    }

    #[test]
    fn os_release_values_are_unquoted() {
        let m =
            parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n");
        assert_eq!(m["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(m["VERSION_ID"], "12");
    }

    #[test]
    fn insecure_registries_split_into_cidrs_and_names() {
        let c = registry_service_config(&["10.0.0.0/8".into(), "reg:5000".into()]);
        assert_eq!(c.insecure_registry_cidrs, ["127.0.0.0/8", "10.0.0.0/8"]);
        assert!(!c.index_configs["reg:5000"].secure);
        assert!(c.index_configs["docker.io"].official);
    }
}
