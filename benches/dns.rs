//! Lookups per second of berth's embedded DNS server on loopback: N concurrent UDP clients
//! ask for a local name (three replicas, so every answer is rotated) for a few seconds,
//! each waiting for its answer before asking again. Prints the figure.
//!
//! `cargo bench --bench dns [-- CLIENTS SECONDS]` (defaults 16 and 3). dockerd's resolver
//! can only be asked from inside a container; bench/net.sh does that side.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::net::dns::{DnsEndpoint, DnsService};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::{TcpListener, UdpSocket};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    // `cargo test --all-targets` runs this without `--bench`: a short smoke run then.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let seconds: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(if smoke { 1 } else { 3 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(clients, Duration::from_secs(seconds)))
}

async fn run(clients: usize, length: Duration) -> anyhow::Result<()> {
    let dns = DnsService::new(vec![]);
    for (id, name, addr) in [
        ("bench-client", "client", "10.77.0.9"),
        ("r1", "web-1", "10.77.0.2"),
        ("r2", "web-2", "10.77.0.3"),
        ("r3", "web-3", "10.77.0.4"),
    ] {
        dns.add_endpoint(DnsEndpoint {
            network_id: "bench".into(),
            container_id: id.into(),
            names: vec![name.into(), "web".into()],
            addrs: vec![addr.parse()?],
        });
    }
    let udp = UdpSocket::bind("127.0.0.1:0").await?;
    let server = udp.local_addr()?;
    // The benchmark asks over UDP only: the TCP side takes any free port.
    let tcp = TcpListener::bind("127.0.0.1:0").await?;
    let _guard = dns.serve_on(udp, tcp, "bench-client");

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (stop, done, lost) = (stop.clone(), done.clone(), lost.clone());
        tasks.push(tokio::spawn(async move {
            client(server, &stop, &done, &lost).await
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let answered = done.load(Ordering::Relaxed);
    println!(
        "berth embedded DNS (UDP, loopback, {clients} clients, {elapsed:.1} s): \
         {:.0} lookups/s ({answered} answered, {} lost)",
        answered as f64 / elapsed,
        lost.load(Ordering::Relaxed)
    );
    if which("dockerd") {
        println!("dockerd: see bench/net.sh (its resolver answers only inside a container)");
    }
    Ok(())
}

/// Asks for `web` until told to stop, counting answers (and queries lost after 1 s).
async fn client(
    server: SocketAddr,
    stop: &AtomicBool,
    done: &AtomicU64,
    lost: &AtomicU64,
) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    socket.connect(server).await?;
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::from_ascii("web.")?, RecordType::A));
    let mut wire = query.to_vec()?;
    let mut buf = vec![0u8; 1500];
    let mut id: u16 = 0;
    while !stop.load(Ordering::Relaxed) {
        id = id.wrapping_add(1);
        wire[..2].copy_from_slice(&id.to_be_bytes());
        socket.send(&wire).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf)).await {
                Ok(Ok(n)) if n >= 12 && buf[..2] == id.to_be_bytes() => {
                    done.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => {
                    lost.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
    Ok(())
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
