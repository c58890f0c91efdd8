//! The kernel side of networking against the real kernel (root): pinned network
//! namespaces, bridges, veth pairs with the peer made inside the namespace, addresses,
//! routes, and teardown by removing the pin. Names are unique per test process
//! (`bt<pid hex>...`), subnets random in 10.200-250.x.0/24, and Drop guards remove every
//! bridge, veth and pin even when an assertion fails. Traffic goes only between the two
//! namespaces the test made.

mod support;

use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use berth::net::link::{self, Netlink, VethPlan};
use berth::net::netns::NetNs;
use ipnet::IpNet;

/// Removes what a test made, whatever happened.
#[derive(Default)]
struct Cleanup {
    links: Vec<String>,
    pins: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for pin in &self.pins {
            let _ = NetNs::remove(pin);
        }
        for name in &self.links {
            let _ = Command::new("ip")
                .args(["link", "del", name])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn ready(test: &str) -> bool {
    support::require_root(test)
        && support::require_tool("ip", test)
        && support::require_tool("nsenter", test)
        && support::require_tool("busybox", test)
}

/// A unique name from this process and `tag`, at most 15 bytes.
fn name(tag: &str) -> String {
    let name = format!("bt{:x}{tag}", std::process::id());
    assert!(name.len() <= 15, "{name} too long");
    name
}

/// A random /24 in 10.200.0.0-10.250.255.0.
fn random_subnet() -> [u8; 3] {
    let mut b = [0u8; 2];
    getrandom::getrandom(&mut b).expect("random bytes");
    [10, 200 + b[0] % 51, b[1]]
}

fn net(s: [u8; 3], host: u8) -> IpNet {
    format!("{}.{}.{}.{host}/24", s[0], s[1], s[2])
        .parse()
        .expect("address")
}

fn in_ns(pin: &Path, args: &[&str]) -> std::process::Output {
    Command::new("nsenter")
        .arg(format!("--net={}", pin.display()))
        .args(args)
        .output()
        .expect("nsenter runs")
}

/// Polls until `cond` holds (namespace teardown runs asynchronously in the kernel).
async fn eventually(mut cond: impl AsyncFnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_on_a_bridge_reach_each_other_and_vanish_with_their_pins() {
    if !ready("two_namespaces_on_a_bridge") {
        return;
    }
    let mut guard = Cleanup::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let bridge = name("br");
    guard.links.push(bridge.clone());
    let subnet = random_subnet();
    let gateway = net(subnet, 1);

    let host = Netlink::host().await.expect("host netlink");
    let t = Instant::now();
    let index = link::ensure_bridge(&host, &bridge, &[gateway], 1500)
        .await
        .expect("bridge");
    eprintln!("timing: ensure_bridge (create) {:?}", t.elapsed());
    let again = link::ensure_bridge(&host, &bridge, &[gateway], 1500)
        .await
        .expect("bridge again");
    assert_eq!(index, again, "ensure_bridge adopts the existing bridge");
    let shown = support::stdout_ok(
        "ip addr",
        &Command::new("ip")
            .args(["-o", "addr", "show", "dev", &bridge])
            .output()
            .unwrap(),
    );
    assert_eq!(shown.matches(&gateway.to_string()).count(), 1, "{shown}");

    let mut ends = Vec::new();
    for i in 1..=2u8 {
        let pin = dir.path().join(format!("ns{i}"));
        guard.pins.push(pin.clone());
        let host_name = name(&format!("v{i}"));
        guard.links.push(host_name.clone());
        let t = Instant::now();
        let ns = NetNs::create(&pin).expect("netns");
        let created = t.elapsed();
        let t = Instant::now();
        let nl = Netlink::in_netns(&ns).await.expect("netlink in netns");
        let connected = t.elapsed();
        let addr = net(subnet, 10 + i);
        let plan = VethPlan {
            host_name: host_name.clone(),
            bridge: bridge.clone(),
            peer_name: "eth0".into(),
            mac: [0x02, 0x42, 10, subnet[1], subnet[2], 10 + i],
            mtu: 1500,
            addrs: vec![addr],
            gateway: Some(gateway.addr()),
        };
        let t = Instant::now();
        link::plumb(&host, &ns, &nl, &plan).await.expect("plumb");
        eprintln!(
            "timing: netns create {created:?}, netlink in netns {connected:?}, plumb {:?}",
            t.elapsed()
        );
        ends.push((ns, nl, host_name, addr));
    }

    let (ns1, ..) = &ends[0];
    let shown = support::stdout_ok("ip addr in ns", &in_ns(ns1.path(), &["ip", "-o", "addr"]));
    assert!(
        shown.contains(&format!("eth0    inet {}", ends[0].3)),
        "{shown}"
    );
    assert!(
        shown.contains("lo    inet 127.0.0.1/8"),
        "lo is up: {shown}"
    );
    let links = support::stdout_ok("ip link in ns", &in_ns(ns1.path(), &["ip", "-o", "link"]));
    assert!(
        links.contains(&format!("link/ether 02:42:0a:{:02x}", subnet[1])),
        "{links}"
    );
    let routes = support::stdout_ok("ip route in ns", &in_ns(ns1.path(), &["ip", "route"]));
    assert!(
        routes.contains(&format!("default via {} dev eth0", gateway.addr())),
        "{routes}"
    );

    let routed = link::routed_subnets(&ends[0].1)
        .await
        .expect("routes in ns");
    assert_eq!(
        routed,
        vec![gateway.trunc()],
        "only the connected subnet, no default"
    );
    let routed = link::routed_subnets(&host).await.expect("host routes");
    assert!(routed.contains(&gateway.trunc()), "{routed:?}");
    assert!(
        routed.iter().all(|n| n.prefix_len() > 0),
        "no default routes"
    );

    let names = link::link_names(&host).await.expect("host links");
    for (_, _, host_name, _) in &ends {
        assert!(names.contains(host_name), "{host_name} in {names:?}");
    }
    let master = support::stdout_ok(
        "ip link",
        &Command::new("ip")
            .args(["-o", "link", "show", &ends[1].2])
            .output()
            .unwrap(),
    );
    assert!(master.contains(&format!("master {bridge}")), "{master}");
    assert!(
        master.contains("state UP") || master.contains(",UP"),
        "{master}"
    );

    let other = ends[1].3.addr().to_string();
    let ping = in_ns(ns1.path(), &["busybox", "ping", "-c1", "-W2", &other]);
    support::stdout_ok("ping across the bridge", &ping);

    // Teardown by removing the pins: the veths go with their namespaces.
    let mut host_names = Vec::new();
    for (ns, nl, host_name, _) in ends {
        drop(nl);
        let t = Instant::now();
        NetNs::remove(ns.path()).expect("remove pin");
        eprintln!("timing: netns remove {:?}", t.elapsed());
        NetNs::remove(ns.path()).expect("remove is idempotent");
        host_names.push(host_name);
    }
    let gone = eventually(async || {
        let names = link::link_names(&host).await.expect("links");
        host_names.iter().all(|n| !names.contains(n))
    })
    .await;
    assert!(gone, "veths left after removing their namespaces");

    link::delete_link(&host, &bridge)
        .await
        .expect("delete bridge");
    link::delete_link(&host, &bridge)
        .await
        .expect("absent is fine");
    let names = link::link_names(&host).await.expect("links");
    assert!(!names.contains(&bridge));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_namespace_is_entered_by_run_in_and_unmounted_by_remove() {
    if !ready("pinned_namespace") {
        return;
    }
    let mut guard = Cleanup::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let pin = dir.path().join("ns");
    guard.pins.push(pin.clone());
    let ns = NetNs::create(&pin).expect("create");
    let pinned = std::fs::metadata(&pin).expect("pin").ino();
    let host_ns = std::fs::metadata("/proc/self/ns/net")
        .expect("own ns")
        .ino();
    assert_ne!(pinned, host_ns, "a new namespace is pinned");
    let inside = ns
        .run_in(|| {
            std::fs::metadata("/proc/thread-self/ns/net")
                .map(|m| m.ino())
                .ok()
        })
        .expect("run_in");
    assert_eq!(inside, Some(pinned), "run_in enters the pinned namespace");
    assert_eq!(
        std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino(),
        host_ns,
        "the caller's thread stays where it was"
    );
    let lo = support::stdout_ok("ip link", &in_ns(&pin, &["ip", "-o", "link", "show", "lo"]));
    assert!(lo.contains("UP"), "lo up: {lo}");

    // A second create at the same path replaces the old pin with a fresh namespace.
    let ns = NetNs::create(&pin).expect("create again");
    assert_ne!(std::fs::metadata(&pin).unwrap().ino(), pinned);

    NetNs::remove(ns.path()).expect("remove");
    assert!(!pin.exists());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        !mounts.contains(&pin.display().to_string()),
        "pin unmounted"
    );
    NetNs::remove(&pin).expect("absent is fine");
    assert!(ns.open().is_err());
    let missing = NetNs::at(&pin).run_in(|| ());
    assert!(missing.is_err(), "run_in of a removed pin fails");
}

/// The addresses the test works with are IPv4 in 10/8: sanity of the helpers themselves.
#[test]
fn random_subnets_stay_in_the_test_range() {
    for _ in 0..100 {
        let s = random_subnet();
        assert!((200..=250).contains(&s[1]));
        assert!(matches!(net(s, 1).addr(), IpAddr::V4(a) if a.octets()[0] == 10));
    }
}
