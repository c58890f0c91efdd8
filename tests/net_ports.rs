//! Published ports through berth's userland proxy, on loopback with the "container" at
//! 127.0.0.1 served by echo servers this test runs: TCP and UDP echo, a large transfer
//! intact, random ports, Docker's port-in-use errors, all-or-nothing binding.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use berth::engine::spec::PortBinding;
use berth::net::ports::{expand, PortError, PortMapping, PortPublisher, Proto};

const LOCAL: &str = "127.0.0.1";

fn local() -> IpAddr {
    LOCAL.parse().unwrap()
}

/// A TCP echo server on a random loopback port (threads, gone with the test process).
fn tcp_echo() -> u16 {
    let l = TcpListener::bind((LOCAL, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            std::thread::spawn(move || {
                let mut r = c.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

fn udp_echo() -> u16 {
    let s = UdpSocket::bind((LOCAL, 0)).unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, peer)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], peer);
        }
    });
    port
}

fn mapping(proto: Proto, host_port: u16, container_port: u16) -> PortMapping {
    PortMapping {
        proto,
        host_ip: local(),
        host_port,
        container_port,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect((LOCAL, port)).expect("connect through the proxy");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn tcp_echo_through_the_proxy_with_a_random_port() {
    let backend = tcp_echo();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let published = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Tcp, 0, backend)]))
        .expect("publish");
    let port = published.bound[0].host_port;
    assert_ne!(port, 0, "the random port is reported");
    assert_eq!(published.bound[0].container_port, backend);

    let mut s = connect(port);
    s.write_all(b"hello berth").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert_eq!(
        got, "hello berth",
        "echo, then EOF passed through (half close)"
    );
    drop(published);
    // The listener goes with the proxy task, a moment after the drop.
    let deadline = Instant::now() + Duration::from_secs(2);
    while TcpListener::bind((LOCAL, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "port {port} still bound after drop"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn large_transfer_arrives_intact() {
    let backend = tcp_echo();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let published = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Tcp, 0, backend)]))
        .expect("publish");
    let s = connect(published.bound[0].host_port);
    let total = 32 * 1024 * 1024;
    let data: Vec<u8> = (0..total).map(|i| (i * 7 % 251) as u8).collect();
    let mut w = s.try_clone().unwrap();
    let to_send = data.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&to_send).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut got = Vec::with_capacity(total);
    let mut r = s;
    r.read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes changed on the way");
}

#[test]
fn udp_echo_through_the_proxy() {
    let backend = udp_echo();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let published = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Udp, 0, backend)]))
        .expect("publish");
    let port = published.bound[0].host_port;
    assert_ne!(port, 0);
    // Two clients: each gets its own replies.
    let a = UdpSocket::bind((LOCAL, 0)).unwrap();
    let b = UdpSocket::bind((LOCAL, 0)).unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    let mut buf = [0u8; 2048];
    for round in 0..3 {
        a.send_to(format!("a{round}").as_bytes(), (LOCAL, port))
            .unwrap();
        b.send_to(format!("b{round}").as_bytes(), (LOCAL, port))
            .unwrap();
        let (n, from) = a.recv_from(&mut buf).expect("reply to a");
        assert_eq!(&buf[..n], format!("a{round}").as_bytes());
        assert_eq!(
            from,
            SocketAddr::new(local(), port),
            "replies come from the published port"
        );
        let (n, _) = b.recv_from(&mut buf).expect("reply to b");
        assert_eq!(&buf[..n], format!("b{round}").as_bytes());
    }
}

#[test]
fn port_held_by_another_process_gives_dockers_error() {
    let held = TcpListener::bind((LOCAL, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let err = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Tcp, port, 80)]))
        .err()
        .expect("must fail");
    assert!(matches!(err, PortError::InUse(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("failed to bind host port for 127.0.0.1:{port}:127.0.0.1:80/tcp: address already in use")
    );
}

#[test]
fn port_held_by_berth_is_already_allocated() {
    let backend = tcp_echo();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let first = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Tcp, 0, backend)]))
        .expect("publish");
    let port = first.bound[0].host_port;
    let err = rt
        .block_on(publisher.publish(local(), &[mapping(Proto::Tcp, port, 81)]))
        .err()
        .expect("must fail");
    assert_eq!(
        err.to_string(),
        format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
    );
    // The first publication still works.
    let mut s = connect(port);
    s.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
}

#[test]
fn all_or_nothing() {
    let held = UdpSocket::bind((LOCAL, 0)).unwrap();
    let taken = held.local_addr().unwrap().port();
    // A free port for the first mapping: bound, released, then asked for.
    let free = TcpListener::bind((LOCAL, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let err = rt
        .block_on(publisher.publish(
            local(),
            &[
                mapping(Proto::Tcp, free, 80),
                mapping(Proto::Udp, taken, 53),
            ],
        ))
        .err()
        .expect("second mapping must fail");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{taken}:")),
        "{err}"
    );
    // The first one is no longer bound: it can be bound again at once.
    TcpListener::bind((LOCAL, free)).expect("first port released");
}

#[test]
fn all_addresses_share_one_random_port() {
    if !std::path::Path::new("/proc/net/if_inet6").exists() {
        eprintln!("SKIPPED (no IPv6 on this host) !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        return;
    }
    let backend = tcp_echo();
    let mut bindings = BTreeMap::new();
    bindings.insert(
        format!("{backend}/tcp"),
        Some(vec![PortBinding {
            host_ip: String::new(),
            host_port: String::new(),
        }]),
    );
    let mappings = expand(&bindings, &BTreeSet::new(), false).expect("expand");
    assert_eq!(mappings.len(), 2, "{mappings:?}");
    let rt = rt();
    let publisher = PortPublisher::new(None);
    let published = rt
        .block_on(publisher.publish(local(), &mappings))
        .expect("publish");
    let (a, b) = (&published.bound[0], &published.bound[1]);
    assert!(
        a.host_ip.is_ipv4() && b.host_ip.is_ipv6(),
        "{:?}",
        published.bound
    );
    assert_ne!(a.host_port, 0);
    assert_eq!(a.host_port, b.host_port, "`::` twin reuses the port");
    // Reached over IPv4 loopback (v6 loopback may be absent in a sandbox).
    let mut s = connect(a.host_port);
    s.write_all(b"v").unwrap();
    let mut buf = [0u8; 1];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"v");
}

#[test]
fn expand_follows_dockers_rules() {
    let mut bindings = BTreeMap::new();
    bindings.insert(
        "8000-8001/udp".to_string(),
        Some(vec![PortBinding {
            host_ip: "127.0.0.1".into(),
            host_port: "9000-9001".into(),
        }]),
    );
    let exposed: BTreeSet<String> = ["8000/udp".to_string(), "443/tcp".to_string()].into();
    let got = expand(&bindings, &exposed, true).expect("expand");
    assert_eq!(
        got[0],
        PortMapping {
            proto: Proto::Udp,
            host_ip: local(),
            host_port: 9000,
            container_port: 8000
        }
    );
    assert_eq!(
        got[1],
        PortMapping {
            proto: Proto::Udp,
            host_ip: local(),
            host_port: 9001,
            container_port: 8001
        }
    );
    // -P: 443/tcp on a random port, on every address.
    assert!(got[2..]
        .iter()
        .all(|m| m.container_port == 443 && m.host_port == 0 && m.host_ip.is_unspecified()));
    assert!(!got[2..].is_empty());

    let mut bad = BTreeMap::new();
    bad.insert(
        "80/tcp".to_string(),
        Some(vec![PortBinding {
            host_ip: String::new(),
            host_port: "http".into(),
        }]),
    );
    let err = expand(&bad, &BTreeSet::new(), false).unwrap_err();
    assert_eq!(err.to_string(), "invalid port specification: \"http\"");
}
