//! `network connect` / `disconnect` of a running container: one more endpoint in its live
//! namespace (the next free `eth<N>`, no default route), or one less (its veth deleted).

use super::endpoint::{check_attachable, host_veth_name, setup_error, Placement};
use super::table::Sandbox;
use crate::daemon::networks::{
    Allocation, EndpointRequest, EndpointState, NetworkError, NetworkView, Networks, SandboxRequest,
};
use crate::net::link::{delete_link, Netlink};

impl Networks {
    /// `network connect` of a running container: one more endpoint (`eth<N>`).
    pub async fn endpoint_connect(
        &self,
        request: &SandboxRequest,
        endpoint: &EndpointRequest,
    ) -> Result<EndpointState, NetworkError> {
        let id = &request.container_id;
        let entry = self.sandboxes().get(id).ok_or_else(|| {
            NetworkError::Conflict(format!("container {id} has no network sandbox"))
        })?;
        let mut sandbox = entry.lock().await;
        let view = self.network_view(&endpoint.network)?;
        if sandbox.endpoints.iter().any(|e| e.network_id == view.id) {
            return Err(NetworkError::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                request.container_name.trim_start_matches('/'),
                view.name
            )));
        }
        check_attachable(&view)?;
        let host_veth = host_veth_name()?;
        let allocation = self.allocate_addresses(&view.id, id, endpoint.ipv4, endpoint.ipv6)?;
        let made = self
            .connect_link(&view, endpoint, &allocation, &host_veth, id, &mut sandbox)
            .await;
        let ep = match made {
            Ok(ep) => ep,
            Err(e) => {
                // The namespace stays: a half-made pair goes with its host end.
                if let Err(d) = delete_link(self.host_netlink(), &host_veth).await {
                    tracing::warn!("deleting half-made veth {host_veth}: {d}");
                }
                self.release_addresses(&view.id, id);
                return Err(e);
            }
        };
        self.record_endpoint(request, &view, &ep);
        sandbox.endpoints.push(ep.clone());
        Ok(ep)
    }

    /// The link of one more endpoint in a live sandbox, and the DNS server if this is its
    /// first network with DNS.
    async fn connect_link(
        &self,
        view: &NetworkView,
        wanted: &EndpointRequest,
        allocation: &Allocation,
        host_veth: &str,
        container_id: &str,
        sandbox: &mut Sandbox,
    ) -> Result<EndpointState, NetworkError> {
        let in_ns = Netlink::in_netns(&sandbox.ns).await.map_err(setup_error)?;
        let at = Placement {
            ns: &sandbox.ns,
            in_ns: &in_ns,
            interface: sandbox.free_interface(),
            host_veth: host_veth.to_owned(),
            default_route: false,
        };
        let ep = self.make_link(view, wanted, allocation, at).await?;
        drop(in_ns);
        if view.dns && sandbox.dns.is_none() {
            let guard = self
                .dns()
                .serve_in(&sandbox.ns, container_id)
                .await
                .map_err(setup_error)?;
            sandbox.dns = Some(guard);
        }
        Ok(ep)
    }

    /// `network disconnect` of a running container.
    pub async fn endpoint_disconnect(
        &self,
        container_id: &str,
        network_id: &str,
    ) -> Result<(), NetworkError> {
        let network_id = match self.network_view(network_id) {
            Ok(view) => view.id,
            // A network removed meanwhile: its ID still names the endpoint.
            Err(_) => network_id.to_owned(),
        };
        let Some(entry) = self.sandboxes().get(container_id) else {
            // Not running here: only records can be left.
            self.forget_endpoint(&network_id, container_id);
            return Ok(());
        };
        let mut sandbox = entry.lock().await;
        let Some(pos) = sandbox
            .endpoints
            .iter()
            .position(|e| e.network_id == network_id)
        else {
            return Err(NetworkError::Conflict(format!(
                "container {container_id} is not connected to network {network_id}"
            )));
        };
        let host_veth = sandbox.endpoints[pos].host_veth.clone();
        delete_link(self.host_netlink(), &host_veth)
            .await
            .map_err(|e| {
                NetworkError::Internal(anyhow::anyhow!(
                    "failed to disconnect container {container_id} from network {network_id}: {e}"
                ))
            })?;
        sandbox.endpoints.remove(pos);
        self.forget_endpoint(&network_id, container_id);
        Ok(())
    }
}
