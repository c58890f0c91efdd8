//! The UDP half of the userland proxy, as docker-proxy does it: one flow per client
//! address, each with its own socket connected to the container, replies relayed back from
//! the published socket; a flow idle for 90 s is closed.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// docker-proxy's UDPConnTrackTimeout.
const IDLE: Duration = Duration::from_secs(90);
const DATAGRAM: usize = 65_535;

struct Flow {
    socket: Arc<UdpSocket>,
    last: Arc<Mutex<Instant>>,
}

/// Relays until aborted; aborting drops the published socket and every flow (the set).
pub(super) async fn serve(front: UdpSocket, target: SocketAddr) {
    let front = Arc::new(front);
    let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
    let mut tasks = JoinSet::new();
    let (closed_tx, mut closed_rx) = mpsc::unbounded_channel::<SocketAddr>();
    let mut buf = vec![0u8; DATAGRAM];
    loop {
        tokio::select! {
            got = front.recv_from(&mut buf) => {
                let (n, peer) = match got {
                    Ok(ok) => ok,
                    Err(e) => {
                        tracing::debug!("udp proxy recv: {e}");
                        continue;
                    }
                };
                if let Entry::Vacant(slot) = flows.entry(peer) {
                    match open_flow(target).await {
                        Ok(socket) => {
                            let flow = Flow {
                                socket: Arc::new(socket),
                                last: Arc::new(Mutex::new(Instant::now())),
                            };
                            tasks.spawn(relay_back(
                                Arc::clone(&front),
                                Arc::clone(&flow.socket),
                                Arc::clone(&flow.last),
                                peer,
                                closed_tx.clone(),
                            ));
                            slot.insert(flow);
                        }
                        Err(e) => {
                            tracing::debug!("udp proxy to {target}: {e}");
                            continue;
                        }
                    }
                }
                if let Some(flow) = flows.get(&peer) {
                    touch(&flow.last);
                    if let Err(e) = flow.socket.send(&buf[..n]).await {
                        tracing::debug!("udp proxy send to {target}: {e}");
                    }
                }
            }
            Some(peer) = closed_rx.recv() => {
                flows.remove(&peer);
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

async fn open_flow(target: SocketAddr) -> std::io::Result<UdpSocket> {
    let any = match target.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
    socket.connect(target).await?;
    Ok(socket)
}

/// Container → client until the flow has been idle (both ways) for [`IDLE`].
async fn relay_back(
    front: Arc<UdpSocket>,
    back: Arc<UdpSocket>,
    last: Arc<Mutex<Instant>>,
    peer: SocketAddr,
    closed: mpsc::UnboundedSender<SocketAddr>,
) {
    let mut buf = vec![0u8; DATAGRAM];
    loop {
        let idle_for = last.lock().map(|l| l.elapsed()).unwrap_or(IDLE);
        let Some(left) = IDLE.checked_sub(idle_for).filter(|d| !d.is_zero()) else {
            break;
        };
        match tokio::time::timeout(left, back.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                touch(&last);
                if let Err(e) = front.send_to(&buf[..n], peer).await {
                    tracing::debug!("udp proxy reply to {peer}: {e}");
                }
            }
            // ECONNREFUSED from an ICMP error while the container's server is not up yet:
            // the flow stays, as the next datagram may find it.
            Ok(Err(e)) => tracing::debug!("udp proxy from container: {e}"),
            Err(_) => {} // re-check idleness: the client may have sent meanwhile
        }
    }
    let _ = closed.send(peer);
}

fn touch(last: &Mutex<Instant>) {
    if let Ok(mut l) = last.lock() {
        *l = Instant::now();
    }
}
