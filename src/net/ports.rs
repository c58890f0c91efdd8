//! Published ports: the userland proxy (TCP and UDP, in the daemon, so publishing works
//! with no firewall tooling) plus, when nftables is there, DNAT rules for traffic from other
//! hosts; random host ports from the ephemeral range; Docker's errors for ports in use.
//!
//! CONTRACT (signatures fixed; the ports helper implements them; it may split this file
//! into a `ports/` directory).

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::nft::Firewall;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

/// One published port. `host_ip` is `0.0.0.0` or `::` for all addresses; `host_port` 0
/// asks for a random one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    pub proto: Proto,
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub container_port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The port is taken (Docker's texts: `Bind for 0.0.0.0:8080 failed: port is already
    /// allocated`, or the listen error naming address and port).
    #[error("{0}")]
    InUse(String),
    /// A bad request (`Invalid port specification`, ...).
    #[error("{0}")]
    Invalid(String),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// The `PortBindings` of a host config (`"80/tcp": [{"HostIp":"","HostPort":"8080"}]`,
/// ranges like `"8000-8001"`) and, with `publish_all`, the exposed ports with random host
/// ports, expanded into mappings (Docker's rules and errors).
pub fn expand(
    port_bindings: &std::collections::BTreeMap<
        String,
        Option<Vec<crate::engine::spec::PortBinding>>,
    >,
    exposed: &std::collections::BTreeSet<String>,
    publish_all: bool,
) -> Result<Vec<PortMapping>, PortError> {
    let _ = (port_bindings, exposed, publish_all);
    Err(PortError::Invalid("not implemented yet".into()))
}

/// Publishes ports for containers; one per daemon.
pub struct PortPublisher {
    _private: (),
}

/// One container's published ports; dropping it closes the listeners and removes the
/// DNAT rules.
pub struct Published {
    /// With the host ports actually bound (random ones filled in), in the order given.
    pub bound: Vec<PortMapping>,
}

impl PortPublisher {
    pub fn new(firewall: Option<Arc<Firewall>>) -> Arc<PortPublisher> {
        let _ = firewall;
        Arc::new(PortPublisher { _private: () })
    }

    /// Binds every host port, then proxies each to `container_ip`; all or nothing (on an
    /// error nothing stays bound). Needs a tokio runtime.
    pub async fn publish(
        self: &Arc<Self>,
        container_ip: IpAddr,
        mappings: &[PortMapping],
    ) -> Result<Published, PortError> {
        let _ = (container_ip, mappings);
        Err(PortError::Invalid("not implemented yet".into()))
    }
}
