//! The embedded DNS server for user-defined networks: every container gets it at
//! `127.0.0.11:53` (UDP and TCP, sockets made inside the container's namespace), answering
//! container names, aliases and hostnames on the networks the asking container shares with
//! them (A, AAAA, PTR; every matching address, rotated per answer), forwarding other names
//! to the host's resolvers.
//!
//! CONTRACT (signatures fixed; the DNS helper implements them; it may split this file into
//! a `dns/` directory).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::netns::NetNs;

/// The names every container answers to on a network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsEndpoint {
    pub network_id: String,
    pub container_id: String,
    /// Container name, network aliases, hostname (when it differs), short ID.
    pub names: Vec<String>,
    pub addrs: Vec<IpAddr>,
}

/// The name table and the upstream resolvers, shared by all containers' servers.
pub struct DnsService {
    _private: (),
}

/// Serving for one container; dropping it closes its sockets.
pub struct DnsGuard {
    _private: (),
}

impl DnsService {
    /// `upstreams`: where other names go (the host's `resolv.conf` nameservers, port 53,
    /// unless the daemon config names others).
    pub fn new(upstreams: Vec<SocketAddr>) -> Arc<DnsService> {
        let _ = upstreams;
        Arc::new(DnsService { _private: () })
    }

    /// Adds or replaces the endpoint (`network_id`, `container_id`); answers change at once.
    pub fn add_endpoint(&self, endpoint: DnsEndpoint) {
        let _ = endpoint;
    }

    /// Removes the endpoint; absent is fine.
    pub fn remove_endpoint(&self, network_id: &str, container_id: &str) {
        let _ = (network_id, container_id);
    }

    /// Serves `127.0.0.11:53` UDP and TCP inside `ns` for `container_id`: names on the
    /// networks where that container has an endpoint. Needs a tokio runtime.
    pub async fn serve_in(
        self: &Arc<Self>,
        ns: &NetNs,
        container_id: &str,
    ) -> anyhow::Result<DnsGuard> {
        let _ = (ns, container_id);
        anyhow::bail!("not implemented yet")
    }
}
