//! The real docker CLI (`docker -H unix://SOCK ...`) against berth's network endpoints:
//! `network create/ls/inspect/rm`, the raw API's status codes, `run --network`, and a
//! published port (`-p 127.0.0.1::80`) reported by `docker port` and answering on
//! 127.0.0.1.
//!
//! Creating bridges and running containers need root; the docker CLI must be installed.
//! Subnets are random `10.x.y.0/24` so tests running at once never clash; containers and
//! networks are removed in a Drop guard before the daemon stops.

mod support;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::process::Output;
use std::time::Duration;

use support::daemon::Daemon;

const IMAGE: &str = "bb:1";

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

    fn docker(&self, args: &[&str]) -> Output {
        self.d.docker(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        support::stdout_ok(&format!("docker {}", args.join(" ")), &out)
    }

    /// `docker network create --subnet <random /24> name`; returns the ID and subnet.
    fn create(&self, name: &str) -> (String, String) {
        let subnet = random_subnet();
        self.networks.borrow_mut().push(name.to_owned());
        let id = self.ok(&["network", "create", "--subnet", &subnet, name]);
        (id.trim().to_owned(), subnet)
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

fn random_subnet() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = (nanos ^ (std::process::id() << 8)).wrapping_mul(2_654_435_761);
    format!("10.{}.{}.0/24", 64 + (seed >> 24) % 128, (seed >> 8) % 256)
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}x{nanos:x}", std::process::id())
}

fn ready(test: &str, image: bool) -> bool {
    support::require_root(test)
        && support::require_tool("docker", test)
        && (!image || support::require_tool("busybox", test))
}

/// One request on the daemon's socket, with a JSON body when given.
fn unix_request(
    socket: &std::path::Path,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> (u16, Vec<u8>) {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("daemon socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("request");
    stream.write_all(body).expect("body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("answer");
    support::registry::parse_response(&response).expect("HTTP answer")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn docker_network_create_ls_inspect_rm() {
    if !ready("docker_network_create_ls_inspect_rm", false) {
        return;
    }
    let env = Env::start(false);
    let name = unique("dn");
    let (id, subnet) = env.create(&name);
    assert_eq!(id.len(), 64, "{id}");

    let listed = env.ok(&[
        "network",
        "ls",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}",
    ]);
    assert_eq!(listed, format!("{} {name} bridge local\n", &id[..12]));
    let all = env.ok(&["network", "ls", "--format", "{{.Name}}"]);
    for predefined in ["bridge", "host", "none"] {
        assert!(all.lines().any(|l| l == predefined), "{all}");
    }

    let inspected = env.ok(&[
        "network",
        "inspect",
        "--format",
        "{{.Id}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Internal}}",
        &name,
    ]);
    assert_eq!(inspected, format!("{id} {subnet} false\n"));

    let out = env.docker(&["network", "create", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("network with name {name} already exists")),
        "{}",
        stderr(&out)
    );

    assert_eq!(env.ok(&["network", "rm", &name]), format!("{name}\n"));
    let out = env.docker(&["network", "inspect", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("network {name} not found")),
        "{}",
        stderr(&out)
    );
}

/// Status codes of the raw API: 201 create, 404 unknown, 403 predefined, 204 delete,
/// 400 bad filter.
#[test]
fn network_api_status_codes() {
    if !support::require_root("network_api_status_codes") {
        return;
    }
    let env = Env::start(false);
    let name = unique("da");
    env.networks.borrow_mut().push(name.clone());
    let body = format!(
        r#"{{"Name":"{name}","IPAM":{{"Config":[{{"Subnet":"{}"}}]}}}}"#,
        random_subnet()
    );
    let socket = env.d.socket();
    let (status, answer) = unix_request(
        &socket,
        "POST",
        "/v1.43/networks/create",
        Some(body.as_bytes()),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let created: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
    assert!(created["Id"].as_str().is_some_and(|id| id.len() == 64));
    assert_eq!(created["Warning"], "");
    let cases: &[(&str, String, u16)] = &[
        ("GET", "/v1.43/networks/nope-net".into(), 404),
        ("DELETE", "/networks/nope-net".into(), 404),
        ("DELETE", "/networks/host".into(), 403),
        (
            "GET",
            "/networks?filters=%7B%22color%22%3A%5B%22red%22%5D%7D".into(),
            400,
        ),
        ("GET", format!("/networks/{name}"), 200),
        ("DELETE", format!("/networks/{name}"), 204),
    ];
    for (method, path, want) in cases {
        let (status, answer) = unix_request(&socket, method, path, None);
        assert_eq!(
            status,
            *want,
            "{method} {path}: {}",
            String::from_utf8_lossy(&answer)
        );
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_slice(&answer).expect("JSON error");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
    let (status, answer) = unix_request(&socket, "POST", "/networks/prune", None);
    assert_eq!(status, 200);
    let report: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
    assert!(report.get("NetworksDeleted").is_some(), "{report}");
}

#[test]
fn docker_run_on_a_user_network() {
    if !ready("docker_run_on_a_user_network", true) {
        return;
    }
    let env = Env::start(true);
    let name = unique("dr");
    let (_, subnet) = env.create(&name);
    let prefix = subnet.trim_end_matches("0/24");
    let out = env.ok(&[
        "run",
        "--rm",
        "--network",
        &name,
        IMAGE,
        "busybox",
        "ip",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(out.contains(&format!("inet {prefix}")), "{out}");
}

#[test]
fn docker_run_publishes_a_random_port_and_docker_port_reports_it() {
    if !ready(
        "docker_run_publishes_a_random_port_and_docker_port_reports_it",
        true,
    ) {
        return;
    }
    let env = Env::start(true);
    let ctr = unique("dp");
    env.ok(&[
        "run",
        "-d",
        "--name",
        &ctr,
        "-p",
        "127.0.0.1::80",
        IMAGE,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let port_line = env.ok(&["port", &ctr, "80"]);
    let address = port_line.trim();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    let port: u16 = address
        .trim_start_matches("127.0.0.1:")
        .parse()
        .unwrap_or_else(|_| panic!("a port number: {address}"));
    assert_ne!(port, 0);
    let all = env.ok(&["port", &ctr]);
    assert_eq!(all, format!("80/tcp -> {address}\n"));

    // The proxy may need a moment after start; httpd answers any path with HTTP.
    let mut answer = String::new();
    let answered = support::wait_until(Duration::from_secs(10), || {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        if s.write_all(b"GET /passwd HTTP/1.0\r\n\r\n").is_err() {
            return false;
        }
        answer.clear();
        s.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.")
    });
    assert!(
        answered,
        "httpd answers through the published port: {answer:?}"
    );
}
