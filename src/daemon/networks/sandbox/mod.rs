//! Container sandboxes: the pinned network namespace, one veth endpoint per network
//! (address from IPAM, MAC, routes), DNS entries and server, published ports.
//!
//! `sandbox_up` makes it all or nothing; `sandbox_down` removes the pin, which destroys
//! the veth pairs with the namespace (about 1 ms, against about 30 ms per deleted veth).
//! Parts: [`table`] (the live sandboxes), [`endpoint`] (one endpoint), [`restore`] (after a
//! daemon restart), [`connect`] (connect/disconnect of a running container).
//!
//! Not done yet: IPv6 default routes (only the IPv4 gateway is routed), moving published
//! ports when the first endpoint is disconnected, `--link` entries (the container side
//! writes `/etc/hosts`).

mod connect;
mod endpoint;
mod restore;
mod table;

pub(crate) use table::SandboxTable;

use endpoint::{
    check_attachable, dns_servers, host_veth_name, port_error, port_target, setup_error, Placement,
};
use table::Sandbox;

use super::{Allocation, NetworkError, NetworkView, Networks, SandboxRequest, SandboxState};
use crate::net::link::Netlink;
use crate::net::netns::NetNs;

impl Networks {
    /// Makes the container's namespace and every endpoint; all or nothing (a failure
    /// rolls back what was made: addresses, links, ports, DNS entries).
    pub async fn sandbox_up(&self, request: &SandboxRequest) -> Result<SandboxState, NetworkError> {
        let id = &request.container_id;
        check_container_id(id)?;
        let views = self.views_of(request)?;
        if let Some(old) = self.sandboxes().take(id) {
            // A sandbox whose container exited without `sandbox_down`: start afresh.
            tracing::debug!("replacing the network sandbox of {id}");
            self.dismantle(id, &mut *old.lock().await, &[]);
        }
        let pin = self.netns_dir().join(id);
        // The namespace is made on its own thread while IPAM reserves the addresses (each
        // a record written and synced): the two take about as long.
        let (made, reserved) = std::thread::scope(|s| {
            let made = s.spawn(|| NetNs::create(&pin));
            let reserved = self.reserve(request, &views);
            (made.join(), reserved)
        });
        let made = match made {
            Ok(r) => r.map_err(setup_error),
            Err(_) => Err(setup_error("the netns thread panicked")),
        };
        let networks: Vec<String> = views.iter().map(|v| v.id.clone()).collect();
        let (ns, allocations) = match (made, reserved) {
            (Ok(ns), Ok(a)) => (ns, a),
            (made, reserved) => {
                let error = reserved.err().or(made.err());
                self.dismantle(id, &mut Sandbox::new(NetNs::at(&pin)), &networks);
                return Err(error.unwrap_or_else(|| setup_error("unknown failure")));
            }
        };
        let mut sandbox = Sandbox::new(ns);
        match self
            .build(request, &views, &allocations, &mut sandbox)
            .await
        {
            Ok(state) => {
                self.sandboxes().insert(id, sandbox);
                Ok(state)
            }
            Err(e) => {
                self.dismantle(id, &mut sandbox, &networks);
                Err(e)
            }
        }
    }

    /// Tears the sandbox down (namespace removed, addresses released, ports closed, DNS
    /// entries gone); absent is fine.
    pub async fn sandbox_down(&self, container_id: &str) {
        if check_container_id(container_id).is_err() {
            return;
        }
        match self.sandboxes().take(container_id) {
            Some(entry) => self.dismantle(container_id, &mut *entry.lock().await, &[]),
            None => {
                let mut gone = Sandbox::new(self.pin_of(container_id));
                self.dismantle(container_id, &mut gone, &[]);
            }
        }
    }

    /// The networks of the request's endpoints, checked before anything is made.
    fn views_of(&self, request: &SandboxRequest) -> Result<Vec<NetworkView>, NetworkError> {
        let mut views: Vec<NetworkView> = Vec::with_capacity(request.endpoints.len());
        for wanted in &request.endpoints {
            let view = self.network_view(&wanted.network)?;
            check_attachable(&view)?;
            if views.iter().any(|v| v.id == view.id) {
                return Err(NetworkError::Conflict(format!(
                    "endpoint with name {} already exists in network {}",
                    request.container_name.trim_start_matches('/'),
                    view.name
                )));
            }
            views.push(view);
        }
        Ok(views)
    }

    /// The addresses of every endpoint; all or none.
    fn reserve(
        &self,
        request: &SandboxRequest,
        views: &[NetworkView],
    ) -> Result<Vec<Allocation>, NetworkError> {
        let id = &request.container_id;
        let mut out = Vec::with_capacity(views.len());
        for (view, wanted) in views.iter().zip(&request.endpoints) {
            match self.allocate_addresses(&view.id, id, wanted.ipv4, wanted.ipv6) {
                Ok(a) => out.push(a),
                Err(e) => {
                    for done in &views[..out.len()] {
                        self.release_addresses(&done.id, id);
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// Everything after the namespace and the addresses: links (while the DNS server
    /// starts), ports, then the records. On an error what was made stays in `sandbox` for
    /// [`Networks::dismantle`].
    async fn build(
        &self,
        request: &SandboxRequest,
        views: &[NetworkView],
        allocations: &[Allocation],
        sandbox: &mut Sandbox,
    ) -> Result<SandboxState, NetworkError> {
        let id = &request.container_id;
        let ns = &sandbox.ns;
        // One connection in the namespace for all endpoints; dropped on return, before any
        // removal of the pin (an open socket would keep the namespace alive).
        let in_ns = Netlink::in_netns(ns).await.map_err(setup_error)?;
        let links = async {
            let mut made = Vec::with_capacity(views.len());
            for (i, view) in views.iter().enumerate() {
                let at = Placement {
                    ns,
                    in_ns: &in_ns,
                    interface: format!("eth{i}"),
                    host_veth: host_veth_name()?,
                    default_route: i == 0,
                };
                made.push(
                    self.make_link(view, &request.endpoints[i], &allocations[i], at)
                        .await?,
                );
            }
            Ok::<_, NetworkError>(made)
        };
        let dns = async {
            if views.iter().any(|v| v.dns) {
                Some(self.dns().serve_in(ns, id).await)
            } else {
                None
            }
        };
        let (links, dns) = tokio::join!(links, dns);
        drop(in_ns);
        if let Some(served) = dns {
            sandbox.dns = Some(served.map_err(setup_error)?);
        }
        let endpoints = links?;
        let mut ports = Vec::new();
        if !request.ports.is_empty() {
            let target = port_target(&endpoints).ok_or_else(|| {
                NetworkError::Invalid(
                    "published ports need the container on a network with an address".into(),
                )
            })?;
            let published = self
                .ports()
                .publish(target, &request.ports)
                .await
                .map_err(port_error)?;
            ports = published.bound.clone();
            sandbox.published = Some(published);
        }
        // Recorded last: a failure before leaves no connect/disconnect events.
        for (view, ep) in views.iter().zip(&endpoints) {
            self.record_endpoint(request, view, ep);
        }
        sandbox.endpoints = endpoints;
        Ok(SandboxState {
            netns: sandbox.ns.path().to_path_buf(),
            endpoints: sandbox.endpoints.clone(),
            ports,
            dns_servers: dns_servers(sandbox.dns.is_some()),
        })
    }

    /// Undoes `sandbox`, the addresses on `reserved` networks and whatever the records
    /// still hold for the container: ports closed, DNS server stopped and names gone,
    /// endpoints and addresses released, the pin removed (which destroys the veth pairs).
    /// Logs, never fails.
    fn dismantle(&self, container_id: &str, sandbox: &mut Sandbox, reserved: &[String]) {
        drop(sandbox.published.take());
        drop(sandbox.dns.take());
        let mut networks: Vec<String> = sandbox.endpoints.drain(..).map(|e| e.network_id).collect();
        networks.extend_from_slice(reserved);
        // Records left by a daemon that stopped before the sandbox came back.
        networks.extend(
            self.endpoints_of(container_id)
                .into_iter()
                .map(|e| e.network_id),
        );
        networks.sort();
        networks.dedup();
        for network in &networks {
            self.forget_endpoint(network, container_id);
        }
        if let Err(e) = NetNs::remove(sandbox.ns.path()) {
            tracing::warn!("removing the network namespace of {container_id}: {e:#}");
        }
    }

    fn pin_of(&self, container_id: &str) -> NetNs {
        NetNs::at(&self.netns_dir().join(container_id))
    }
}

/// Container IDs name the pin file: one plain path component.
fn check_container_id(id: &str) -> Result<(), NetworkError> {
    if id.is_empty() || id == "." || id == ".." || id.contains('/') || id.contains('\0') {
        return Err(NetworkError::Invalid(format!(
            "invalid container ID {id:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_must_be_one_path_component() {
        assert!(check_container_id("abc123").is_ok());
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(check_container_id(bad).is_err(), "{bad}");
        }
    }
}
