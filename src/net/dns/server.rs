//! Serving one container: a UDP loop and a TCP accept loop (RFC 1035 length-prefixed
//! messages), each answering from the shared [`DnsService`]. Local answers are made inline;
//! forwarded queries get a task of their own so a slow upstream never holds up local
//! names. Those tasks live in a `JoinSet` owned by their loop, so aborting the loop
//! (dropping the guard) ends them too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use super::answer::Reply;
use super::DnsService;

/// Largest UDP query read (EDNS allows big ones; real queries are far smaller).
const MAX_QUERY: usize = 4096;

/// A TCP client that sends nothing for this long is dropped.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// At most this many forwarded queries in flight per container; more are answered
/// SERVFAIL rather than piling up tasks.
const MAX_IN_FLIGHT: usize = 256;

pub(super) async fn serve_udp(service: Arc<DnsService>, socket: UdpSocket, container: String) {
    let socket = Arc::new(socket);
    let mut forwards = JoinSet::new();
    let mut buf = vec![0u8; MAX_QUERY];
    loop {
        let (n, peer) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(received) => received,
                Err(e) => {
                    // ICMP errors from earlier sends surface here; they end nothing.
                    tracing::debug!("dns udp receive: {e}");
                    continue;
                }
            },
            Some(_) = forwards.join_next(), if !forwards.is_empty() => continue,
        };
        let query = &buf[..n];
        match service.reply(&container, query, true) {
            Reply::Local(bytes) => send(&socket, &bytes, peer).await,
            Reply::Drop => {}
            Reply::Forward if forwards.len() >= MAX_IN_FLIGHT => {
                if let Some(bytes) = super::forward::servfail(query) {
                    send(&socket, &bytes, peer).await;
                }
            }
            Reply::Forward => {
                let (service, socket, query) = (service.clone(), socket.clone(), query.to_vec());
                forwards.spawn(async move {
                    if let Some(bytes) = service.forward(&query, false).await {
                        send(&socket, &bytes, peer).await;
                    }
                });
            }
        }
    }
}

async fn send(socket: &UdpSocket, bytes: &[u8], peer: SocketAddr) {
    if let Err(e) = socket.send_to(bytes, peer).await {
        tracing::debug!("dns udp send to {peer}: {e}");
    }
}

pub(super) async fn serve_tcp(service: Arc<DnsService>, listener: TcpListener, container: String) {
    let mut clients = JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!("dns tcp accept: {e}");
                    // Out of descriptors and the like: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => continue,
        };
        let (service, container) = (service.clone(), container.clone());
        clients.spawn(async move {
            if let Err(e) = serve_tcp_client(&service, stream, &container).await {
                tracing::debug!("dns tcp client: {e}");
            }
        });
    }
}

/// Answers queries on one connection until the client closes it or idles.
async fn serve_tcp_client(
    service: &DnsService,
    mut stream: TcpStream,
    container: &str,
) -> std::io::Result<()> {
    loop {
        let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
            Ok(Ok(len)) => len,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        };
        let mut query = vec![0u8; usize::from(len)];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let reply = match service.reply(container, &query, false) {
            Reply::Local(bytes) => bytes,
            Reply::Drop => return Ok(()),
            Reply::Forward => match service.forward(&query, true).await {
                Some(bytes) => bytes,
                None => continue,
            },
        };
        let Ok(len) = u16::try_from(reply.len()) else {
            return Ok(());
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&reply);
        stream.write_all(&framed).await?;
    }
}
