//! Container sandboxes: the pinned network namespace, one veth endpoint per network
//! (address from IPAM, MAC, routes), DNS entries and server, published ports.
//!
//! CONTRACT (signatures fixed; the sandbox helper implements them).

/// Per-container runtime state (DNS guards, published ports, ...); the sandbox helper
/// defines its contents. A field of `Networks`.
#[derive(Default)]
pub(crate) struct SandboxTable {}

use super::{EndpointRequest, EndpointState, NetworkError, Networks, SandboxRequest, SandboxState};

impl Networks {
    /// Makes the container's namespace and every endpoint; all or nothing (a failure
    /// rolls back what was made: addresses, links, ports, DNS entries).
    pub async fn sandbox_up(&self, request: &SandboxRequest) -> Result<SandboxState, NetworkError> {
        let _ = request;
        Err(NetworkError::Invalid("not implemented yet".into()))
    }

    /// Tears the sandbox down (namespace removed, addresses released, ports closed, DNS
    /// entries gone); absent is fine.
    pub async fn sandbox_down(&self, container_id: &str) {
        let _ = container_id;
    }

    /// After a daemon restart, for a container still running: re-registers its addresses,
    /// DNS entries and server, and republishes its ports as `state` records them.
    pub async fn sandbox_restore(
        &self,
        request: &SandboxRequest,
        state: &SandboxState,
    ) -> Result<(), NetworkError> {
        let _ = (request, state);
        Err(NetworkError::Invalid("not implemented yet".into()))
    }

    /// `network connect` of a running container: one more endpoint (`eth<N>`).
    pub async fn endpoint_connect(
        &self,
        request: &SandboxRequest,
        endpoint: &EndpointRequest,
    ) -> Result<EndpointState, NetworkError> {
        let _ = (request, endpoint);
        Err(NetworkError::Invalid("not implemented yet".into()))
    }

    /// `network disconnect` of a running container.
    pub async fn endpoint_disconnect(
        &self,
        container_id: &str,
        network_id: &str,
    ) -> Result<(), NetworkError> {
        let _ = (container_id, network_id);
        Err(NetworkError::Invalid("not implemented yet".into()))
    }
}
