//! Links over rtnetlink: bridges for networks, veth pairs for endpoints (the peer created
//! directly inside the container's namespace: moving a link costs ~40 ms, creating it in
//! place under 5 ms), addresses, routes, MTU and MAC. No `ip`/`brctl` shell-outs.
//!
//! [`Netlink`] is one async route-netlink connection bound to one network namespace (its
//! socket is made on a thread that entered the namespace; the connection task runs on the
//! tokio runtime). The parts: [`bridge`] (bridges, link state, deletion), [`veth`] (the
//! endpoint plumbing), [`query`] (link names, routes, indexes), [`sync`] (one blocking
//! request, for `lo` in a fresh namespace where no runtime is at hand).
//!
//! Not done yet: VLAN filtering, bridge options (hairpin, ICC), IPv6 router advertisements.

mod bridge;
mod query;
pub(crate) mod sync;
mod veth;

use std::net::IpAddr;

use ipnet::IpNet;

use super::netns::NetNs;

pub use bridge::{delete_addresses, delete_link, ensure_bridge, set_link_up};
pub use query::{link_index, link_names, routed_subnets};
pub use veth::plumb;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0}")]
    Netlink(String),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// A route-netlink connection bound to one network namespace. Dropping it ends its
/// connection task and closes the socket (a socket left open would keep its namespace
/// alive after the pin is removed).
#[derive(Clone)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Netlink")
    }
}

impl Netlink {
    /// A connection in the caller's (the daemon's, the host's) namespace.
    pub async fn host() -> Result<Netlink, LinkError> {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| LinkError::Netlink(format!("netlink socket: {e}")))?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// A connection whose socket lives in `ns`.
    pub async fn in_netns(ns: &NetNs) -> Result<Netlink, LinkError> {
        // The socket takes the namespace of the thread that makes it, and registers with
        // the reactor at creation: so enter the runtime on the namespace's thread.
        let runtime = tokio::runtime::Handle::current();
        let made = ns.run_in(move || {
            let _entered = runtime.enter();
            rtnetlink::new_connection().map(|(conn, handle, _)| (conn, handle))
        })?;
        let (conn, handle) =
            made.map_err(|e| LinkError::Netlink(format!("netlink socket in {ns:?}: {e}")))?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    pub(crate) fn handle(&self) -> &rtnetlink::Handle {
        &self.handle
    }
}

/// One container interface to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VethPlan {
    /// Host end: `veth` + 7 hex, at most 15 bytes.
    pub host_name: String,
    /// The bridge the host end joins.
    pub bridge: String,
    /// In the container: `eth0`, `eth1`, ...
    pub peer_name: String,
    /// `02:42:ac:11:00:02`-style, as Docker derives it from the IPv4 address.
    pub mac: [u8; 6],
    pub mtu: u32,
    /// Container addresses with their prefix (`172.18.0.2/16`).
    pub addrs: Vec<IpNet>,
    /// Default route through this gateway (`None`: no default route, e.g. `internal`).
    pub gateway: Option<IpAddr>,
}

/// The kernel's errno of a failed request (positive), if it was one.
pub(crate) fn errno_of(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|c| -c.get()),
        _ => None,
    }
}

/// `what` failed: the request and the kernel's reason, as one message.
pub(crate) fn failed(what: impl std::fmt::Display, err: rtnetlink::Error) -> LinkError {
    match errno_of(&err) {
        Some(errno) => LinkError::Netlink(format!(
            "{what}: {}",
            nix::errno::Errno::from_raw(errno).desc()
        )),
        None => LinkError::Netlink(format!("{what}: {err}")),
    }
}
