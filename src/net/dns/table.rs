//! The name table: every endpoint's names and addresses, per network, and the two lookups
//! the server makes for an asking container (forward: name → addresses; reverse: address →
//! container name), both limited to the networks the asker has an endpoint on.
//!
//! Names are kept lower-case without a trailing dot, so `Web.`, `web` and `WEB` are one
//! name. Qualified names (`web.mynet`) are not known yet: they are forwarded.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::DnsEndpoint;

/// One endpoint as the table keeps it.
#[derive(Debug)]
struct Entry {
    /// The container name as given (the first of `DnsEndpoint::names`), for PTR answers.
    container_name: Option<String>,
    /// Normalized names (lower-case, no trailing dot), no duplicates.
    names: Vec<String>,
    addrs: Vec<IpAddr>,
}

/// One network's endpoints, with an index from name to the containers answering to it.
#[derive(Debug, Default)]
struct Network {
    /// BTreeMap so that the order of addresses of several endpoints is stable (the
    /// rotation then really cycles).
    endpoints: BTreeMap<String, Entry>,
    names: HashMap<String, BTreeSet<String>>,
}

/// All networks' names.
#[derive(Debug, Default)]
pub(super) struct NameTable {
    networks: BTreeMap<String, Network>,
}

/// Lower-case, without the trailing dot: the form names are compared in.
pub(super) fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl NameTable {
    /// Adds or replaces the endpoint (`network_id`, `container_id`).
    pub(super) fn add(&mut self, endpoint: DnsEndpoint) {
        self.remove(&endpoint.network_id, &endpoint.container_id);
        let mut names: Vec<String> = Vec::with_capacity(endpoint.names.len());
        for name in endpoint.names.iter().map(|n| normalize(n)) {
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        let mut addrs = Vec::with_capacity(endpoint.addrs.len());
        for addr in endpoint.addrs {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        let container_name = endpoint
            .names
            .first()
            .map(|n| n.trim_end_matches('.').to_string())
            .filter(|n| !n.is_empty());
        let network = self.networks.entry(endpoint.network_id).or_default();
        for name in &names {
            network
                .names
                .entry(name.clone())
                .or_default()
                .insert(endpoint.container_id.clone());
        }
        network.endpoints.insert(
            endpoint.container_id,
            Entry {
                container_name,
                names,
                addrs,
            },
        );
    }

    /// Removes the endpoint; absent is fine. An emptied network is forgotten.
    pub(super) fn remove(&mut self, network_id: &str, container_id: &str) {
        let Some(network) = self.networks.get_mut(network_id) else {
            return;
        };
        if let Some(entry) = network.endpoints.remove(container_id) {
            for name in &entry.names {
                if let Some(holders) = network.names.get_mut(name) {
                    holders.remove(container_id);
                    if holders.is_empty() {
                        network.names.remove(name);
                    }
                }
            }
        }
        if network.endpoints.is_empty() {
            self.networks.remove(network_id);
        }
    }

    /// The networks `asker` has an endpoint on.
    fn networks_of<'a>(&'a self, asker: &'a str) -> impl Iterator<Item = &'a Network> + 'a {
        self.networks
            .values()
            .filter(move |n| n.endpoints.contains_key(asker))
    }

    /// Every address (both families) of the endpoints answering to `name` on the asker's
    /// networks, in a stable order, without duplicates; `None` when no endpoint answers to
    /// the name (an endpoint without addresses still makes the name known).
    pub(super) fn lookup(&self, asker: &str, name: &str) -> Option<Vec<IpAddr>> {
        let name = normalize(name);
        let mut found = false;
        let mut addrs = Vec::new();
        for network in self.networks_of(asker) {
            let Some(holders) = network.names.get(&name) else {
                continue;
            };
            for holder in holders {
                found = true;
                if let Some(entry) = network.endpoints.get(holder) {
                    for addr in &entry.addrs {
                        if !addrs.contains(addr) {
                            addrs.push(*addr);
                        }
                    }
                }
            }
        }
        found.then_some(addrs)
    }

    /// The container name of the endpoint holding `addr` on the asker's networks.
    pub(super) fn reverse(&self, asker: &str, addr: IpAddr) -> Option<String> {
        self.networks_of(asker)
            .flat_map(|n| n.endpoints.values())
            .find(|e| e.addrs.contains(&addr))
            .and_then(|e| e.container_name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(net: &str, id: &str, names: &[&str], addrs: &[&str]) -> DnsEndpoint {
        DnsEndpoint {
            network_id: net.into(),
            container_id: id.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn table() -> NameTable {
        let mut t = NameTable::default();
        t.add(endpoint("n1", "c1", &["Web", "www"], &["10.0.0.2"]));
        t.add(endpoint(
            "n1",
            "c2",
            &["web-2", "www"],
            &["10.0.0.3", "fd00::3"],
        ));
        t.add(endpoint("n1", "asker", &["client"], &["10.0.0.9"]));
        t.add(endpoint("n2", "c3", &["db"], &["10.1.0.2"]));
        t
    }

    #[test]
    fn names_are_case_insensitive_and_dot_free() {
        let t = table();
        let want = Some(vec!["10.0.0.2".parse().unwrap()]);
        assert_eq!(t.lookup("asker", "web"), want);
        assert_eq!(t.lookup("asker", "WEB."), want);
    }

    #[test]
    fn shared_alias_gives_every_address() {
        let t = table();
        let addrs = t.lookup("asker", "www").unwrap();
        assert_eq!(addrs.len(), 3, "{addrs:?}");
    }

    #[test]
    fn other_networks_are_invisible() {
        let t = table();
        assert_eq!(t.lookup("asker", "db"), None);
        assert_eq!(t.lookup("c3", "db").unwrap().len(), 1);
        assert_eq!(t.lookup("nobody", "web"), None);
    }

    #[test]
    fn replace_and_remove_take_effect() {
        let mut t = table();
        t.add(endpoint("n1", "c1", &["web"], &["10.0.0.7"]));
        assert_eq!(
            t.lookup("asker", "web"),
            Some(vec!["10.0.0.7".parse().unwrap()])
        );
        t.remove("n1", "c1");
        assert_eq!(t.lookup("asker", "web"), None);
        t.remove("n1", "c1");
        t.remove("nonet", "c1");
        t.remove("n2", "c3");
        assert_eq!(t.lookup("c3", "db"), None);
    }

    #[test]
    fn reverse_gives_the_container_name() {
        let t = table();
        assert_eq!(
            t.reverse("asker", "fd00::3".parse().unwrap()).as_deref(),
            Some("web-2")
        );
        assert_eq!(t.reverse("asker", "10.1.0.2".parse().unwrap()), None);
    }
}
