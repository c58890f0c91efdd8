//! Forwarding to the upstream resolvers: the query goes out as received (same ID), to
//! each upstream in turn until one answers in time with something other than SERVFAIL
//! (as Docker does), over UDP or, for a query that came over TCP, over TCP. The sockets
//! are made on the daemon's threads, so in the host's namespace, where the host's
//! resolvers are reachable (even a 127.0.0.53 stub).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// Largest UDP answer accepted from an upstream.
const MAX_UDP: usize = 65_535;

/// SERVFAIL in the low 4 bits of the fourth header byte.
const RCODE_SERVFAIL: u8 = 2;

/// The first usable answer to `query` from `upstreams`, or `None` when none gave one.
pub(super) async fn forward(
    upstreams: &[SocketAddr],
    query: &[u8],
    tcp: bool,
    wait: Duration,
) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    for upstream in upstreams {
        let asked = if tcp {
            timeout(wait, ask_tcp(*upstream, query)).await
        } else {
            timeout(wait, ask_udp(*upstream, query)).await
        };
        let Ok(Ok(reply)) = asked else {
            tracing::debug!(%upstream, "dns upstream gave no answer");
            continue;
        };
        if reply.len() >= 4 && reply[3] & 0x0f == RCODE_SERVFAIL {
            continue;
        }
        return Some(reply);
    }
    None
}

async fn ask_udp(upstream: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if upstream.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    // connect() makes the kernel drop datagrams from anyone but the upstream.
    socket.connect(upstream).await?;
    socket.send(query).await?;
    let mut buf = vec![0u8; MAX_UDP];
    loop {
        let n = socket.recv(&mut buf).await?;
        // Only an answer to this query (same ID) counts; anything else is ignored.
        if n >= 12 && buf[..2] == query[..2] {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

async fn ask_tcp(upstream: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let len = u16::try_from(query.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
    let mut stream = TcpStream::connect(upstream).await?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let n = stream.read_u16().await?;
    let mut buf = vec![0u8; usize::from(n)];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// A SERVFAIL answer to `query` (same ID, question echoed as far as it was readable).
pub(super) fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    use hickory_proto::op::{Message, OpCode, ResponseCode};
    if query.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    let mut reply = Message::error_msg(id, OpCode::Query, ResponseCode::ServFail);
    reply.metadata.recursion_available = true;
    if let Ok(request) = Message::from_vec(query) {
        reply.metadata.recursion_desired = request.metadata.recursion_desired;
        reply.add_queries(request.queries.into_iter().take(1));
    }
    reply.to_vec().ok()
}
