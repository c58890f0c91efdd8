//! One blocking route-netlink request from the calling thread, in that thread's network
//! namespace: for bringing `lo` up in a namespace just made by `unshare` on a plain thread,
//! where no async runtime is at hand and a whole connection would be waste.

use anyhow::Context;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use rtnetlink::LinkUnspec;

/// The loopback device's index in every network namespace.
pub(crate) const LOOPBACK_INDEX: u32 = 1;

/// Brings link `index` up in the calling thread's network namespace.
pub(crate) fn set_link_up(index: u32) -> anyhow::Result<()> {
    let link = LinkUnspec::new_with_index(index).up().build();
    request(RouteNetlinkMessage::SetLink(link)).with_context(|| format!("bringing link {index} up"))
}

/// Sends `message` and waits for the kernel's acknowledgement.
fn request(message: RouteNetlinkMessage) -> anyhow::Result<()> {
    let mut socket = Socket::new(NETLINK_ROUTE).context("netlink socket")?;
    socket.bind_auto().context("netlink bind")?;
    socket
        .connect(&SocketAddr::new(0, 0))
        .context("netlink connect")?;
    let mut req = NetlinkMessage::from(message);
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    req.header.sequence_number = 1;
    req.finalize();
    let mut buf = vec![0; req.buffer_len()];
    req.serialize(&mut buf);
    socket.send(&buf, 0).context("netlink send")?;
    loop {
        let (reply, _) = socket.recv_from_full().context("netlink receive")?;
        let mut offset = 0;
        while offset < reply.len() {
            let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[offset..])
                .map_err(|e| anyhow::anyhow!("netlink reply: {e}"))?;
            let len = msg.header.length as usize;
            if let NetlinkPayload::Error(err) = msg.payload {
                return match err.code {
                    None => Ok(()),
                    Some(code) => Err(std::io::Error::from_raw_os_error(-code.get()).into()),
                };
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}
