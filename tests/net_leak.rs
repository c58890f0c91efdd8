//! The leak check of issue 5: through a real berth daemon, 10 user-defined bridge networks
//! and 100 containers spread over them (started, then `rm -f`), then the networks removed;
//! what the host shows afterwards must match what it showed before (taken once the daemon
//! and its predefined `bridge` network were up).
//!
//! Compared (only what this test owns, since other tests run at the same time on the host):
//! - links: the test networks' bridges (`br-<id 12>`) and every veth seen on them while the
//!   containers ran must be gone;
//! - addresses and routes (IPv4 and IPv6): nothing left in the test's subnets or on its
//!   bridges;
//! - nftables: the daemon's own table (`berth-<12 hex of sha256(root)>`) lists the same
//!   text as before, and no table of that daemon appeared that mentions the test's subnets;
//! - mounts: mount points under the daemon's directory (netns pins, rootfs overlays) are the
//!   same set as before;
//! - cgroups: no cgroup directory in any hierarchy is named after one of the containers;
//! - processes: no process left running from the daemon's `containers/` directory (shims).
//!
//! Needs root, `ip`, busybox-static; `nft` for the nftables part (said loudly when missing).

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};
use support::daemon::Daemon;

const NETWORKS: usize = 10;
const PER_NETWORK: usize = 10;
const IMAGE: &str = "brleak:latest";

/// One request with a JSON body over the daemon's socket: status and body.
fn request(socket: &Path, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = UnixStream::connect(socket).expect("daemon socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(body.as_bytes()).expect("send body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("answer");
    let (status, body) = support::registry::parse_response(&response).expect("HTTP answer");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn lines_of(args: &[&str]) -> Vec<String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("tool runs");
    support::stdout_ok(&args.join(" "), &out)
        .lines()
        .map(str::to_string)
        .collect()
}

/// 10 distinct random /24 prefixes (`10.a.b.`) in 10.226-250.x (net_kernel uses 10.200-225).
fn random_prefixes() -> Vec<String> {
    let mut set = BTreeSet::new();
    while set.len() < NETWORKS {
        let mut b = [0u8; 2];
        getrandom::getrandom(&mut b).expect("random");
        set.insert(format!("10.{}.{}.", 226 + b[0] % 25, b[1]));
    }
    set.into_iter().collect()
}

/// What the host shows of one daemon, for the comparison.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    links: BTreeSet<String>,
    addrs: Vec<String>,
    routes: Vec<String>,
    mounts: BTreeSet<String>,
    tables: Vec<(String, String)>,
}

fn snapshot(daemon_dir: &Path, table: &str, nft: bool) -> Snapshot {
    let links = lines_of(&["ip", "-o", "link", "show"])
        .iter()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect();
    let addrs = lines_of(&["ip", "-o", "addr", "show"]);
    let mut routes = lines_of(&["ip", "route", "show", "table", "all"]);
    routes.extend(lines_of(&["ip", "-6", "route", "show", "table", "all"]));
    let dir = daemon_dir.display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&dir))
        .map(str::to_string)
        .collect();
    let mut tables = Vec::new();
    if nft {
        for line in lines_of(&["nft", "list", "tables"]) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["table", family, name] = words[..] {
                if name.contains(table) {
                    let text = lines_of(&["nft", "list", "table", family, name]).join("\n");
                    tables.push((format!("{family} {name}"), text));
                }
            }
        }
    }
    Snapshot {
        links,
        addrs,
        routes,
        mounts,
        tables,
    }
}

/// Every directory under the cgroup mounts whose name contains one of `ids` (12-hex form).
fn cgroups_named(ids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for dir in support::walk(Path::new("/sys/fs/cgroup")) {
        let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if dir.is_dir() && ids.iter().any(|id| name.contains(&id[..12])) {
            found.push(dir.display().to_string());
        }
    }
    found
}

/// Processes whose command line names the daemon's `containers/` directory (shims).
fn shims_of(root: &Path) -> Vec<String> {
    let needle = root.join("containers").display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(&needle) {
            found.push(format!("{}: {cmd}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

/// Removes what the test made even when an assertion fails (dropped before the daemon):
/// its containers and networks through the daemon, then whatever is still there by hand
/// (bridges, pins under the daemon's directory, the daemon's nftables table).
struct Guard<'a> {
    daemon: &'a Daemon,
    containers: Vec<String>,
    /// (network ID, bridge)
    networks: Vec<(String, String)>,
    table: String,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        for batch in self.containers.chunks(50) {
            let mut rm = vec!["rm", "-f"];
            rm.extend(batch.iter().map(String::as_str));
            let _ = self.daemon.berth(&rm);
        }
        let socket = self.daemon.socket();
        for (id, bridge) in &self.networks {
            let _ = support::daemon::unix_request(&socket, "DELETE", &format!("/networks/{id}"));
            let _ = Command::new("ip")
                .args(["link", "del", bridge])
                .stderr(std::process::Stdio::null())
                .status();
        }
        if let Some(dir) = self.daemon.root().parent() {
            support::dockerd::unmount_below(dir);
        }
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.table])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn hundred_containers_on_ten_networks_leave_nothing_behind() {
    let test = "net_leak";
    if !support::require_root(test)
        || !support::require_tool("ip", test)
        || !Path::new(support::images::fixtures::BUSYBOX).exists()
    {
        return;
    }
    let nft = support::require_tool("nft", test);
    let daemon = Daemon::start();
    let daemon_dir = daemon.root().parent().expect("daemon dir").to_path_buf();
    let tar = daemon.scratch().join("rootfs.tar");
    std::fs::write(&tar, support::images::fixtures::busybox_rootfs_tar()).expect("tar");
    daemon.berth_ok(&["import", &tar.display().to_string(), IMAGE]);
    let digest = Sha256::digest(daemon.root().as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let table = format!("berth-{}", &hex[..12]);

    let mut guard = Guard {
        daemon: &daemon,
        containers: Vec::new(),
        networks: Vec::new(),
        table: table.clone(),
    };

    let before = snapshot(&daemon_dir, &table, nft);
    let prefixes = random_prefixes();
    let socket = daemon.socket();
    let mut veths = BTreeSet::new();
    for (i, prefix) in prefixes.iter().enumerate() {
        let name = format!("leak{}-{i}", std::process::id());
        let body = serde_json::json!({
            "Name": name,
            "Driver": "bridge",
            "IPAM": { "Config": [{ "Subnet": format!("{prefix}0/24") }] },
        });
        let (status, answer) = request(&socket, "POST", "/networks/create", &body.to_string());
        assert_eq!(status, 201, "network create {name}: {answer}");
        let id = serde_json::from_str::<serde_json::Value>(&answer).expect("JSON")["Id"]
            .as_str()
            .expect("Id")
            .to_string();
        let bridge = format!("br-{}", &id[..12]);
        guard.networks.push((id.clone(), bridge.clone()));
        let mut batch = Vec::new();
        for _ in 0..PER_NETWORK {
            let out = daemon.berth(&["run", "-d", "--network", &name, IMAGE, "sleep", "1000"]);
            let cid = support::stdout_ok(&format!("run on {name}"), &out);
            batch.push(cid.trim().to_string());
            guard.containers.push(cid.trim().to_string());
        }
        for line in lines_of(&["ip", "-o", "link", "show", "master", &bridge]) {
            if let Some(n) = line.split(": ").nth(1) {
                veths.insert(n.split('@').next().unwrap_or(n).to_string());
            }
        }
        let mut rm = vec!["rm", "-f"];
        rm.extend(batch.iter().map(String::as_str));
        daemon.berth_ok(&rm);
    }
    assert_eq!(
        veths.len(),
        NETWORKS * PER_NETWORK,
        "one veth per container: {veths:?}"
    );
    for (id, _) in &guard.networks {
        let (status, answer) = request(&socket, "DELETE", &format!("/networks/{id}"), "");
        assert_eq!(status, 204, "network rm {id}: {answer}");
    }
    // Namespaces die asynchronously in the kernel: give their veths a moment.
    let bridges: Vec<String> = guard.networks.iter().map(|(_, b)| b.clone()).collect();
    let owned = |l: &str| {
        prefixes.iter().any(|p| l.contains(p.as_str()))
            || bridges.iter().any(|b| l.contains(b.as_str()))
    };
    support::wait_until(Duration::from_secs(10), || {
        let now = snapshot(&daemon_dir, &table, false);
        !now.links
            .iter()
            .any(|l| veths.contains(l) || bridges.contains(l))
    });
    let after = snapshot(&daemon_dir, &table, nft);

    let mut leaks = Vec::new();
    for link in &after.links {
        if veths.contains(link) || bridges.contains(link) {
            leaks.push(format!("link {link}"));
        }
    }
    for line in after.addrs.iter().filter(|l| owned(l)) {
        leaks.push(format!("address {line}"));
    }
    for line in after.routes.iter().filter(|l| owned(l)) {
        leaks.push(format!("route {line}"));
    }
    for m in after.mounts.difference(&before.mounts) {
        leaks.push(format!("mount {m}"));
    }
    for (name, text) in &after.tables {
        match before.tables.iter().find(|(n, _)| n == name) {
            Some((_, old)) if old != text => {
                leaks.push(format!("nft table {name} changed:\n{old}\n---\n{text}"))
            }
            None if text.lines().any(owned) => leaks.push(format!("nft table {name}:\n{text}")),
            _ => {}
        }
    }
    for dir in cgroups_named(&guard.containers) {
        leaks.push(format!("cgroup {dir}"));
    }
    for p in shims_of(&daemon.root()) {
        leaks.push(format!("process {p}"));
    }
    let new_links: Vec<_> = after.links.difference(&before.links).collect();
    eprintln!("net_leak: links new on the host since the snapshot (any test's): {new_links:?}");
    assert!(
        leaks.is_empty(),
        "left behind after 100 containers on 10 networks:\n{}\ndaemon log:\n{}",
        leaks.join("\n"),
        daemon.log()
    );
}
