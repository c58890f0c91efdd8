//! Binding host ports all or nothing, then proxying each to the container and adding the
//! DNAT rules; [`Published`] undoes it all when dropped. Tells a port held by another berth
//! container (`port is already allocated`) from one held by some other process.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage,
};
use tokio::task::JoinHandle;

use super::{tcp, udp, PortError, PortMapping, Proto};
use crate::net::nft::Firewall;

/// How often a bind refused with EADDRINUSE is retried: a listener of a container being
/// restarted closes when its proxy task is torn down, a moment after `Published` drops.
const BIND_RETRIES: u32 = 5;
const BIND_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Publishes ports for containers; one per daemon.
pub struct PortPublisher {
    firewall: Option<Arc<Firewall>>,
    /// Ports berth holds (proto, address, port), to word Docker's two errors apart.
    held: Mutex<HashSet<(Proto, IpAddr, u16)>>,
}

/// One container's published ports; dropping it closes the listeners and removes the
/// DNAT rules.
pub struct Published {
    /// With the host ports actually bound (random ones filled in), in the order given.
    pub bound: Vec<PortMapping>,
    publisher: Arc<PortPublisher>,
    container_ip: IpAddr,
    tasks: Vec<JoinHandle<()>>,
    dnat: Vec<PortMapping>,
}

/// A bound host socket, not yet proxying.
enum Bound {
    Tcp(std::net::TcpListener),
    Udp(std::net::UdpSocket),
}

impl PortPublisher {
    pub fn new(firewall: Option<Arc<Firewall>>) -> Arc<PortPublisher> {
        Arc::new(PortPublisher {
            firewall,
            held: Mutex::new(HashSet::new()),
        })
    }

    /// Binds every host port, then proxies each to `container_ip`; all or nothing (on an
    /// error nothing stays bound). Needs a tokio runtime.
    pub async fn publish(
        self: &Arc<Self>,
        container_ip: IpAddr,
        mappings: &[PortMapping],
    ) -> Result<Published, PortError> {
        let mut guard = Published {
            bound: Vec::with_capacity(mappings.len()),
            publisher: Arc::clone(self),
            container_ip,
            tasks: Vec::new(),
            dnat: Vec::new(),
        };
        let mut sockets = Vec::with_capacity(mappings.len());
        for (i, m) in mappings.iter().enumerate() {
            if m.proto == Proto::Sctp {
                return Err(PortError::Invalid(format!(
                    "publishing sctp ports is not supported yet ({}/sctp)",
                    m.container_port
                )));
            }
            let twin = i > 0 && is_v6_twin(&mappings[i - 1], m);
            let port = if twin {
                guard.bound[i - 1].host_port
            } else {
                m.host_port
            };
            let (socket, port) = match self.bind_retrying(m, port, container_ip).await {
                Ok(ok) => ok,
                Err(e) if twin && is_in_use(&e) => {
                    // The random port of the 0.0.0.0 binding is taken on `::`: pick another
                    // random port for both.
                    let prev = &mappings[i - 1];
                    sockets.pop();
                    let released = guard.bound.pop();
                    if let Some(r) = released {
                        self.release(&r);
                    }
                    let (s4, s6, p) = self.bind_pair(prev, m, container_ip).await?;
                    let first = PortMapping {
                        host_port: p,
                        ..prev.clone()
                    };
                    self.hold(&first);
                    guard.bound.push(first);
                    sockets.push(s4);
                    (s6, p)
                }
                Err(e) => return Err(e),
            };
            let actual = PortMapping {
                host_port: port,
                ..m.clone()
            };
            self.hold(&actual);
            guard.bound.push(actual);
            sockets.push(socket);
        }
        let target_of = |m: &PortMapping| SocketAddr::new(container_ip, m.container_port);
        for (m, socket) in guard.bound.iter().zip(sockets) {
            let task = match socket {
                Bound::Tcp(l) => {
                    let l = tokio::net::TcpListener::from_std(l).map_err(anyhow::Error::from)?;
                    tokio::spawn(tcp::serve(l, target_of(m)))
                }
                Bound::Udp(s) => {
                    let s = tokio::net::UdpSocket::from_std(s).map_err(anyhow::Error::from)?;
                    tokio::spawn(udp::serve(s, target_of(m)))
                }
            };
            guard.tasks.push(task);
        }
        if let Some(fw) = &self.firewall {
            for m in &guard.bound {
                if !wants_dnat(m, container_ip) {
                    continue;
                }
                match fw.add_dnat(m, container_ip) {
                    Ok(()) => guard.dnat.push(m.clone()),
                    // The proxy still serves the port: a missing kernel rule costs speed only.
                    Err(e) => tracing::warn!("DNAT for {}:{}: {e:#}", m.host_ip, m.host_port),
                }
            }
        }
        Ok(guard)
    }

    /// Two random-port bindings (0.0.0.0 and `::`) on one port, a few tries.
    async fn bind_pair(
        &self,
        v4: &PortMapping,
        v6: &PortMapping,
        container_ip: IpAddr,
    ) -> Result<(Bound, Bound, u16), PortError> {
        let mut last = None;
        for _ in 0..10 {
            let (s4, p) = self.bind_retrying(v4, 0, container_ip).await?;
            match self.bind_once(v6, p, container_ip) {
                Ok((s6, _)) => return Ok((s4, s6, p)),
                Err(e) if is_in_use(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| PortError::Other(anyhow::anyhow!("no free port"))))
    }

    async fn bind_retrying(
        &self,
        m: &PortMapping,
        port: u16,
        container_ip: IpAddr,
    ) -> Result<(Bound, u16), PortError> {
        let mut tries = 0;
        loop {
            match self.bind_once(m, port, container_ip) {
                Err(e) if is_in_use(&e) && tries < BIND_RETRIES && !self.is_held(m, port) => {
                    tries += 1;
                    tokio::time::sleep(BIND_RETRY_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    fn bind_once(
        &self,
        m: &PortMapping,
        port: u16,
        container_ip: IpAddr,
    ) -> Result<(Bound, u16), PortError> {
        bind(m.proto, SocketAddr::new(m.host_ip, port)).map_err(|e| {
            if e.kind() != io::ErrorKind::AddrInUse {
                return PortError::Other(anyhow::anyhow!(
                    "failed to bind host port for {}:{port}:{container_ip}:{}/{}: {e}",
                    m.host_ip,
                    m.container_port,
                    m.proto
                ));
            }
            if self.is_held(m, port) {
                PortError::InUse(format!(
                    "Bind for {}:{port} failed: port is already allocated",
                    m.host_ip
                ))
            } else {
                PortError::InUse(format!(
                    "failed to bind host port for {}:{port}:{container_ip}:{}/{}: address already in use",
                    m.host_ip, m.container_port, m.proto
                ))
            }
        })
    }

    /// Whether berth itself holds a binding that overlaps `m` on `port`.
    fn is_held(&self, m: &PortMapping, port: u16) -> bool {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.iter().any(|&(proto, ip, p)| {
            proto == m.proto
                && p == port
                && ip.is_ipv4() == m.host_ip.is_ipv4()
                && (ip == m.host_ip || ip.is_unspecified() || m.host_ip.is_unspecified())
        })
    }

    fn hold(&self, m: &PortMapping) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert((m.proto, m.host_ip, m.host_port));
    }

    fn release(&self, m: &PortMapping) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(&(m.proto, m.host_ip, m.host_port));
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(fw) = &self.publisher.firewall {
            for m in &self.dnat {
                if let Err(e) = fw.remove_dnat(m, self.container_ip) {
                    tracing::warn!("removing DNAT for {}:{}: {e:#}", m.host_ip, m.host_port);
                }
            }
        }
        for m in &self.bound {
            self.publisher.release(m);
        }
    }
}

fn is_in_use(e: &PortError) -> bool {
    matches!(e, PortError::InUse(_))
}

/// `b` is the `::` twin of the `0.0.0.0` random binding `a` (as [`super::expand`] emits).
fn is_v6_twin(a: &PortMapping, b: &PortMapping) -> bool {
    a.host_port == 0
        && b.host_port == 0
        && a.host_ip == IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        && b.host_ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        && a.proto == b.proto
        && a.container_port == b.container_port
}

/// DNAT only helps traffic that does not come through loopback, and cannot cross families.
fn wants_dnat(m: &PortMapping, container_ip: IpAddr) -> bool {
    !m.host_ip.is_loopback() && m.host_ip.is_ipv4() == container_ip.is_ipv4()
}

/// A listening TCP or bound UDP socket, non-blocking, with IPV6_V6ONLY on IPv6 so that
/// `0.0.0.0` and `::` can be bound separately on one port.
fn bind(proto: Proto, addr: SocketAddr) -> io::Result<(Bound, u16)> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let ty = if proto == Proto::Udp {
        SockType::Datagram
    } else {
        SockType::Stream
    };
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    let fd: OwnedFd = socket::socket(family, ty, flags, None)?;
    if addr.is_ipv6() {
        socket::setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    }
    if proto == Proto::Tcp {
        // Like any server: a restart must not wait for TIME_WAIT connections to expire.
        socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    }
    socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrStorage::from(addr),
    )?;
    let bound = if proto == Proto::Udp {
        Bound::Udp(std::net::UdpSocket::from(fd))
    } else {
        socket::listen(&fd, Backlog::new(1024).unwrap_or(Backlog::MAXCONN))?;
        Bound::Tcp(std::net::TcpListener::from(fd))
    };
    let port = match &bound {
        Bound::Tcp(l) => l.local_addr()?.port(),
        Bound::Udp(s) => s.local_addr()?.port(),
    };
    Ok((bound, port))
}
