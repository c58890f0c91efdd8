//! After a daemon restart, for a container still running in its pinned namespace: its
//! addresses and endpoint records (kept unless lost), DNS names and server, and published
//! ports on the host ports it had. The kernel side (veths, addresses, routes) survived.

use super::endpoint::{port_error, port_target, setup_error};
use super::table::Sandbox;
use crate::daemon::networks::{
    EndpointState, NetworkError, Networks, SandboxRequest, SandboxState,
};
use crate::net::netns::NetNs;

impl Networks {
    /// After a daemon restart, for a container still running: re-registers its addresses,
    /// DNS entries and server, and republishes its ports as `state` records them.
    pub async fn sandbox_restore(
        &self,
        request: &SandboxRequest,
        state: &SandboxState,
    ) -> Result<(), NetworkError> {
        let id = &request.container_id;
        super::check_container_id(id)?;
        if !state.netns.exists() {
            return Err(NetworkError::Internal(anyhow::anyhow!(
                "the network namespace {} of container {id} is gone",
                state.netns.display()
            )));
        }
        if let Some(old) = self.sandboxes().take(id) {
            // Restored twice: close the old ports and DNS sockets, keep the namespace.
            let mut old = old.lock().await;
            drop(old.published.take());
            drop(old.dns.take());
        }
        let mut sandbox = Sandbox::new(NetNs::at(&state.netns));
        let recorded = self.endpoints_of(id);
        let mut wants_dns = false;
        for ep in &state.endpoints {
            let view = match self.network_view(&ep.network_id) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!("restoring {id}'s endpoint on {}: {e}", ep.network_name);
                    continue;
                }
            };
            self.reclaim_addresses(id, ep);
            if !recorded.iter().any(|r| r.network_id == ep.network_id) {
                self.add_endpoint(&request.container_name, id, ep);
            }
            if view.dns {
                self.add_dns_names(request, ep);
                wants_dns = true;
            }
            sandbox.endpoints.push(ep.clone());
        }
        // From here the sandbox is in the table even if a part fails: the container runs
        // with it, and `sandbox_down` must find it.
        let mut result = Ok(());
        if wants_dns {
            match self.dns().serve_in(&sandbox.ns, id).await {
                Ok(guard) => sandbox.dns = Some(guard),
                Err(e) => result = Err(setup_error(e)),
            }
        }
        if !state.ports.is_empty() {
            match port_target(&sandbox.endpoints) {
                Some(target) => match self.ports().publish(target, &state.ports).await {
                    Ok(p) => sandbox.published = Some(p),
                    Err(e) => result = result.and(Err(port_error(e))),
                },
                None => tracing::warn!("{id} has published ports but no address to reach"),
            }
        }
        self.sandboxes().insert(id, sandbox);
        result
    }

    /// Holds `ep`'s addresses for the container again: they normally still are (the
    /// records persist them); if lost, the same ones are asked for.
    fn reclaim_addresses(&self, container_id: &str, ep: &EndpointState) {
        let same = |a: &crate::daemon::networks::Allocation| a.ipv4 == ep.ipv4 && a.ipv6 == ep.ipv6;
        match self.allocate_addresses(&ep.network_id, container_id, None, None) {
            Ok(a) if same(&a) => return,
            Ok(_) => self.release_addresses(&ep.network_id, container_id),
            Err(e) => tracing::debug!("reclaiming {container_id}'s addresses: {e}"),
        }
        let v4 = ep.ipv4.and_then(|n| match n.addr() {
            std::net::IpAddr::V4(a) => Some(a),
            std::net::IpAddr::V6(_) => None,
        });
        let v6 = ep.ipv6.and_then(|n| match n.addr() {
            std::net::IpAddr::V6(a) => Some(a),
            std::net::IpAddr::V4(_) => None,
        });
        if let Err(e) = self.allocate_addresses(&ep.network_id, container_id, v4, v6) {
            tracing::warn!(
                "container {container_id} keeps {:?} on {} but IPAM could not reserve it: {e}",
                ep.ipv4,
                ep.network_name
            );
        }
    }
}
