//! The crate-internal API the sandbox side uses: views, address allocation, endpoint
//! records, persistence across a reopen, reconciliation. Runs without root (bridge
//! failures at open are only logged); as root the bridges made are removed by the guard.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::*;
use crate::daemon::events::EventBus;

struct Guard {
    nets: Option<Arc<Networks>>,
    dir: tempfile::TempDir,
    octet: u8,
}

fn config(octet: u8) -> FileConfig {
    serde_json::from_str(&format!(
        r#"{{"default-address-pools":[{{"base":"10.{octet}.0.0/16","size":24}}]}}"#
    ))
    .expect("config")
}

impl Guard {
    async fn open() -> Guard {
        let mut b = [0u8; 1];
        getrandom::getrandom(&mut b).expect("random");
        let octet = 100 + b[0] % 150;
        let dir = tempfile::tempdir().expect("tempdir");
        let nets = Networks::open(dir.path(), &config(octet), Arc::new(EventBus::new()))
            .await
            .expect("open");
        Guard {
            nets: Some(nets),
            dir,
            octet,
        }
    }

    fn nets(&self) -> &Networks {
        self.nets.as_ref().expect("open")
    }

    async fn reopen(&mut self) {
        if let Some(n) = self.nets.take() {
            n.shutdown().await;
        }
        let nets = Networks::open(
            self.dir.path(),
            &config(self.octet),
            Arc::new(EventBus::new()),
        )
        .await
        .expect("reopen");
        self.nets = Some(nets);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(nets) = self.nets.take() {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    for n in nets.list(&BTreeMap::new()).unwrap_or_default() {
                        for c in nets
                            .lock()
                            .get(&n.id)
                            .map(|r| r.endpoints.keys().cloned().collect::<Vec<_>>())
                            .unwrap_or_default()
                        {
                            nets.remove_endpoint(&n.id, &c);
                        }
                        let _ = nets.remove(&n.id).await;
                    }
                    nets.shutdown().await;
                })
            });
        }
    }
}

/// A user network record put straight into the table (no kernel needed).
fn insert_user_network(nets: &Networks, name: &str, subnet: &str) -> String {
    let id = random_id().expect("id");
    let pool =
        crate::net::ipam::SubnetPool::from_user(subnet, "", "", &BTreeMap::new()).expect("subnet");
    let record = NetworkRecord {
        id: id.clone(),
        name: name.into(),
        driver: "bridge".into(),
        created: now_rfc3339(),
        bridge: bridge_name(&id),
        mtu: 1500,
        subnets: vec![pool],
        ..NetworkRecord::default()
    };
    nets.lock().insert(id.clone(), record);
    nets.persist_endpoints(&id);
    id
}

fn endpoint(network_id: &str, alloc: &Allocation) -> EndpointState {
    EndpointState {
        network_id: network_id.into(),
        network_name: "n".into(),
        endpoint_id: "e".repeat(64),
        interface: "eth0".into(),
        host_veth: "veth1234567".into(),
        ipv4: alloc.ipv4,
        gateway: alloc.gateway4,
        mac: "02:42:0a:00:00:02".into(),
        ..EndpointState::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_and_static_rules_follow_docker() {
    let g = Guard::open().await;
    let nets = g.nets();
    let view = nets.network_view("bridge").expect("view");
    assert!(view.is_default_bridge && !view.dns);
    assert_eq!(view.bridge, format!("br-{}", &view.id[..12]));
    assert_eq!(view.mtu, 1500);
    assert_eq!(nets.network_view("none").expect("none").driver, "null");
    let e = nets
        .allocate_addresses(&view.id, "c1", Some("10.1.1.1".parse().unwrap()), None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "user specified IP address is supported on user defined networks only"
    );
    let a = nets
        .allocate_addresses(&view.id, "c1", None, None)
        .expect("auto");
    assert_eq!(
        a.ipv4.map(|n| n.to_string()),
        Some(format!("10.{}.0.2/24", g.octet))
    );
    assert_eq!(
        a.gateway4,
        Some(format!("10.{}.0.1", g.octet).parse().unwrap())
    );
    let host = nets.network_view("host").expect("host");
    assert_eq!(
        nets.allocate_addresses(&host.id, "c1", None, None).unwrap(),
        Allocation::default()
    );
    nets.release_addresses(&view.id, "c1");
    assert_eq!(nets.netns_dir(), g.dir.path().join("network/netns"));
    assert!(nets.netns_dir().is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocations_and_endpoints_persist_and_reconcile() {
    let mut g = Guard::open().await;
    let subnet = format!("10.{}.200.0/24", g.octet);
    let id = insert_user_network(g.nets(), "app", &subnet);
    let nets = g.nets();
    assert!(nets.network_view("app").expect("view").dns);
    let a = nets
        .allocate_addresses(
            &id,
            "c1",
            Some(format!("10.{}.200.9", g.octet).parse().unwrap()),
            None,
        )
        .expect("static");
    assert_eq!(
        a.ipv4.unwrap().to_string(),
        format!("10.{}.200.9/24", g.octet)
    );
    let taken = nets
        .allocate_addresses(
            &id,
            "c2",
            Some(format!("10.{}.200.9", g.octet).parse().unwrap()),
            None,
        )
        .unwrap_err();
    assert_eq!(taken.to_string(), "Address already in use");
    let outside = nets
        .allocate_addresses(&id, "c2", Some("192.0.2.1".parse().unwrap()), None)
        .unwrap_err();
    assert!(outside.to_string().starts_with("Invalid address 192.0.2.1"));
    let b = nets
        .allocate_addresses(&id, "c2", None, None)
        .expect("auto");
    nets.add_endpoint("/one", "c1", &endpoint(&id, &a));
    nets.add_endpoint("two", "c2", &endpoint(&id, &b));
    let shown = nets.inspect("app").expect("inspect");
    assert_eq!(shown.containers["c1"].name, "one");
    assert_eq!(
        shown.containers["c1"].ipv4_address,
        format!("10.{}.200.9/24", g.octet)
    );
    let e = nets.remove("app").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("error while removing network: network app id {id} has active endpoints")
    );

    g.reopen().await;
    let nets = g.nets();
    assert_eq!(nets.endpoints_of("c1").len(), 1);
    // The address survived the restart: nobody else gets it.
    let c3 = nets
        .allocate_addresses(
            &id,
            "c3",
            Some(format!("10.{}.200.9", g.octet).parse().unwrap()),
            None,
        )
        .unwrap_err();
    assert_eq!(c3.to_string(), "Address already in use");
    std::fs::write(nets.netns_dir().join("gone"), b"").expect("stale pin");

    nets.reconcile(&["c1".to_string()]).await;
    assert!(!nets.netns_dir().join("gone").exists(), "stale pin kept");
    assert_eq!(nets.endpoints_of("c1").len(), 1);
    assert!(nets.endpoints_of("c2").is_empty());
    let view = nets.inspect("app").expect("inspect");
    assert_eq!(view.containers.len(), 1);
    let held: Vec<IpAddr> = nets.lock()[&id].subnets[0]
        .allocated
        .values()
        .copied()
        .collect();
    assert_eq!(
        held,
        [format!("10.{}.200.9", g.octet).parse::<IpAddr>().unwrap()]
    );
    nets.remove_endpoint(&id, "c1");
    nets.release_addresses(&id, "c1");
    assert!(nets.endpoints_of("c1").is_empty());
}
