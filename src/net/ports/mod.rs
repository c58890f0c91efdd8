//! Published ports: the userland proxy (TCP and UDP, in the daemon, so publishing works
//! with no firewall tooling) plus, when nftables is there, DNAT rules for traffic from other
//! hosts; random host ports from the ephemeral range; Docker's errors for ports in use.
//!
//! [`expand`] turns a host config's `PortBindings` (and `-P`) into [`PortMapping`]s
//! ([`spec`]); [`PortPublisher::publish`] binds them all or none ([`publish`]) and proxies
//! each listener to the container ([`tcp`] with [`splice`], [`udp`]). SCTP is parsed but not published yet.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

mod publish;
mod spec;
mod splice;
mod tcp;
mod udp;

pub use publish::{PortPublisher, Published};
pub use spec::expand;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    /// Docker's lower-case name (`tcp`), as in `80/tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }

    /// The IP protocol number (`meta l4proto`).
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
