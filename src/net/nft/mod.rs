//! Kernel NAT and filtering through nftables over netlink: one table per daemon (named
//! after it, so two daemons never touch each other's rules) with masquerading of each
//! bridge network's outbound traffic, the `internal` networks' drop rules, and DNAT for
//! published ports. Deleting the table removes everything.
//!
//! One `inet` table (kernel ≥ 5.2 does NAT in inet) with base chains `prerouting`,
//! `output`, `postrouting` (nat) and `forward` (filter, policy accept). Messages are written
//! by hand ([`netlink`], [`attr`]); rule handles echoed by the kernel are kept in memory so
//! each rule is deleted precisely. Blocking calls: the daemon runs them on blocking threads.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;

use anyhow::Context;
use ipnet::IpNet;

use super::ports::PortMapping;

mod attr;
mod netlink;
mod rules;

use attr::Attrs;
use netlink::{Msg, Nfnl, MSG_DELRULE, MSG_DELTABLE, MSG_NEWCHAIN, MSG_NEWRULE, MSG_NEWTABLE};

/// NFPROTO_INET: the table serves IPv4 and IPv6.
const FAMILY_INET: u8 = 1;

// enum nft_table_attributes, nft_chain_attributes, nft_hook_attributes, nft_rule_attributes
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;

/// (name, type, hook, priority): nat at Docker's/iptables' priorities, filter at 0.
const CHAINS: [(&str, &str, u32, i32); 4] = [
    ("prerouting", "nat", 0, -100),
    ("output", "nat", 3, -100),
    ("postrouting", "nat", 4, 100),
    ("forward", "filter", 2, 0),
];

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum RuleKey {
    Network(String, IpNet),
    Dnat(PortMapping, IpAddr),
}

pub struct Firewall {
    table: String,
    nl: Mutex<Nfnl>,
    /// The rules each network or DNAT owns: (chain, handle).
    rules: Mutex<HashMap<RuleKey, Vec<(&'static str, u64)>>>,
}

impl Firewall {
    /// Opens (creating it fresh, dropping a stale one left by a crash) table `table`;
    /// `None` when nftables is not available here (the proxy alone publishes then).
    pub fn open(table: &str) -> anyhow::Result<Option<Firewall>> {
        let mut nl = match Nfnl::open() {
            Ok(nl) => nl,
            Err(e) => {
                tracing::warn!("nftables unavailable (netlink: {e}); ports use the proxy only");
                return Ok(None);
            }
        };
        match nl.batch(FAMILY_INET, vec![table_msg(MSG_DELTABLE, table)]) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc_enoent()) => {}
            Err(e) if is_unavailable(&e) => {
                tracing::warn!("nftables unavailable ({e}); ports use the proxy only");
                return Ok(None);
            }
            Err(e) => return Err(e).with_context(|| format!("deleting nftables table {table}")),
        }
        let mut msgs = vec![table_msg(MSG_NEWTABLE, table)];
        for (name, kind, hook, prio) in CHAINS {
            let mut a = Attrs::default();
            a.put_str(NFTA_CHAIN_TABLE, table)
                .put_str(NFTA_CHAIN_NAME, name)
                .nest(NFTA_CHAIN_HOOK, |h| {
                    h.put_be32(NFTA_HOOK_HOOKNUM, hook)
                        .put_be32(NFTA_HOOK_PRIORITY, prio as u32);
                })
                .put_be32(NFTA_CHAIN_POLICY, 1) // NF_ACCEPT
                .put_str(NFTA_CHAIN_TYPE, kind);
            msgs.push(Msg {
                kind: MSG_NEWCHAIN,
                flags: netlink::NLM_F_CREATE,
                attrs: a,
            });
        }
        match nl.batch(FAMILY_INET, msgs) {
            Ok(_) => {}
            Err(e) if is_unavailable(&e) => {
                tracing::warn!("nftables NAT unavailable ({e}); ports use the proxy only");
                return Ok(None);
            }
            Err(e) => return Err(e).with_context(|| format!("creating nftables table {table}")),
        }
        Ok(Some(Firewall {
            table: table.to_string(),
            nl: Mutex::new(nl),
            rules: Mutex::new(HashMap::new()),
        }))
    }

    /// The table's name (`nft list table inet <name>`).
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Masquerade traffic from `subnet` leaving through another interface than `bridge`
    /// (none for `internal`), and for `internal` networks drop everything forwarded in or
    /// out of the bridge. Turns on `net.ipv4.ip_forward` when it is off.
    pub fn add_network(&self, bridge: &str, subnet: IpNet, internal: bool) -> anyhow::Result<()> {
        let key = RuleKey::Network(bridge.to_string(), subnet);
        let rules = if internal {
            vec![
                ("forward", rules::internal_out(bridge)),
                ("forward", rules::internal_in(bridge)),
            ]
        } else {
            enable_forwarding(subnet)?;
            vec![("postrouting", rules::masquerade(bridge, subnet))]
        };
        self.add_rules(key, rules)
            .with_context(|| format!("adding nftables rules for {bridge} ({subnet})"))
    }

    pub fn remove_network(&self, bridge: &str, subnet: IpNet) -> anyhow::Result<()> {
        self.remove_rules(&RuleKey::Network(bridge.to_string(), subnet))
            .with_context(|| format!("removing nftables rules for {bridge} ({subnet})"))
    }

    /// DNAT of `mapping` (its bound host port) to `container_ip` for traffic not from
    /// loopback (the proxy serves loopback).
    pub fn add_dnat(&self, mapping: &PortMapping, container_ip: IpAddr) -> anyhow::Result<()> {
        if mapping.host_ip.is_ipv4() != container_ip.is_ipv4() {
            return Ok(()); // NAT cannot cross families: the proxy alone serves that binding
        }
        let key = RuleKey::Dnat(mapping.clone(), container_ip);
        let dnat = rules::dnat(mapping, container_ip);
        let rules = vec![
            ("prerouting", dnat.clone()),
            ("output", dnat),
            ("postrouting", rules::hairpin(mapping, container_ip)),
        ];
        self.add_rules(key, rules).with_context(|| {
            format!(
                "adding DNAT {}:{} to {container_ip}:{}",
                mapping.host_ip, mapping.host_port, mapping.container_port
            )
        })
    }

    pub fn remove_dnat(&self, mapping: &PortMapping, container_ip: IpAddr) -> anyhow::Result<()> {
        self.remove_rules(&RuleKey::Dnat(mapping.clone(), container_ip))
            .with_context(|| {
                format!(
                    "removing DNAT {}:{} to {container_ip}:{}",
                    mapping.host_ip, mapping.host_port, mapping.container_port
                )
            })
    }

    /// Deletes the whole table (network removal of the last network, tests).
    pub fn delete(self) -> anyhow::Result<()> {
        let mut nl = self.nl.lock().unwrap_or_else(|p| p.into_inner());
        match nl.batch(FAMILY_INET, vec![table_msg(MSG_DELTABLE, &self.table)]) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc_enoent()) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting nftables table {}", self.table)),
        }
    }

    fn add_rules(&self, key: RuleKey, rules: Vec<(&'static str, attr::Exprs)>) -> io::Result<()> {
        let mut owned = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        if owned.contains_key(&key) {
            return Ok(()); // already there: the daemon may repeat itself after a restart
        }
        let chains: Vec<&'static str> = rules.iter().map(|(c, _)| *c).collect();
        let msgs = rules
            .into_iter()
            .map(|(chain, exprs)| {
                let mut a = Attrs::default();
                a.put_str(NFTA_RULE_TABLE, &self.table)
                    .put_str(NFTA_RULE_CHAIN, chain)
                    .nest(NFTA_RULE_EXPRESSIONS, |e| {
                        e.0.extend_from_slice(&(exprs.0).0)
                    });
                Msg {
                    kind: MSG_NEWRULE,
                    flags: netlink::NLM_F_CREATE | netlink::NLM_F_APPEND,
                    attrs: a,
                }
            })
            .collect();
        let handles = self
            .nl
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .batch(FAMILY_INET, msgs)?;
        let handles = chains
            .into_iter()
            .zip(handles)
            .filter_map(|(c, h)| h.map(|h| (c, h)))
            .collect();
        owned.insert(key, handles);
        Ok(())
    }

    fn remove_rules(&self, key: &RuleKey) -> io::Result<()> {
        let mut owned = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let Some(handles) = owned.remove(key) else {
            return Ok(());
        };
        if handles.is_empty() {
            return Ok(());
        }
        let msgs = handles
            .iter()
            .map(|(chain, handle)| {
                let mut a = Attrs::default();
                a.put_str(NFTA_RULE_TABLE, &self.table)
                    .put_str(NFTA_RULE_CHAIN, chain)
                    .put_be64(NFTA_RULE_HANDLE, *handle);
                Msg {
                    kind: MSG_DELRULE,
                    flags: 0,
                    attrs: a,
                }
            })
            .collect();
        let mut nl = self.nl.lock().unwrap_or_else(|p| p.into_inner());
        match nl.batch(FAMILY_INET, msgs) {
            Ok(_) => Ok(()),
            // Gone already (someone flushed the table): nothing left to remove.
            Err(e) if e.raw_os_error() == Some(libc_enoent()) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn table_msg(kind: u16, table: &str) -> Msg {
    let mut a = Attrs::default();
    a.put_str(NFTA_TABLE_NAME, table);
    Msg {
        kind,
        flags: if kind == MSG_NEWTABLE {
            netlink::NLM_F_CREATE
        } else {
            0
        },
        attrs: a,
    }
}

fn libc_enoent() -> i32 {
    nix::errno::Errno::ENOENT as i32
}

/// Errors meaning "no nftables (or no NAT) here" rather than a bug.
fn is_unavailable(e: &io::Error) -> bool {
    use nix::errno::Errno;
    [
        Errno::EPERM,
        Errno::EOPNOTSUPP,
        Errno::EPROTONOSUPPORT,
        Errno::EAFNOSUPPORT,
    ]
    .iter()
    .any(|n| e.raw_os_error() == Some(*n as i32))
}

/// Forwarding must be on for bridged containers to reach the outside.
fn enable_forwarding(subnet: IpNet) -> anyhow::Result<()> {
    let path = match subnet {
        IpNet::V4(_) => "/proc/sys/net/ipv4/ip_forward",
        IpNet::V6(_) => "/proc/sys/net/ipv6/conf/all/forwarding",
    };
    let now = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    if now.trim() == "0" {
        std::fs::write(path, "1").with_context(|| format!("enabling forwarding in {path}"))?;
    }
    Ok(())
}
