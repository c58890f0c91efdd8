//! `berth network create|ls|inspect|rm|prune|connect|disconnect` against a real berth
//! daemon: output as the docker CLI prints it, exit codes and error texts; and `run` with
//! the networking flags (`--network`, `--ip`, `--network-alias`).
//!
//! Creating bridges needs root. Every test starts its own daemon, uses subnets in a
//! random `10.x.y.0/24` so tests running at once never clash, and removes its containers
//! and networks in a Drop guard before the daemon stops.

mod support;

use std::cell::RefCell;
use std::io::Write;
use std::process::{Output, Stdio};

use support::daemon::Daemon;

const IMAGE: &str = "bb:1";

/// A daemon (with the busybox image when asked) whose containers and networks are removed
/// on drop.
struct Env {
    d: Daemon,
    networks: RefCell<Vec<String>>,
}

impl Env {
    fn start(with_image: bool) -> Env {
        let d = Daemon::start();
        if with_image {
            let tar = d.scratch().join("rootfs.tar");
            std::fs::write(&tar, support::images::fixtures::busybox_rootfs_tar()).expect("tar");
            d.berth_ok(&["import", &tar.to_string_lossy(), IMAGE]);
        }
        Env {
            d,
            networks: RefCell::new(Vec::new()),
        }
    }

    fn berth(&self, args: &[&str]) -> Output {
        self.d.berth(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.d.berth_ok(args)
    }

    /// `network create --subnet <random /24> [extra] name`; returns the ID and subnet.
    fn create(&self, name: &str, extra: &[&str]) -> (String, String) {
        let subnet = random_subnet();
        let mut args = vec!["network", "create", "--subnet", &subnet];
        args.extend_from_slice(extra);
        args.push(name);
        self.networks.borrow_mut().push(name.to_owned());
        let id = self.ok(&args).trim().to_owned();
        (id, subnet)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let ids = self.d.berth(&["ps", "-a", "-q", "--no-trunc"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.d.berth(&["rm", "-f", id]);
        }
        for name in self.networks.borrow().iter() {
            let _ = self.d.berth(&["network", "rm", "-f", name]);
        }
    }
}

/// `10.x.y.0/24` with x in 64..=191 and y from the clock and the PID.
fn random_subnet() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = nanos ^ (std::process::id() << 8);
    let seed = seed.wrapping_mul(2_654_435_761);
    format!("10.{}.{}.0/24", 64 + (seed >> 24) % 128, (seed >> 8) % 256)
}

/// A name no other test uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}x{nanos:x}", std::process::id())
}

fn ready(test: &str) -> bool {
    support::require_root(test)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn create_ls_inspect_rm_print_like_docker() {
    if !ready("create_ls_inspect_rm_print_like_docker") {
        return;
    }
    let env = Env::start(false);
    let name = unique("cl");
    let (id, subnet) = env.create(&name, &["--label", "team=blue", "--internal"]);
    assert_eq!(id.len(), 64, "an ID is printed: {id:?}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");

    let table = env.ok(&["network", "ls"]);
    // 12-character IDs and three spaces of padding; NAME is as wide as the longest name.
    assert!(table.starts_with("NETWORK ID     NAME"), "{table}");
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(header, ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
    let row = table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name.as_str()))
        .unwrap_or_else(|| panic!("{name} listed: {table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, [&id[..12], name.as_str(), "bridge", "local"]);
    for predefined in ["bridge", "host", "none"] {
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(predefined)),
            "{predefined} listed: {table}"
        );
    }
    assert_eq!(
        env.ok(&[
            "network",
            "ls",
            "-q",
            "--no-trunc",
            "-f",
            &format!("name={name}")
        ]),
        format!("{id}\n")
    );
    assert_eq!(
        env.ok(&[
            "network",
            "ls",
            "-f",
            "label=team=blue",
            "--format",
            "{{.Name}} {{.Internal}} {{.Labels}}"
        ]),
        format!("{name} true team=blue\n")
    );

    let formatted = env.ok(&[
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Scope}} {{(index .IPAM.Config 0).Subnet}} {{.Internal}}",
        &name,
    ]);
    assert_eq!(formatted, format!("{name} bridge local {subnet} true\n"));
    let json = env.ok(&["network", "inspect", &id[..12]]);
    assert!(json.starts_with("[\n    {\n        \"Name\": "), "{json}");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON array");
    assert_eq!(parsed[0]["Id"], id.as_str());
    assert_eq!(parsed[0]["Labels"]["team"], "blue");

    assert_eq!(env.ok(&["network", "rm", &name]), format!("{name}\n"));
    let out = env.berth(&["network", "inspect", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "[]\n");
    assert_eq!(
        stderr(&out),
        format!("Error response from daemon: network {name} not found\n")
    );
}

#[test]
fn errors_and_exit_codes_are_dockers() {
    if !ready("errors_and_exit_codes_are_dockers") {
        return;
    }
    let env = Env::start(false);
    let name = unique("ce");
    env.create(&name, &[]);

    let out = env.berth(&["network", "create", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("Error response from daemon: network with name {name} already exists\n")
    );

    let out = env.berth(&["network", "rm", "nope-net", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        format!("{name}\n"),
        "the others are still removed"
    );
    assert_eq!(
        stderr(&out),
        "Error response from daemon: network nope-net not found\nexit status 1\n"
    );
    let out = env.berth(&["network", "rm", "-f", "nope-net"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = env.berth(&["network", "rm", "bridge"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "Error response from daemon: bridge is a pre-defined network and cannot be removed"
        ),
        "{}",
        stderr(&out)
    );

    let out = env.berth(&["network", "create", "--gateway", "10.1.0.1", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "every ip-range or gateway must have a corresponding subnet\n"
    );
    let out = env.berth(&["network", "create"]);
    assert_ne!(out.status.code(), Some(0));
    let out = env.berth(&["network", "ls", "--nope"]);
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn prune_asks_then_removes_unused_networks() {
    if !ready("prune_asks_then_removes_unused_networks") {
        return;
    }
    let env = Env::start(false);
    let (a, b) = (unique("pa"), unique("pb"));
    env.create(&a, &[]);
    env.create(&b, &[]);

    let mut child = env
        .d
        .berth_cmd(&["network", "prune"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"n\n")
        .expect("answers");
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    assert!(env.ok(&["network", "ls", "-q"]).lines().count() >= 5);

    let out = env.ok(&["network", "prune", "-f"]);
    assert!(out.starts_with("Deleted Networks:\n"), "{out}");
    assert!(out.ends_with("\n\n"), "{out:?}");
    let mut deleted: Vec<&str> = out.lines().skip(1).filter(|l| !l.is_empty()).collect();
    deleted.sort();
    let mut expected = [a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(deleted, expected);
    let names = env.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(names, "bridge\nhost\nnone\n", "predefined networks stay");
    assert_eq!(
        env.ok(&["network", "prune", "-f"]),
        "",
        "nothing left to prune"
    );
}

#[test]
fn run_on_a_user_network_gets_its_static_address_and_aliases() {
    if !ready("run_on_a_user_network_gets_its_static_address_and_aliases")
        || !support::require_tool("busybox", "run_on_a_user_network")
    {
        return;
    }
    let env = Env::start(true);
    let name = unique("cr");
    let (_, subnet) = env.create(&name, &[]);
    let prefix = subnet.trim_end_matches("0/24");
    let ip = format!("{prefix}50");
    let out = env.berth(&[
        "run",
        "--rm",
        "--network",
        &name,
        "--ip",
        &ip,
        "--network-alias",
        "web",
        IMAGE,
        "busybox",
        "ip",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("inet {ip}/24")),
        "{}",
        stdout(&out)
    );

    // The address is free again once the container is gone.
    let again = env.berth(&[
        "run",
        "--rm",
        "--network",
        &name,
        "--ip",
        &ip,
        IMAGE,
        "true",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn connect_and_disconnect_a_running_container() {
    if !ready("connect_and_disconnect_a_running_container")
        || !support::require_tool("busybox", "connect_and_disconnect")
    {
        return;
    }
    let env = Env::start(true);
    let name = unique("cc");
    env.create(&name, &[]);
    let ctr = unique("c");
    env.ok(&["run", "-d", "--name", &ctr, IMAGE, "sleep", "60"]);
    assert_eq!(
        env.ok(&["network", "connect", "--alias", "db", &name, &ctr]),
        ""
    );
    let members = env.ok(&[
        "network",
        "inspect",
        "-f",
        "{{range .Containers}}{{.Name}}{{end}}",
        &name,
    ]);
    assert_eq!(members.trim(), ctr);
    let networks = env.ok(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &ctr,
    ]);
    assert!(networks.contains(&name), "{networks}");
    let links = env.ok(&["exec", &ctr, "ls", "/sys/class/net"]);
    assert!(links.contains("eth1"), "{links}");

    let out = env.berth(&["network", "rm", &name]);
    assert_eq!(out.status.code(), Some(1), "a network in use stays");
    assert!(
        stderr(&out).contains("has active endpoints"),
        "{}",
        stderr(&out)
    );

    assert_eq!(env.ok(&["network", "disconnect", &name, &ctr]), "");
    let members = env.ok(&["network", "inspect", "-f", "{{len .Containers}}", &name]);
    assert_eq!(members.trim(), "0");
    let out = env.berth(&["network", "disconnect", &name, "nope-ctr"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("Error response from daemon: "),
        "{}",
        stderr(&out)
    );
}
