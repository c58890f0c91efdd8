//! The embedded DNS server for user-defined networks: every container gets it at
//! `127.0.0.11:53` (UDP and TCP, sockets made inside the container's namespace), answering
//! container names, aliases and hostnames on the networks the asking container shares with
//! them (A, AAAA, PTR; every matching address, rotated per answer), forwarding other names
//! to the host's resolvers.
//!
//! Parts: [`table`] (the names), [`answer`] (one query → bytes or "forward"), [`forward`]
//! (upstreams), [`server`] (the per-container UDP and TCP loops). Not done yet: names
//! qualified by the network name (`web.mynet`), SRV records, Docker's `ndots`
//! handling and per-container upstreams (`--dns`): every container forwards to the
//! daemon-wide upstreams.

mod answer;
mod forward;
mod server;
mod table;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;

use super::netns::NetNs;

/// Where the server listens inside every container's namespace (Docker's address).
pub const DNS_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 11)), 53);

/// How long one upstream gets before the next is asked (Docker waits about as long).
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

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
    table: RwLock<table::NameTable>,
    upstreams: Vec<SocketAddr>,
    upstream_timeout: Duration,
    /// Bumped per local answer: where a multi-address answer starts (round robin).
    rotation: AtomicUsize,
}

/// Serving for one container; dropping it closes its sockets.
pub struct DnsGuard {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for DnsGuard {
    fn drop(&mut self) {
        // Aborting a loop drops its socket and its JoinSet, which aborts its own tasks.
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl DnsService {
    /// `upstreams`: where other names go (the host's `resolv.conf` nameservers, port 53,
    /// unless the daemon config names others).
    pub fn new(upstreams: Vec<SocketAddr>) -> Arc<DnsService> {
        DnsService::with_timeout(upstreams, UPSTREAM_TIMEOUT)
    }

    /// Like [`DnsService::new`] with another per-upstream timeout (tests use short ones).
    pub fn with_timeout(upstreams: Vec<SocketAddr>, upstream_timeout: Duration) -> Arc<Self> {
        Arc::new(DnsService {
            table: RwLock::new(table::NameTable::default()),
            upstreams,
            upstream_timeout,
            rotation: AtomicUsize::new(0),
        })
    }

    /// Adds or replaces the endpoint (`network_id`, `container_id`); answers change at once.
    pub fn add_endpoint(&self, endpoint: DnsEndpoint) {
        self.table
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(endpoint);
    }

    /// Removes the endpoint; absent is fine.
    pub fn remove_endpoint(&self, network_id: &str, container_id: &str) {
        self.table
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(network_id, container_id);
    }

    /// Serves `127.0.0.11:53` UDP and TCP inside `ns` for `container_id`: names on the
    /// networks where that container has an endpoint. Needs a tokio runtime.
    pub async fn serve_in(
        self: &Arc<Self>,
        ns: &NetNs,
        container_id: &str,
    ) -> anyhow::Result<DnsGuard> {
        let (udp, tcp) = ns
            .run_in(bind_std)
            .with_context(|| format!("entering netns {}", ns.path().display()))??;
        let udp = tokio::net::UdpSocket::from_std(udp).context("registering the DNS socket")?;
        let tcp = tokio::net::TcpListener::from_std(tcp).context("registering the DNS socket")?;
        Ok(self.serve_on(udp, tcp, container_id))
    }

    /// Serves on sockets the caller made (tests and benchmarks use loopback ones), for
    /// `container_id`. Needs a tokio runtime.
    pub fn serve_on(
        self: &Arc<Self>,
        udp: tokio::net::UdpSocket,
        tcp: tokio::net::TcpListener,
        container_id: &str,
    ) -> DnsGuard {
        let udp_task = tokio::spawn(server::serve_udp(
            self.clone(),
            udp,
            container_id.to_string(),
        ));
        let tcp_task = tokio::spawn(server::serve_tcp(
            self.clone(),
            tcp,
            container_id.to_string(),
        ));
        DnsGuard {
            tasks: vec![udp_task, tcp_task],
        }
    }

    /// Answers from the table, or says to forward.
    fn reply(&self, container: &str, query: &[u8], udp: bool) -> answer::Reply {
        let rotation = self.rotation.fetch_add(1, Ordering::Relaxed);
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        answer::answer(&table, container, query, rotation, udp)
    }

    /// The upstreams' answer, or SERVFAIL when none gave one.
    async fn forward(&self, query: &[u8], tcp: bool) -> Option<Vec<u8>> {
        match forward::forward(&self.upstreams, query, tcp, self.upstream_timeout).await {
            Some(bytes) => Some(bytes),
            None => forward::servfail(query),
        }
    }
}

/// Binds the server's sockets; runs on a thread inside the container's namespace.
fn bind_std() -> anyhow::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let udp = std::net::UdpSocket::bind(DNS_ADDR)
        .with_context(|| format!("binding DNS server to udp {DNS_ADDR}"))?;
    let tcp = std::net::TcpListener::bind(DNS_ADDR)
        .with_context(|| format!("binding DNS server to tcp {DNS_ADDR}"))?;
    // tokio needs non-blocking sockets.
    udp.set_nonblocking(true)?;
    tcp.set_nonblocking(true)?;
    Ok((udp, tcp))
}
