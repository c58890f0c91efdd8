//! Container sandboxes against the real kernel (root): `Networks::sandbox_up` makes a pinned
//! namespace with its veth endpoints, the embedded DNS and published ports; sandboxes on a
//! network reach and resolve each other, an internal network has no default route,
//! connect/disconnect add and remove `eth1`, a failing `sandbox_up` leaves nothing, and
//! `sandbox_down` leaves no veth. Each test opens its own manager on a temp root whose
//! address pool is a random `10.<100-199>.0.0/16`; a Drop guard removes pins, bridges,
//! the nftables table and server processes whatever happens. Traffic stays between the
//! test's namespaces and loopback.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::api::network_types::{Ipam, IpamConfig, NetworkCreateRequest};
use berth::daemon::events::EventBus;
use berth::daemon::networks::{EndpointRequest, Networks, SandboxRequest, SandboxState};
use berth::net::netns::NetNs;
use berth::net::ports::{PortMapping, Proto};
use sha2::{Digest, Sha256};

/// Removes what a test made, whatever happened: server processes (by PID), namespace
/// pins, bridges, the nftables table.
struct Cleanup {
    root: PathBuf,
    bridges: Vec<String>,
    children: Vec<Child>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Ok(entries) = std::fs::read_dir(self.root.join("network/netns")) {
            for entry in entries.flatten() {
                let _ = NetNs::remove(&entry.path());
            }
        }
        for bridge in &self.bridges {
            let _ = Command::new("ip")
                .args(["link", "del", bridge])
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &firewall_table(&self.root)])
            .stderr(Stdio::null())
            .status();
    }
}

/// The daemon's nftables table for `root` (as `daemon::networks` names it).
fn firewall_table(root: &Path) -> String {
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("berth-{}", &hex[..12])
}

struct Fixture {
    nets: Arc<Networks>,
    /// The second octet of the pool.
    octet: u8,
    guard: Cleanup,
    _dir: tempfile::TempDir,
}

fn ready(test: &str) -> bool {
    support::require_root(test)
        && support::require_tool("ip", test)
        && support::require_tool("nsenter", test)
        && support::require_tool("busybox", test)
}

async fn fixture(test: &str) -> Option<Fixture> {
    if !ready(test) {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let mut b = [0u8; 1];
    getrandom::getrandom(&mut b).expect("random");
    let octet = 100 + b[0] % 100;
    std::fs::write(
        root.join("daemon.json"),
        format!(r#"{{"default-address-pools":[{{"base":"10.{octet}.0.0/16","size":24}}]}}"#),
    )
    .expect("daemon.json");
    let mut guard = Cleanup {
        root: root.clone(),
        bridges: Vec::new(),
        children: Vec::new(),
    };
    let config = berth::daemon::config::read(&root).expect("config");
    let nets = Networks::open(&root, &config, Arc::new(EventBus::new()))
        .await
        .expect("open networks");
    let default = nets.inspect("bridge").expect("default bridge");
    guard.bridges.push(bridge_of(&default.id));
    Some(Fixture {
        nets,
        octet,
        guard,
        _dir: dir,
    })
}

fn bridge_of(id: &str) -> String {
    format!("br-{}", &id[..12])
}

impl Fixture {
    async fn network(&mut self, name: &str, internal: bool, subnet: Option<String>) -> String {
        let ipam = subnet.map(|s| Ipam {
            driver: "default".into(),
            options: None,
            config: vec![IpamConfig {
                subnet: s,
                ..IpamConfig::default()
            }],
        });
        let made = self
            .nets
            .create(NetworkCreateRequest {
                name: format!("{name}-{}", std::process::id()),
                internal,
                ipam,
                ..NetworkCreateRequest::default()
            })
            .await
            .expect("create network");
        self.guard.bridges.push(bridge_of(&made.id));
        made.id
    }

    /// The container IDs holding an address on `network`, from its record.
    fn holders(&self, network: &str) -> Vec<String> {
        let path = self.guard.root.join(format!("network/{network}.json"));
        let text = std::fs::read_to_string(&path).expect("network record");
        let record: serde_json::Value = serde_json::from_str(&text).expect("record json");
        let mut out = Vec::new();
        for subnet in record["subnets"].as_array().into_iter().flatten() {
            if let Some(map) = subnet["allocated"].as_object() {
                out.extend(map.keys().cloned());
            }
        }
        out
    }

    fn endpoints(&self, network: &str) -> Vec<String> {
        let r = self.nets.inspect(network).expect("inspect");
        r.containers.keys().cloned().collect()
    }
}

fn random_id() -> String {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("random");
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn request(name: &str, endpoints: Vec<EndpointRequest>) -> SandboxRequest {
    SandboxRequest {
        container_id: random_id(),
        container_name: format!("/{name}"),
        hostname: name.to_owned(),
        endpoints,
        ports: Vec::new(),
    }
}

fn on(network: &str) -> EndpointRequest {
    EndpointRequest {
        network: network.to_owned(),
        ..EndpointRequest::default()
    }
}

fn in_ns(pin: &Path, args: &[&str]) -> Output {
    Command::new("nsenter")
        .arg(format!("--net={}", pin.display()))
        .args(args)
        .output()
        .expect("nsenter runs")
}

fn ns_text(state: &SandboxState, args: &[&str]) -> String {
    support::stdout_ok(&args.join(" "), &in_ns(&state.netns, args))
}

fn ipv4(state: &SandboxState, i: usize) -> IpAddr {
    state.endpoints[i].ipv4.expect("an IPv4 address").addr()
}

/// The names of the links enslaved to `bridge` on the host.
fn bridge_ports(bridge: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge])
        .output()
        .expect("ip link");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

fn host_links() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "link"])
        .output()
        .expect("ip link");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

/// Polls until `cond` holds: namespaces (and their veths) die asynchronously.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// An HTTP GET through `port` on loopback, retried while the server starts.
fn http_get(port: u16) -> String {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        })();
        match attempt {
            Ok(body) if body.contains("200") => return body,
            other if Instant::now() > end => panic!("GET through port {port}: {other:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxes_reach_resolve_publish_connect_and_leave_nothing() {
    let Some(mut f) = fixture("sandboxes_reach_resolve_publish_connect").await else {
        return;
    };
    let net = f.network("sbx", false, None).await;
    let internal = f.network("sbx-int", true, None).await;
    let bridge = bridge_of(&net);

    let mut a = request("sbx-a", vec![on(&net)]);
    a.endpoints[0].aliases = vec!["alias-a".into()];
    a.ports = vec![PortMapping {
        proto: Proto::Tcp,
        host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        host_port: 0,
        container_port: 80,
    }];
    let b = request("sbx-b", vec![on(&net)]);
    let c = request("sbx-c", vec![on(&internal)]);
    let sa = f.nets.sandbox_up(&a).await.expect("sandbox a");
    let sb = f.nets.sandbox_up(&b).await.expect("sandbox b");
    let sc = f.nets.sandbox_up(&c).await.expect("sandbox c");

    // State as the container side sees it.
    assert!(sa.netns.exists(), "{:?}", sa.netns);
    assert_eq!(sa.endpoints[0].interface, "eth0");
    assert_eq!(sa.endpoints[0].network_id, net);
    assert_eq!(sa.endpoints[0].endpoint_id.len(), 64);
    let ip_a = ipv4(&sa, 0);
    let ip_b = ipv4(&sb, 0);
    assert_ne!(ip_a, ip_b);
    let IpAddr::V4(v4) = ip_a else { unreachable!() };
    let o = v4.octets();
    assert_eq!(
        sa.endpoints[0].mac,
        format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
    );
    assert_eq!(o[1], f.octet, "address from the test's pool");
    assert_eq!(
        sa.dns_servers,
        vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 11))]
    );
    assert_eq!(sa.ports.len(), 1);
    assert_ne!(sa.ports[0].host_port, 0, "a random port is filled in");
    let mut on_net = f.endpoints(&net);
    on_net.sort();
    let mut expected = vec![a.container_id.clone(), b.container_id.clone()];
    expected.sort();
    assert_eq!(on_net, expected);

    // The kernel side.
    let addrs = ns_text(&sa, &["ip", "-o", "addr"]);
    let eth0 = addrs
        .lines()
        .find(|l| l.contains(" eth0 "))
        .unwrap_or_default();
    assert!(
        eth0.contains(&sa.endpoints[0].ipv4.unwrap().to_string()),
        "{addrs}"
    );
    assert!(addrs.contains("lo"), "{addrs}");
    let routes = ns_text(&sa, &["ip", "route"]);
    let gw = sa.endpoints[0].gateway.expect("gateway");
    assert!(
        routes.contains(&format!("default via {gw} dev eth0")),
        "{routes}"
    );
    let routes_c = ns_text(&sc, &["ip", "route"]);
    assert!(
        !routes_c.contains("default"),
        "internal network: {routes_c}"
    );
    assert!(routes_c.contains("dev eth0"), "{routes_c}");
    assert_eq!(bridge_ports(&bridge).len(), 2, "two veths on the bridge");

    // Reachability and names.
    let ping = in_ns(
        &sa.netns,
        &["busybox", "ping", "-c1", "-W2", &ip_b.to_string()],
    );
    support::stdout_ok("ping b from a", &ping);
    let lookup = ns_text(&sa, &["busybox", "nslookup", "sbx-b", "127.0.0.11"]);
    assert!(lookup.contains(&ip_b.to_string()), "sbx-b from a: {lookup}");
    let lookup = ns_text(&sb, &["busybox", "nslookup", "alias-a", "127.0.0.11"]);
    assert!(
        lookup.contains(&ip_a.to_string()),
        "alias-a from b: {lookup}"
    );

    // The published port reaches a server inside a.
    let www = tempfile::tempdir().expect("www");
    std::fs::write(www.path().join("index.html"), "berth-sandbox-ok\n").expect("index");
    let server = Command::new("nsenter")
        .arg(format!("--net={}", sa.netns.display()))
        .args(["busybox", "httpd", "-f", "-p", "80", "-h"])
        .arg(www.path())
        .spawn()
        .expect("httpd");
    f.guard.children.push(server);
    let port = sa.ports[0].host_port;
    let body = tokio::task::spawn_blocking(move || http_get(port))
        .await
        .expect("get");
    assert!(body.contains("berth-sandbox-ok"), "{body}");

    // Connect a to the internal network (eth1, no second default route), then disconnect.
    let ep = f
        .nets
        .endpoint_connect(&a, &on(&internal))
        .await
        .expect("connect");
    assert_eq!(ep.interface, "eth1");
    let addrs = ns_text(&sa, &["ip", "-o", "addr", "show", "dev", "eth1"]);
    assert!(addrs.contains(&ep.ipv4.unwrap().to_string()), "{addrs}");
    let routes = ns_text(&sa, &["ip", "route"]);
    assert_eq!(routes.matches("default").count(), 1, "{routes}");
    let ping = in_ns(
        &sa.netns,
        &["busybox", "ping", "-c1", "-W2", &ipv4(&sc, 0).to_string()],
    );
    support::stdout_ok("ping c from a over eth1", &ping);
    assert!(f.endpoints(&internal).contains(&a.container_id));
    assert!(
        f.nets.endpoint_connect(&a, &on(&internal)).await.is_err(),
        "connecting twice is refused"
    );
    f.nets
        .endpoint_disconnect(&a.container_id, &internal)
        .await
        .expect("disconnect");
    let links = ns_text(&sa, &["ip", "-o", "link"]);
    assert!(!links.contains("eth1"), "{links}");
    assert!(!f.endpoints(&internal).contains(&a.container_id));
    assert!(!f.holders(&internal).contains(&a.container_id));
    assert!(!host_links().contains(&ep.host_veth), "host end deleted");

    // Down (the container's processes are gone by then): no pin, no veth, no endpoint, no
    // address; repeating is fine.
    for child in &mut f.guard.children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let veths: Vec<String> = [&sa, &sb, &sc]
        .iter()
        .map(|s| s.endpoints[0].host_veth.clone())
        .collect();
    for r in [&a, &b, &c] {
        f.nets.sandbox_down(&r.container_id).await;
        f.nets.sandbox_down(&r.container_id).await;
    }
    for s in [&sa, &sb, &sc] {
        assert!(!s.netns.exists(), "{:?} left", s.netns);
    }
    assert!(
        eventually(|| {
            let links = host_links();
            veths.iter().all(|v| !links.contains(v))
        }),
        "veths left on the host: {:?}",
        veths
            .iter()
            .filter(|v| host_links().contains(v))
            .collect::<Vec<_>>()
    );
    assert!(f.endpoints(&net).is_empty());
    assert!(f.holders(&net).is_empty(), "{:?}", f.holders(&net));
    assert!(f.holders(&internal).is_empty());
    let refused = TcpStream::connect((Ipv4Addr::LOCALHOST, port));
    assert!(refused.is_err(), "published port closed");

    f.nets.remove(&net).await.expect("remove network");
    f.nets
        .remove(&internal)
        .await
        .expect("remove internal network");
    f.nets.shutdown().await;
    assert!(!host_links().contains(&bridge), "bridge removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sandbox_up_leaves_no_pin_endpoint_address_or_veth() {
    let Some(mut f) = fixture("failed_sandbox_up_leaves_nothing").await else {
        return;
    };
    let net = f.network("sbx-f", false, None).await;
    let octet = f.octet;
    let fixed = f
        .network("sbx-fixed", false, Some(format!("10.{octet}.250.0/24")))
        .await;
    let bridge = bridge_of(&net);

    // The second endpoint fails after the first was made.
    let mut r = request("sbx-fail", vec![on(&net), on(&fixed)]);
    r.endpoints[1].ipv4 = Some(Ipv4Addr::new(10, octet, 251, 5));
    let err = f
        .nets
        .sandbox_up(&r)
        .await
        .expect_err("address outside the subnet");
    eprintln!("static address outside the subnet: {err}");
    check_nothing_left(&f, &r, &[&net, &fixed], &bridge);

    // A host port the test holds.
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("hold a port");
    let port = held.local_addr().expect("addr").port();
    let mut r = request("sbx-port", vec![on(&net)]);
    r.ports = vec![PortMapping {
        proto: Proto::Tcp,
        host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        host_port: port,
        container_port: 80,
    }];
    let err = f.nets.sandbox_up(&r).await.expect_err("port in use");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    check_nothing_left(&f, &r, &[&net], &bridge);

    // A network that does not exist.
    let r = request("sbx-none", vec![on(&net), on("no-such-network-sbx")]);
    let err = f.nets.sandbox_up(&r).await.expect_err("unknown network");
    assert!(err.to_string().contains("not found"), "{err}");
    check_nothing_left(&f, &r, &[&net], &bridge);

    // After the failures the network still works.
    let r = request("sbx-ok", vec![on(&net)]);
    let ok = f.nets.sandbox_up(&r).await.expect("up");
    assert_eq!(ok.endpoints.len(), 1);
    assert_eq!(bridge_ports(&bridge).len(), 1);
    f.nets.sandbox_down(&r.container_id).await;
    f.nets.remove(&net).await.expect("remove network");
    f.nets.remove(&fixed).await.expect("remove network");
    f.nets.shutdown().await;
}

fn check_nothing_left(f: &Fixture, r: &SandboxRequest, networks: &[&str], bridge: &str) {
    let pin = f.guard.root.join("network/netns").join(&r.container_id);
    assert!(!pin.exists(), "pin left at {pin:?}");
    for n in networks {
        assert!(
            !f.endpoints(n).contains(&r.container_id),
            "endpoint left on {n}"
        );
        assert!(
            !f.holders(n).contains(&r.container_id),
            "address left on {n}"
        );
    }
    assert!(
        eventually(|| bridge_ports(bridge).is_empty()),
        "veth left on {bridge}: {:?}",
        bridge_ports(bridge)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_up_and_down_timing() {
    let Some(mut f) = fixture("sandbox_up_and_down_timing").await else {
        return;
    };
    let net = f.network("sbx-t", false, None).await;
    let bridge = bridge_of(&net);
    let mut ups = Vec::new();
    let mut downs = Vec::new();
    for i in 0..20 {
        let r = request(&format!("sbx-t{i}"), vec![on(&net)]);
        let t = Instant::now();
        let s = f.nets.sandbox_up(&r).await.expect("up");
        ups.push(t.elapsed());
        assert_eq!(s.endpoints.len(), 1);
        let t = Instant::now();
        f.nets.sandbox_down(&r.container_id).await;
        downs.push(t.elapsed());
    }
    ups.sort();
    downs.sort();
    eprintln!(
        "timing: sandbox_up median {:?} (min {:?}, max {:?}); sandbox_down median {:?} (min {:?}, max {:?}); 20 runs, one user network with DNS, no ports",
        ups[10], ups[0], ups[19], downs[10], downs[0], downs[19]
    );
    assert!(
        eventually(|| bridge_ports(&bridge).is_empty()),
        "veths left"
    );
    f.nets.remove(&net).await.expect("remove network");
    f.nets.shutdown().await;
}
