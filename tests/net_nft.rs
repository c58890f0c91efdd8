//! nftables over netlink (root): a uniquely named table gets berth's chains, masquerade,
//! internal drop and DNAT rules, each checked with `nft -j list table`, removed precisely,
//! and the table leaves nothing behind.

use std::net::IpAddr;
use std::process::Command;

use berth::net::nft::Firewall;
use berth::net::ports::{PortMapping, Proto};

/// Deletes the table whatever happens to the test.
struct TableGuard(String);

impl Drop for TableGuard {
    fn drop(&mut self) {
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.0])
            .output();
    }
}

fn can_run() -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED (net_nft needs root) !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        return false;
    }
    if Command::new("nft").arg("--version").output().is_err() {
        eprintln!("SKIPPED (net_nft needs the nft CLI to inspect) !!!!!!!!!!!!!!!!!!!!!!!!!!!");
        return false;
    }
    true
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u32 {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).expect("getrandom");
    u32::from_ne_bytes(b) % 100_000
}

/// `nft list table inet <name>` as text (rules as nft prints them).
fn list(table: &str) -> String {
    let out = Command::new("nft")
        .args(["list", "table", "inet", table])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rule_count(table: &str) -> usize {
    let out = Command::new("nft")
        .args(["-j", "list", "table", "inet", table])
        .output()
        .expect("nft");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("nft -j json");
    v["nftables"]
        .as_array()
        .map(|a| a.iter().filter(|o| o.get("rule").is_some()).count())
        .unwrap_or(0)
}

fn tables() -> String {
    let out = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn table_rules_are_added_listed_and_removed() {
    if !can_run() {
        return;
    }
    let name = unique("berth-test");
    let _guard = TableGuard(name.clone());
    let fw = Firewall::open(&name)
        .expect("open")
        .expect("nftables available as root");
    let text = list(&name);
    for chain in ["prerouting", "output", "postrouting", "forward"] {
        assert!(text.contains(&format!("chain {chain}")), "{text}");
    }
    assert!(
        text.contains("type nat hook postrouting priority srcnat"),
        "{text}"
    );
    assert_eq!(rule_count(&name), 0);

    let bridge = "br-bt0123456";
    fw.add_network(bridge, "172.30.7.0/24".parse().unwrap(), false)
        .expect("masquerade");
    fw.add_network("br-bt-internal", "172.30.8.0/24".parse().unwrap(), true)
        .expect("internal");
    let mapping = PortMapping {
        proto: Proto::Tcp,
        host_ip: "0.0.0.0".parse().unwrap(),
        host_port: 18080,
        container_port: 80,
    };
    let cip: IpAddr = "172.30.7.2".parse().unwrap();
    fw.add_dnat(&mapping, cip).expect("dnat");
    let udp = PortMapping {
        proto: Proto::Udp,
        host_ip: "192.0.2.1".parse().unwrap(),
        host_port: 5353,
        container_port: 53,
    };
    fw.add_dnat(&udp, cip).expect("dnat udp");

    let text = list(&name);
    assert!(
        text.contains("ip saddr 172.30.7.0/24 oifname != \"br-bt0123456\" masquerade"),
        "{text}"
    );
    assert!(
        text.contains("iifname \"br-bt-internal\" oifname != \"br-bt-internal\" drop"),
        "{text}"
    );
    assert!(
        text.contains("oifname \"br-bt-internal\" iifname != \"br-bt-internal\" drop"),
        "{text}"
    );
    assert!(text.contains("fib daddr type local"), "{text}");
    assert!(
        text.contains("tcp dport 18080 dnat ip to 172.30.7.2:80"),
        "{text}"
    );
    assert!(
        text.contains("ip daddr 192.0.2.1 udp dport 5353 dnat ip to 172.30.7.2:53"),
        "{text}"
    );
    // masquerade 1 + internal 2 + (prerouting, output, hairpin) × 2
    assert_eq!(rule_count(&name), 9, "{text}");

    fw.remove_dnat(&mapping, cip).expect("remove dnat");
    assert_eq!(rule_count(&name), 6);
    assert!(!list(&name).contains("18080"));
    fw.remove_dnat(&udp, cip).expect("remove dnat");
    fw.remove_network(bridge, "172.30.7.0/24".parse().unwrap())
        .expect("remove network");
    fw.remove_network("br-bt-internal", "172.30.8.0/24".parse().unwrap())
        .expect("remove internal");
    assert_eq!(rule_count(&name), 0, "{}", list(&name));

    fw.delete().expect("delete");
    assert!(!tables().contains(&name), "{}", tables());
}

#[test]
fn open_replaces_a_stale_table() {
    if !can_run() {
        return;
    }
    let name = unique("berth-stale");
    let _guard = TableGuard(name.clone());
    let fw = Firewall::open(&name).expect("open").expect("available");
    fw.add_network("br-stale0", "172.30.9.0/24".parse().unwrap(), false)
        .expect("masquerade");
    assert_eq!(rule_count(&name), 1);
    // A crash: the rules stay in the kernel; the next daemon opens the table afresh.
    std::mem::forget(fw);
    let fw = Firewall::open(&name).expect("reopen").expect("available");
    assert_eq!(rule_count(&name), 0, "{}", list(&name));
    fw.delete().expect("delete");
    assert!(!tables().contains(&name));
}

#[test]
fn ipv6_masquerade_and_dnat() {
    if !can_run() {
        return;
    }
    let name = unique("berth-v6");
    let _guard = TableGuard(name.clone());
    let fw = Firewall::open(&name).expect("open").expect("available");
    fw.add_network("br-v6test", "fd00:b3:1::/64".parse().unwrap(), false)
        .expect("masquerade v6");
    let m = PortMapping {
        proto: Proto::Tcp,
        host_ip: "::".parse().unwrap(),
        host_port: 18081,
        container_port: 80,
    };
    fw.add_dnat(&m, "fd00:b3:1::2".parse().unwrap())
        .expect("dnat6");
    let text = list(&name);
    assert!(text.contains("ip6 saddr fd00:b3:1::/64"), "{text}");
    assert!(text.contains("dnat ip6 to [fd00:b3:1::2]:80"), "{text}");
    // A v4 container behind a `::` binding: the proxy only, no rule.
    fw.add_dnat(&m, "172.30.7.3".parse().unwrap())
        .expect("no-op");
    assert_eq!(rule_count(&name), 4, "{text}");
    fw.delete().expect("delete");
}
