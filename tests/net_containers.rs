//! Containers on networks, end to end against a real berth daemon and the busybox image:
//! name and alias resolution on a user network (busybox `httpd` answered through `wget`),
//! replicas behind one alias, an `internal` network without a default route, a container
//! on two networks, `--network container:x`, published TCP and UDP ports on 127.0.0.1, a
//! random host port reported by `inspect` and `port`, a host port already taken (a clear
//! error and nothing left behind), and outbound NAT seen from a namespace the test makes
//! to play the outside host.
//!
//! Needs root, busybox-static and `ip` (iproute2): LOUD skips otherwise. Networks use random
//! `10.x.y.0/24` subnets; the outside host's namespace and veth have names unique to the
//! test. Everything is removed in Drop guards. Debian's busybox has no UDP `nc` and its
//! `wget -T` crashes, so the UDP echo server is a thread of the test inside the
//! container's network namespace and `timeout` bounds `wget`.

mod support;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::process::{Command, Output};
use std::time::Duration;

use support::daemon::Daemon;

const IMAGE: &str = "bb:net";

/// A daemon with the busybox image whose containers and networks go on drop.
struct Env {
    d: Daemon,
    networks: RefCell<Vec<String>>,
}

impl Env {
    /// `None` (after a LOUD skip) without root or the tools.
    fn start(test: &str) -> Option<Env> {
        if !support::require_root(test)
            || !support::require_tool("busybox", test)
            || !support::require_tool("ip", test)
        {
            return None;
        }
        let d = Daemon::start();
        let tar = d.scratch().join("rootfs.tar");
        std::fs::write(&tar, support::images::fixtures::busybox_rootfs_tar()).expect("tar");
        d.berth_ok(&["import", &tar.to_string_lossy(), IMAGE]);
        Some(Env {
            d,
            networks: RefCell::new(Vec::new()),
        })
    }

    fn berth(&self, args: &[&str]) -> Output {
        self.d.berth(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.d.berth_ok(args)
    }

    /// `network create --subnet <random /24> [extra] <name>`; the subnet's first three
    /// octets (`10.x.y.`).
    fn network(&self, name: &str, extra: &[&str]) -> String {
        let (subnet, prefix) = random_subnet();
        let mut args = vec!["network", "create", "--subnet", &subnet];
        args.extend_from_slice(extra);
        args.push(name);
        self.networks.borrow_mut().push(name.to_owned());
        self.ok(&args);
        prefix
    }

    /// `run -d <opts> IMAGE <cmd>`: the container ID.
    fn detached(&self, opts: &[&str], cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d"];
        args.extend_from_slice(opts);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        self.ok(&args).trim().to_owned()
    }

    /// `run --rm <opts> IMAGE <cmd>`: exit code and stdout (stderr in the panic text).
    fn run(&self, opts: &[&str], cmd: &[&str]) -> (i32, String, String) {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(opts);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        let out = self.berth(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `run --rm` that must succeed: stdout.
    fn run_ok(&self, opts: &[&str], cmd: &[&str]) -> String {
        let (code, out, err) = self.run(opts, cmd);
        assert_eq!(
            code, 0,
            "run {opts:?} {cmd:?}: stdout {out:?} stderr {err:?}"
        );
        out
    }

    fn inspect(&self, id: &str) -> serde_json::Value {
        let text = self.ok(&["inspect", id]);
        let v: serde_json::Value = serde_json::from_str(&text).expect("inspect JSON");
        v[0].clone()
    }

    fn inspect_network(&self, name: &str) -> serde_json::Value {
        let text = self.ok(&["network", "inspect", name]);
        let v: serde_json::Value = serde_json::from_str(&text).expect("network inspect JSON");
        v[0].clone()
    }

    /// The container's address on `network`.
    fn ip_on(&self, id: &str, network: &str) -> String {
        let v = self.inspect(id);
        let ip = v["NetworkSettings"]["Networks"][network]["IPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!ip.is_empty(), "{id} has no address on {network}: {v:#}");
        ip
    }

    /// An httpd on port 80 serving `index.html` = `body`, on `opts`' networks.
    fn web(&self, opts: &[&str], body: &str) -> String {
        let script = format!(
            "mkdir -p /www && echo {body} > /www/index.html && exec busybox httpd -f -p 80 -h /www"
        );
        self.detached(opts, &["sh", "-c", &script])
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let ids = self.d.berth(&["ps", "-a", "-q", "--no-trunc"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.d.berth(&["rm", "-f", id]);
        }
        for name in self.networks.borrow().iter() {
            let _ = self.d.berth(&["network", "rm", name]);
        }
    }
}

/// A random `10.x.y.0/24` and its `10.x.y.` prefix.
fn random_subnet() -> (String, String) {
    let mut b = [0u8; 2];
    getrandom::getrandom(&mut b).expect("random");
    let x = 64 + b[0] % 128;
    (format!("10.{x}.{}.0/24", b[1]), format!("10.{x}.{}.", b[1]))
}

/// A name unique to this run: `<prefix><8 hex>`.
fn unique(prefix: &str) -> String {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).expect("random");
    format!("{prefix}{:08x}", u32::from_be_bytes(b))
}

/// `wget -q -O- url` from a throwaway container on `network`, retried briefly (the server
/// may still be starting).
fn fetch(env: &Env, opts: &[&str], url: &str) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        let (code, out, err) = env.run(
            opts,
            &[
                "busybox", "timeout", "5", "busybox", "wget", "-q", "-O-", url,
            ],
        );
        if code == 0 {
            return out;
        }
        last = format!("exit {code}: {out} {err}");
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("wget {url} never answered: {last}");
}

/// An HTTP GET of `/` on 127.0.0.1:`port` from the host; the body.
fn host_get(port: u16) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        match try_host_get(port) {
            Ok(body) if !body.is_empty() => return body,
            Ok(_) => last = "empty answer".into(),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("127.0.0.1:{port} never answered: {last}");
}

fn try_host_get(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

/// A free TCP port on the host (closed again: a small race, fine for tests).
fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind");
    l.local_addr().expect("addr").port()
}

/// A free UDP port on the host.
fn free_udp_port() -> u16 {
    let u = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind");
    u.local_addr().expect("addr").port()
}

fn run_cmd(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name_and_alias() {
    let Some(env) = Env::start("containers_on_a_user_network_reach_each_other") else {
        return;
    };
    let net = unique("nc");
    let prefix = env.network(&net, &[]);
    let web = unique("web");
    env.web(
        &["--name", &web, "--network", &net, "--network-alias", "www"],
        "hello",
    );
    let ip = env.ip_on(&web, &net);
    assert!(ip.starts_with(&prefix), "{ip} not in {prefix}0/24");
    let v = env.inspect(&web);
    let aliases = &v["NetworkSettings"]["Networks"][&net]["Aliases"];
    assert!(
        aliases
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "www")),
        "{aliases}"
    );
    assert_eq!(
        v["NetworkSettings"]["IPAddress"], "",
        "top level is the bridge's only"
    );

    assert_eq!(
        fetch(&env, &["--network", &net], &format!("http://{web}/")).trim(),
        "hello"
    );
    assert_eq!(
        fetch(&env, &["--network", &net], "http://www/").trim(),
        "hello"
    );

    // The /etc files: the embedded DNS server and the container's own address.
    let resolv = env.run_ok(&["--network", &net], &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");
    assert!(resolv.contains("ndots:0"), "{resolv}");
    let hosts = env.ok(&["exec", &web, "cat", "/etc/hosts"]);
    assert!(hosts.contains(&format!("{ip}\t")), "{hosts}");

    // On the default bridge: the host's resolvers (minus loopback ones).
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let resolv = env.run_ok(&[], &["cat", "/etc/resolv.conf"]);
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
    for line in host_resolv.lines().filter(|l| l.starts_with("nameserver")) {
        if !line.contains("127.") && !line.contains("::1") && !line.contains(':') {
            assert!(resolv.contains(line), "{line} missing from {resolv}");
        }
    }
}

#[test]
fn replicas_behind_one_alias_all_resolve() {
    let Some(env) = Env::start("replicas_behind_one_alias_all_resolve") else {
        return;
    };
    let net = unique("nr");
    env.network(&net, &[]);
    let a = env.detached(
        &["--network", &net, "--network-alias", "svc"],
        &["sleep", "60"],
    );
    let b = env.detached(
        &["--network", &net, "--network-alias", "svc"],
        &["sleep", "60"],
    );
    let (ip_a, ip_b) = (env.ip_on(&a, &net), env.ip_on(&b, &net));
    let out = env.run_ok(
        &["--network", &net],
        &["busybox", "nslookup", "svc", "127.0.0.11"],
    );
    assert!(
        out.contains(&ip_a) && out.contains(&ip_b),
        "{ip_a} {ip_b}: {out}"
    );
}

#[test]
fn an_internal_network_has_no_default_route() {
    let Some(env) = Env::start("an_internal_network_has_no_default_route") else {
        return;
    };
    let inside = unique("ni");
    let prefix = env.network(&inside, &["--internal"]);
    let routes = env.run_ok(&["--network", &inside], &["busybox", "ip", "route"]);
    assert!(!routes.contains("default"), "{routes}");
    assert!(routes.contains(&prefix), "{routes}");
    let open = unique("no");
    env.network(&open, &[]);
    let routes = env.run_ok(&["--network", &open], &["busybox", "ip", "route"]);
    assert!(routes.contains("default via"), "{routes}");
}

#[test]
fn a_container_connected_to_two_networks_reaches_both() {
    let Some(env) = Env::start("a_container_connected_to_two_networks_reaches_both") else {
        return;
    };
    let (na, nb) = (unique("na"), unique("nb"));
    env.network(&na, &[]);
    env.network(&nb, &[]);
    let (wa, wb) = (unique("wa"), unique("wb"));
    env.web(&["--name", &wa, "--network", &na], "on-a");
    env.web(&["--name", &wb, "--network", &nb], "on-b");
    let both = unique("both");
    env.detached(&["--name", &both, "--network", &na], &["sleep", "60"]);
    assert_eq!(env.ok(&["network", "connect", &nb, &both]), "");
    let links = env.ok(&["exec", &both, "ls", "/sys/class/net"]);
    assert!(links.contains("eth1"), "{links}");
    env.ip_on(&both, &nb);
    for (peer, body) in [(&wa, "on-a"), (&wb, "on-b")] {
        let mut got = String::new();
        for _ in 0..20 {
            let out = env.berth(&[
                "exec",
                &both,
                "busybox",
                "timeout",
                "5",
                "busybox",
                "wget",
                "-q",
                "-O-",
                &format!("http://{peer}/"),
            ]);
            got = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        assert_eq!(got.trim(), body, "{both} -> {peer}");
    }
    // The hosts file now names the second address too.
    let hosts = env.ok(&["exec", &both, "cat", "/etc/hosts"]);
    assert!(hosts.contains(&env.ip_on(&both, &nb)), "{hosts}");
}

#[test]
fn network_mode_container_shares_the_namespace() {
    let Some(env) = Env::start("network_mode_container_shares_the_namespace") else {
        return;
    };
    let net = unique("ns");
    env.network(&net, &[]);
    let base = unique("base");
    env.detached(&["--name", &base, "--network", &net], &["sleep", "60"]);
    let ip = env.ip_on(&base, &net);
    let addrs = env.run_ok(
        &["--network", &format!("container:{base}")],
        &["busybox", "ip", "-4", "addr"],
    );
    assert!(addrs.contains(&format!("inet {ip}/24")), "{addrs}");
}

#[test]
fn published_tcp_and_udp_ports_answer_on_loopback() {
    let Some(env) = Env::start("published_tcp_and_udp_ports_answer_on_loopback") else {
        return;
    };
    let (local, any, udp) = (free_port(), free_port(), free_udp_port());
    let id = env.web(
        &[
            "-p",
            &format!("127.0.0.1:{local}:80"),
            "-p",
            &format!("{any}:80"),
            "-p",
            &format!("127.0.0.1:{udp}:5353/udp"),
        ],
        "published",
    );
    assert_eq!(host_get(local).trim(), "published");
    assert_eq!(host_get(any).trim(), "published");

    // UDP: an echo server of the test inside the container's namespace.
    let v = env.inspect(&id);
    let key = v["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!key.is_empty(), "no SandboxKey: {v:#}");
    let bindings = v["NetworkSettings"]["Ports"]["80/tcp"].clone();
    for (ip, port) in [("127.0.0.1", local), ("0.0.0.0", any)] {
        let port = port.to_string();
        assert!(
            bindings.as_array().is_some_and(|a| a
                .iter()
                .any(|b| b["HostIp"] == ip && b["HostPort"] == *port)),
            "{ip}:{port} missing from {bindings}"
        );
    }
    let echo = udp_echo_in(&key, 5353);
    let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut answered = None;
    for _ in 0..20 {
        client
            .send_to(b"ping", (Ipv4Addr::LOCALHOST, udp))
            .expect("send");
        let mut buf = [0u8; 64];
        if let Ok((n, _)) = client.recv_from(&mut buf) {
            answered = Some(buf[..n].to_vec());
            break;
        }
    }
    assert_eq!(answered.as_deref(), Some(&b"ping"[..]), "no UDP echo");
    drop(echo);

    // ps shows the bindings.
    let ps = env.ok(&[
        "ps",
        "--format",
        "{{.Ports}}",
        "--filter",
        &format!("id={id}"),
    ]);
    assert!(ps.contains(&format!("127.0.0.1:{local}->80/tcp")), "{ps}");
}

/// A UDP echo server bound in the namespace at `netns`, on a thread of its own; stops
/// when dropped (its socket times out and the flag is seen).
struct UdpEcho {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn udp_echo_in(netns: &str, port: u16) -> UdpEcho {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ns = std::fs::File::open(netns).expect("open netns");
    let flag = stop.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        // Only this thread enters the namespace; the socket stays there.
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).expect("bind in netns");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let _ = tx.send(());
        let mut buf = [0u8; 1500];
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((n, peer)) = s.recv_from(&mut buf) {
                let _ = s.send_to(&buf[..n], peer);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("echo server up");
    UdpEcho {
        stop,
        thread: Some(thread),
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_random_host_port_is_reported_by_inspect_and_port() {
    let Some(env) = Env::start("a_random_host_port_is_reported_by_inspect_and_port") else {
        return;
    };
    let name = unique("rp");
    env.web(&["--name", &name, "-p", "80"], "random");
    let v = env.inspect(&name);
    let binding = &v["NetworkSettings"]["Ports"]["80/tcp"][0];
    assert_eq!(binding["HostIp"], "0.0.0.0", "{v:#}");
    let port: u16 = binding["HostPort"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no host port: {binding}"));
    assert_ne!(port, 0);
    let shown = env.ok(&["port", &name, "80"]);
    assert!(shown.contains(&format!("0.0.0.0:{port}")), "{shown}");
    assert_eq!(host_get(port).trim(), "random");
}

#[test]
fn a_host_port_in_use_fails_clearly_and_leaves_nothing() {
    let Some(env) = Env::start("a_host_port_in_use_fails_clearly_and_leaves_nothing") else {
        return;
    };
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = held.local_addr().expect("addr").port();
    let name = unique("busy");
    let out = env.berth(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        &format!("127.0.0.1:{port}:80"),
        IMAGE,
        "sleep",
        "60",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "a taken port must fail the start");
    assert!(
        err.contains(&port.to_string()),
        "the error names the port: {err}"
    );
    let v = env.inspect(&name);
    assert_eq!(v["State"]["Running"], false);
    assert_eq!(v["NetworkSettings"]["SandboxKey"], "", "{v:#}");
    let id = v["Id"].as_str().unwrap_or_default().to_owned();
    let members = env.ok(&["network", "inspect", "-f", "{{len .Containers}}", "bridge"]);
    assert_eq!(members.trim(), "0", "no endpoint left on the bridge");
    let pin = env.d.root().join("network/netns").join(&id);
    assert!(!pin.exists(), "{} left behind", pin.display());
    drop(held);
}

/// The outside host: a namespace joined to the host by a veth pair with a /30.
struct Outside {
    ns: String,
    host_veth: String,
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = run_cmd("ip", &["link", "del", &self.host_veth]);
        let _ = run_cmd("ip", &["netns", "del", &self.ns]);
    }
}

#[test]
fn outbound_traffic_is_masqueraded() {
    let Some(env) = Env::start("outbound_traffic_is_masqueraded") else {
        return;
    };
    let tag = unique("");
    let outside = Outside {
        ns: format!("bnat{tag}"),
        host_veth: format!("bnh{tag}"),
    };
    let peer = format!("bno{tag}");
    let mut b = [0u8; 2];
    getrandom::getrandom(&mut b).expect("random");
    let (x, y) = (192 + b[0] % 60, b[1] & 0xfc);
    let host_ip = format!("10.{x}.{y}.{}", 1);
    let far_ip = format!("10.{x}.{y}.{}", 2);
    for args in [
        vec!["netns", "add", &outside.ns],
        vec![
            "link",
            "add",
            &outside.host_veth,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
            "netns",
            &outside.ns,
        ],
        vec![
            "addr",
            "add",
            &format!("{host_ip}/30"),
            "dev",
            &outside.host_veth,
        ],
        vec!["link", "set", &outside.host_veth, "up"],
        vec![
            "-n",
            &outside.ns,
            "addr",
            "add",
            &format!("{far_ip}/30"),
            "dev",
            &peer,
        ],
        vec!["-n", &outside.ns, "link", "set", &peer, "up"],
        vec!["-n", &outside.ns, "link", "set", "lo", "up"],
    ] {
        let out = run_cmd("ip", &args);
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A server in the outside namespace that answers with the address it saw.
    let ns_file = std::fs::File::open(format!("/run/netns/{}", outside.ns)).expect("netns");
    let (tx, rx) = std::sync::mpsc::channel();
    let far = far_ip.clone();
    let server = std::thread::spawn(move || {
        nix::sched::setns(ns_file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let l = TcpListener::bind((far.as_str(), 8080)).expect("bind outside");
        l.set_nonblocking(true).expect("nonblocking");
        let _ = tx.send(());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            match l.accept() {
                Ok((mut s, from)) => {
                    let _ = s.set_nonblocking(false);
                    let mut buf = [0u8; 512];
                    let _ = s.read(&mut buf);
                    let body = from.ip().to_string();
                    let _ = write!(
                        s,
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    return Some(body);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        None
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("outside server up");
    let net = unique("nn");
    env.network(&net, &[]);
    let (code, out, err) = env.run(
        &["--network", &net],
        &[
            "busybox",
            "timeout",
            "8",
            "busybox",
            "wget",
            "-q",
            "-O-",
            &format!("http://{far_ip}:8080/"),
        ],
    );
    let seen = server.join().expect("server thread");
    assert_eq!(code, 0, "wget to the outside host: {out} {err}");
    assert_eq!(
        seen.as_deref(),
        Some(host_ip.as_str()),
        "source not masqueraded"
    );
    assert_eq!(out.trim(), host_ip);
}

#[test]
fn a_daemon_killed_and_restarted_restores_names_and_ports_and_cleans_up_after() {
    let Some(mut env) = Env::start("a_daemon_killed_and_restarted_restores_names_and_ports") else {
        return;
    };
    let net = unique("nr");
    env.network(&net, &[]);
    let web = unique("web");
    let id = env.web(
        &["--name", &web, "--network", &net, "-p", "127.0.0.1::80"],
        "survivor",
    );
    let ip = env.ip_on(&web, &net);
    let port_line = env.ok(&["port", &web, "80"]);
    let port: u16 = port_line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port line {port_line:?}"));
    assert_eq!(host_get(port).trim(), "survivor");
    let pin = env.inspect(&web)["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(std::path::Path::new(&pin).exists(), "pin {pin}");

    // SIGKILL: no cleanup on the daemon's side; the container keeps running.
    env.d.kill9();
    assert!(
        try_host_get(port).is_err() || try_host_get(port).is_ok_and(|b| b.is_empty()),
        "the proxy died with the daemon"
    );
    env.d.restart();

    // The restarted daemon publishes the port again and answers the name.
    assert_eq!(host_get(port).trim(), "survivor");
    assert_eq!(
        fetch(&env, &["--network", &net], &format!("http://{web}/")).trim(),
        "survivor"
    );
    let lookup = env.run_ok(
        &["--network", &net],
        &["busybox", "nslookup", &web, "127.0.0.11"],
    );
    assert!(lookup.contains(&ip), "{lookup}");
    // A new container gets another address than the survivor's.
    let other = env.detached(&["--network", &net], &["sleep", "30"]);
    assert_ne!(env.ip_on(&other, &net), ip);

    // Removing everything leaves no pin, no endpoint and no bridge.
    // berth names a network's bridge `br-<first 12 hex of its ID>`, as Docker does.
    let net_id = env.inspect_network(&net)["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bridge = format!("br-{}", &net_id[..12.min(net_id.len())]);
    let links = run_cmd("ip", &["-o", "link"]);
    assert!(
        String::from_utf8_lossy(&links.stdout).contains(&bridge),
        "no bridge {bridge} while the network exists"
    );
    env.ok(&["rm", "-f", &id, &other]);
    assert!(
        !std::path::Path::new(&pin).exists(),
        "pin {pin} left behind"
    );
    let n = env.inspect_network(&net);
    assert_eq!(n["Containers"], serde_json::json!({}), "{n:#}");
    env.ok(&["network", "rm", &net]);
    env.networks.borrow_mut().clear();
    let links = run_cmd("ip", &["-o", "link"]);
    assert!(
        net_id.len() == 64 && !String::from_utf8_lossy(&links.stdout).contains(&bridge),
        "bridge {bridge:?} left behind"
    );
}

#[test]
fn a_link_on_the_default_bridge_is_written_into_etc_hosts() {
    let Some(env) = Env::start("a_link_on_the_default_bridge_is_written_into_etc_hosts") else {
        return;
    };
    let db = unique("db");
    env.detached(&["--name", &db], &["sleep", "30"]);
    let ip = env.inspect(&db)["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !ip.is_empty(),
        "the default bridge gives a top-level IPAddress"
    );
    let hosts = env.run_ok(
        &["--link", &format!("{db}:database")],
        &["cat", "/etc/hosts"],
    );
    let line = hosts
        .lines()
        .find(|l| l.contains("database"))
        .unwrap_or_else(|| panic!("no link line in {hosts}"));
    assert!(line.starts_with(&ip) && line.contains(&db), "{line}");
    // No embedded DNS on the default bridge: the host's resolvers, as Docker.
    let resolv = env.run_ok(&[], &["cat", "/etc/resolv.conf"]);
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
}
