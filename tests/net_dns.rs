//! The embedded DNS server over real sockets: local answers (A, AAAA, PTR, round robin,
//! scoping, case), live updates, forwarding to a fake upstream on 127.0.0.1 over UDP and
//! TCP, SERVFAIL when the upstream is silent, and (as root) serving at 127.0.0.11:53
//! inside a network namespace the test made, queried from inside it.
//!
//! Traffic stays on loopback and in the test's own namespace.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use berth::net::dns::{DnsEndpoint, DnsGuard, DnsService};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn endpoint(net: &str, id: &str, names: &[&str], addrs: &[&str]) -> DnsEndpoint {
    DnsEndpoint {
        network_id: net.into(),
        container_id: id.into(),
        names: names.iter().map(|s| s.to_string()).collect(),
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

/// A service with two networks; "client" is on n1 only.
fn service(upstreams: Vec<SocketAddr>) -> Arc<DnsService> {
    let dns = DnsService::with_timeout(upstreams, Duration::from_millis(300));
    dns.add_endpoint(endpoint("n1", "client", &["client"], &["10.88.0.9"]));
    dns.add_endpoint(endpoint("n1", "w1", &["web-1", "web"], &["10.88.0.2"]));
    dns.add_endpoint(endpoint("n1", "w2", &["web-2", "web"], &["10.88.0.3"]));
    dns.add_endpoint(endpoint("n1", "w3", &["web-3", "web"], &["10.88.0.4"]));
    dns.add_endpoint(endpoint("n1", "db", &["Db"], &["10.88.0.5", "fd88::5"]));
    dns.add_endpoint(endpoint("n2", "secret", &["secret"], &["10.99.0.2"]));
    dns
}

/// A UDP socket and a TCP listener on one free loopback port (a random UDP port may be
/// taken for TCP: tried again).
async fn loopback_pair() -> (SocketAddr, UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (addr, udp, tcp);
        }
    }
    panic!("no free loopback port for both UDP and TCP");
}

/// Serves `dns` for `container` on fresh loopback sockets (UDP and TCP on one port).
async fn serve(dns: &Arc<DnsService>, container: &str) -> (SocketAddr, DnsGuard) {
    let (addr, udp, tcp) = loopback_pair().await;
    (addr, dns.serve_on(udp, tcp, container))
}

fn query(name: &str, kind: RecordType) -> Message {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_utf8(name).unwrap(), kind));
    m
}

async fn ask_udp(server: SocketAddr, name: &str, kind: RecordType) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let q = query(name, kind);
    socket.send_to(&q.to_vec().unwrap(), server).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("no answer within 5 s")
        .unwrap();
    let reply = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(reply.metadata.id, q.metadata.id);
    reply
}

async fn ask_tcp(server: SocketAddr, name: &str, kind: RecordType) -> Message {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let q = query(name, kind).to_vec().unwrap();
    stream.write_u16(q.len() as u16).await.unwrap();
    stream.write_all(&q).await.unwrap();
    let read = async {
        let n = stream.read_u16().await.unwrap();
        let mut buf = vec![0u8; n as usize];
        stream.read_exact(&mut buf).await.unwrap();
        buf
    };
    let buf = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("no answer within 5 s");
    Message::from_vec(&buf).unwrap()
}

/// The answers' data, lower-case (DNS names compare without case; encoders may fold).
fn addrs(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .map(|r| r.data.to_string().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn answers_a_aaaa_and_ptr() {
    let dns = service(vec![]);
    let (server, _guard) = serve(&dns, "client").await;
    let m = ask_udp(server, "db.", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addrs(&m), ["10.88.0.5"]);
    assert_eq!(m.answers[0].ttl, 600);
    let m = ask_udp(server, "db.", RecordType::AAAA).await;
    assert_eq!(addrs(&m), ["fd88::5"]);
    let m = ask_udp(server, "5.0.88.10.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(addrs(&m), ["db."]);
    let m = ask_udp(
        server,
        "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.d.f.ip6.arpa.",
        RecordType::PTR,
    )
    .await;
    assert_eq!(addrs(&m), ["db."]);
    // Known name, no IPv6 address: empty NOERROR, not forwarded (no upstream → SERVFAIL).
    let m = ask_udp(server, "web-1.", RecordType::AAAA).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
}

#[tokio::test]
async fn replicas_come_back_all_and_rotated() {
    let dns = service(vec![]);
    let (server, _guard) = serve(&dns, "client").await;
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let mut got = addrs(&ask_udp(server, "web.", RecordType::A).await);
        orders.insert(got.clone());
        got.sort();
        assert_eq!(got, ["10.88.0.2", "10.88.0.3", "10.88.0.4"]);
    }
    assert!(orders.len() >= 2, "the order never changed: {orders:?}");
}

#[tokio::test]
async fn names_are_scoped_and_case_insensitive() {
    let dns = service(vec![]);
    let (server, _guard) = serve(&dns, "client").await;
    let (server_secret, _guard2) = serve(&dns, "secret").await;
    assert_eq!(
        addrs(&ask_udp(server, "DB", RecordType::A).await),
        ["10.88.0.5"]
    );
    assert_eq!(
        addrs(&ask_udp(server, "dB.", RecordType::A).await),
        ["10.88.0.5"]
    );
    // Not on n2: forwarded, and with no upstream that is SERVFAIL.
    let m = ask_udp(server, "secret.", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(m.answers.is_empty());
    let m = ask_udp(server_secret, "secret.", RecordType::A).await;
    assert_eq!(addrs(&m), ["10.99.0.2"]);
    let m = ask_udp(server_secret, "db.", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn add_and_remove_take_effect_at_once() {
    let dns = service(vec![]);
    let (server, _guard) = serve(&dns, "client").await;
    dns.add_endpoint(endpoint("n1", "new", &["fresh"], &["10.88.0.50"]));
    assert_eq!(
        addrs(&ask_udp(server, "fresh.", RecordType::A).await),
        ["10.88.0.50"]
    );
    dns.remove_endpoint("n1", "w2");
    dns.remove_endpoint("n1", "w3");
    assert_eq!(
        addrs(&ask_udp(server, "web.", RecordType::A).await),
        ["10.88.0.2"]
    );
    dns.remove_endpoint("n1", "new");
    let m = ask_udp(server, "fresh.", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn tcp_queries_are_answered() {
    let dns = service(vec![]);
    let (server, _guard) = serve(&dns, "client").await;
    let m = ask_tcp(server, "web-2.", RecordType::A).await;
    assert_eq!(addrs(&m), ["10.88.0.3"]);
}

/// A fake upstream on 127.0.0.1 answering every A query with 192.0.2.7 (UDP and TCP);
/// returns its address and how many queries it saw.
async fn fake_upstream() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (addr, udp, tcp) = loopback_pair().await;
    let counter = seen.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = upstream_reply(&buf[..n]);
            let _ = udp.send_to(&reply, peer).await;
        }
    });
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = tcp.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let n = stream.read_u16().await.unwrap();
            let mut buf = vec![0u8; n as usize];
            stream.read_exact(&mut buf).await.unwrap();
            let reply = upstream_reply(&buf);
            stream.write_u16(reply.len() as u16).await.unwrap();
            stream.write_all(&reply).await.unwrap();
        }
    });
    (addr, seen)
}

fn upstream_reply(query: &[u8]) -> Vec<u8> {
    let q = Message::from_vec(query).unwrap();
    let mut m = Message::response(q.metadata.id, q.metadata.op_code);
    let question = q.queries[0].clone();
    m.add_answer(Record::from_rdata(
        question.name.clone(),
        30,
        RData::A(A([192, 0, 2, 7].into())),
    ));
    m.add_query(question);
    m.to_vec().unwrap()
}

#[tokio::test]
async fn unknown_names_are_forwarded_over_udp_and_tcp() {
    // The first upstream never answers: the second one must be asked after the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (upstream, seen) = fake_upstream().await;
    let dns = service(vec![silent.local_addr().unwrap(), upstream]);
    let (server, _guard) = serve(&dns, "client").await;
    let m = ask_udp(server, "example.org.", RecordType::A).await;
    assert_eq!(addrs(&m), ["192.0.2.7"]);
    let m = ask_tcp(server, "elsewhere.test.", RecordType::A).await;
    assert_eq!(addrs(&m), ["192.0.2.7"]);
    // Docker forwards single-label unknown names too.
    let m = ask_udp(server, "nodots.", RecordType::A).await;
    assert_eq!(addrs(&m), ["192.0.2.7"]);
    // A local name never reaches the upstream.
    let before = seen.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(before, 3);
    ask_udp(server, "web-1.", RecordType::A).await;
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), before);
}

#[tokio::test]
async fn silent_upstream_gives_servfail() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dns = service(vec![silent.local_addr().unwrap()]);
    let (server, _guard) = serve(&dns, "client").await;
    let started = std::time::Instant::now();
    let m = ask_udp(server, "example.org.", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn dropping_the_guard_stops_serving() {
    let dns = service(vec![]);
    let (server, guard) = serve(&dns, "client").await;
    assert_eq!(addrs(&ask_tcp(server, "db.", RecordType::A).await).len(), 1);
    drop(guard);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(server).await.is_err(), "still listening");
}

/// Removes the test's netns pin (and so the namespace) however the test ends.
struct PinGuard(std::path::PathBuf);

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = berth::net::netns::NetNs::remove(&self.0);
    }
}

#[tokio::test]
async fn serves_at_127_0_0_11_inside_a_netns() {
    use berth::net::netns::NetNs;
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED (serves_at_127_0_0_11_inside_a_netns: needs root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("ns");
    let ns = match NetNs::create(&pin) {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("SKIPPED (serves_at_127_0_0_11_inside_a_netns: cannot make a netns: {e:#})");
            return;
        }
    };
    let _pin = PinGuard(pin.clone());
    let dns = service(vec![]);
    let guard = dns.serve_in(&ns, "client").await.unwrap();

    // A client socket made inside the namespace, driven on that thread.
    let wire = query("web-3.", RecordType::A).to_vec().unwrap();
    // run_in blocks its caller: keep it off the runtime's threads, which serve the query.
    let in_ns = ns.clone();
    let answer = tokio::task::spawn_blocking(move || {
        in_ns.run_in(move || -> std::io::Result<Vec<u8>> {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
            socket.set_read_timeout(Some(Duration::from_secs(5)))?;
            socket.send_to(&wire, "127.0.0.11:53")?;
            let mut buf = vec![0u8; 4096];
            let n = socket.recv(&mut buf)?;
            buf.truncate(n);
            Ok(buf)
        })
    })
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(addrs(&Message::from_vec(&answer).unwrap()), ["10.88.0.4"]);

    // And the way a container's tools ask: busybox nslookup over the pin.
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    match busybox {
        Some(busybox) => {
            let out = tokio::process::Command::new("nsenter")
                .arg(format!("--net={}", pin.display()))
                .args([busybox, "nslookup", "db", "127.0.0.11"])
                .output()
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("10.88.0.5"), "nslookup said: {text}");
        }
        None => eprintln!("SKIPPED (nslookup part: busybox not installed)"),
    }
    drop(guard);
}
