//! The network manager on a real kernel: predefined networks, user bridge networks with
//! their Linux bridges and gateway addresses, list filters, Docker's error texts, records
//! surviving a reopen. Each test has its own state root and pools in a random 10.x.0.0/16,
//! so parallel tests never share a subnet; a Drop guard removes every network and bridge.
//!
//! Needs root (bridges); prints a LOUD SKIPPED line otherwise.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use berth::api::network_types::{Ipam, IpamConfig, NetworkCreateRequest};
use berth::daemon::config::FileConfig;
use berth::daemon::events::EventBus;
use berth::daemon::networks::{NetworkError, Networks};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn skip_unless_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("!!!!! SKIPPED ({test}: needs root to make bridges) !!!!!");
    true
}

/// A random second octet for this test's pools (10.100-10.249).
fn random_octet() -> u8 {
    let mut b = [0u8; 1];
    getrandom::getrandom(&mut b).expect("random");
    100 + b[0] % 150
}

fn config(octet: u8) -> FileConfig {
    serde_json::from_str(&format!(
        r#"{{"default-address-pools":[{{"base":"10.{octet}.0.0/16","size":24}}]}}"#
    ))
    .expect("config")
}

/// The link's IPv4 addresses with prefix, through `ip` (test-side only).
fn addresses_of(link: &str) -> Option<Vec<String>> {
    let out = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", link])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(
        text.lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet")?;
                words.next().map(str::to_owned)
            })
            .collect(),
    )
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Removes what a test made, even when it fails half way: every user network, then the
/// idle bridges (the default one) through `shutdown`.
struct Guard {
    nets: Option<Arc<Networks>>,
    _dir: tempfile::TempDir,
}

impl Guard {
    async fn open(octet: u8) -> Guard {
        let dir = tempfile::tempdir().expect("tempdir");
        let nets = Networks::open(dir.path(), &config(octet), Arc::new(EventBus::new()))
            .await
            .expect("open");
        Guard {
            nets: Some(nets),
            _dir: dir,
        }
    }

    fn nets(&self) -> &Arc<Networks> {
        self.nets.as_ref().expect("open")
    }

    async fn reopen(&mut self, octet: u8) {
        if let Some(n) = self.nets.take() {
            n.shutdown().await;
        }
        let nets = Networks::open(self._dir.path(), &config(octet), Arc::new(EventBus::new()))
            .await
            .expect("reopen");
        self.nets = Some(nets);
    }

    async fn clean(nets: &Networks) {
        if let Ok(all) = nets.list(&BTreeMap::new()) {
            for n in all {
                let _ = nets.remove(&n.id).await;
            }
        }
        nets.shutdown().await;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(nets) = self.nets.take() {
            // The tests run on a multi-thread runtime, so blocking here is allowed and the
            // netlink connection task keeps running.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(Guard::clean(&nets))
            });
        }
    }
}

fn create_request(name: &str) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: name.into(),
        driver: "bridge".into(),
        ..NetworkCreateRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predefined_networks_exist_and_survive_reopen() {
    if skip_unless_root("predefined_networks_exist_and_survive_reopen") {
        return;
    }
    let octet = random_octet();
    let mut g = Guard::open(octet).await;
    let all = g.nets().list(&BTreeMap::new()).expect("list");
    let names: Vec<&str> = all.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["bridge", "host", "none"]);
    for n in &all {
        assert_eq!(n.id.len(), 64, "{n:?}");
        assert!(!n.created.is_empty(), "{n:?}");
        assert_eq!(n.scope, "local");
    }
    let bridge = g.nets().inspect("bridge").expect("bridge");
    assert_eq!(bridge.driver, "bridge");
    assert_eq!(
        bridge.options["com.docker.network.bridge.default_bridge"],
        "true"
    );
    let device = bridge.options["com.docker.network.bridge.name"].clone();
    assert_eq!(device, format!("br-{}", &bridge.id[..12]));
    assert_eq!(bridge.ipam.config[0].subnet, format!("10.{octet}.0.0/24"));
    assert_eq!(bridge.ipam.config[0].gateway, format!("10.{octet}.0.1"));
    assert!(link_exists(&device), "default bridge {device} missing");
    if let Some(addrs) = addresses_of(&device) {
        assert_eq!(addrs, [format!("10.{octet}.0.1/24")]);
    }
    assert_eq!(g.nets().inspect("host").expect("host").driver, "host");
    assert_eq!(g.nets().inspect("none").expect("none").driver, "null");
    assert!(g.nets().inspect("none").unwrap().ipam.config.is_empty());

    let created = g
        .nets()
        .create(create_request("keep"))
        .await
        .expect("create");
    g.reopen(octet).await;
    let again = g.nets().list(&BTreeMap::new()).expect("list");
    let ids = |v: &[berth::api::network_types::NetworkResource]| -> Vec<String> {
        v.iter().map(|n| n.id.clone()).collect()
    };
    let mut before = ids(&all);
    before.push(created.id.clone());
    before.sort();
    let mut after = ids(&again);
    after.sort();
    assert_eq!(before, after);
    // The bridges are back after the reopen (shutdown deleted the idle ones).
    assert!(link_exists(&device));
    let keep = g.nets().inspect("keep").expect("keep");
    assert!(link_exists(
        &keep
            .options
            .get("com.docker.network.bridge.name")
            .cloned()
            .unwrap_or_else(|| format!("br-{}", &keep.id[..12]))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_inspect_list_and_remove_a_bridge_network() {
    if skip_unless_root("create_inspect_list_and_remove_a_bridge_network") {
        return;
    }
    let octet = random_octet();
    let g = Guard::open(octet).await;
    let nets = g.nets();
    let mut req = create_request("front");
    req.labels.insert("tier".into(), "web".into());
    req.internal = true;
    let id = nets.create(req).await.expect("create").id;
    assert_eq!(id.len(), 64);
    let device = format!("br-{}", &id[..12]);

    let by_name = nets.inspect("front").expect("by name");
    assert_eq!(by_name.id, id);
    assert_eq!(nets.inspect(&id[..10]).expect("by prefix").name, "front");
    assert!(by_name.internal);
    assert!(by_name.containers.is_empty());
    // The default bridge took 10.x.0.0/24, so the next subnet of the pool is ours.
    assert_eq!(by_name.ipam.config[0].subnet, format!("10.{octet}.1.0/24"));
    assert!(link_exists(&device), "bridge {device} missing");
    if let Some(addrs) = addresses_of(&device) {
        assert_eq!(addrs, [format!("10.{octet}.1.1/24")]);
    }
    assert_eq!(
        nets.lookup("front").expect("lookup"),
        (id.clone(), "front".to_string(), "bridge".to_string())
    );

    let filters = |k: &str, v: &str| BTreeMap::from([(k.to_string(), vec![v.to_string()])]);
    let names = |f| -> Vec<String> {
        nets.list(&f)
            .expect("list")
            .into_iter()
            .map(|n| n.name)
            .collect()
    };
    assert_eq!(names(filters("label", "tier=web")), ["front"]);
    assert_eq!(names(filters("type", "custom")), ["front"]);
    assert_eq!(
        names(filters("type", "builtin")),
        ["bridge", "host", "none"]
    );
    assert_eq!(names(filters("name", "ron")), ["front"]);
    assert_eq!(names(filters("dangling", "true")), ["front"]);

    let dup = nets.create(create_request("front")).await.unwrap_err();
    assert!(matches!(dup, NetworkError::Conflict(_)));
    assert_eq!(dup.to_string(), "network with name front already exists");

    nets.remove("front").await.expect("remove");
    assert!(!link_exists(&device), "bridge {device} left behind");
    let gone = nets.inspect("front").unwrap_err();
    assert!(matches!(gone, NetworkError::NotFound(_)));
    assert_eq!(gone.to_string(), "network front not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_use_dockers_texts() {
    if skip_unless_root("errors_use_dockers_texts") {
        return;
    }
    let octet = random_octet();
    let g = Guard::open(octet).await;
    let nets = g.nets();

    let e = nets.remove("bridge").await.unwrap_err();
    assert!(matches!(e, NetworkError::Forbidden(_)));
    assert_eq!(
        e.to_string(),
        "bridge is a pre-defined network and cannot be removed"
    );
    let mut host = create_request("h");
    host.driver = "host".into();
    assert_eq!(
        nets.create(host).await.unwrap_err().to_string(),
        "only one instance of \"host\" network is allowed"
    );
    let mut plugin = create_request("p");
    plugin.driver = "weave".into();
    assert!(matches!(
        nets.create(plugin).await.unwrap_err(),
        NetworkError::NotFound(_)
    ));

    // A user subnet with gateway and range, then one overlapping it.
    let mut user = create_request("user");
    user.ipam = Some(Ipam {
        config: vec![IpamConfig {
            subnet: format!("10.{octet}.128.0/20"),
            gateway: format!("10.{octet}.128.254"),
            ip_range: format!("10.{octet}.129.0/24"),
            ..IpamConfig::default()
        }],
        ..Ipam::default()
    });
    nets.create(user).await.expect("user subnet");
    let shown = nets.inspect("user").expect("inspect");
    assert_eq!(shown.ipam.config[0].gateway, format!("10.{octet}.128.254"));
    assert_eq!(
        shown.ipam.config[0].ip_range,
        format!("10.{octet}.129.0/24")
    );
    let mut clash = create_request("clash");
    clash.ipam = Some(Ipam {
        config: vec![IpamConfig {
            subnet: format!("10.{octet}.130.0/24"),
            ..IpamConfig::default()
        }],
        ..Ipam::default()
    });
    let e = nets.create(clash).await.unwrap_err();
    assert!(matches!(e, NetworkError::Forbidden(_)));
    assert_eq!(
        e.to_string(),
        "Pool overlaps with other one on this address space"
    );
    let mut bad_gw = create_request("badgw");
    bad_gw.ipam = Some(Ipam {
        config: vec![IpamConfig {
            subnet: "10.251.0.0/24".into(),
            gateway: "10.252.0.1".into(),
            ..IpamConfig::default()
        }],
        ..Ipam::default()
    });
    assert!(matches!(
        nets.create(bad_gw).await.unwrap_err(),
        NetworkError::Invalid(_)
    ));
    assert!(nets.inspect("clash").is_err() && nets.inspect("badgw").is_err());

    // Prune removes the unused user networks only.
    let pruned = nets.prune(&BTreeMap::new()).await.expect("prune");
    assert_eq!(pruned, ["user"]);
    assert_eq!(nets.list(&BTreeMap::new()).expect("list").len(), 3);
}
