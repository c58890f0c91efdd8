//! Published-port TCP throughput on loopback: a stream of `BERTH_BENCH_PROXY_MIB` MiB
//! (default 1024) into a sink, sent directly, through berth's proxy (`PortPublisher` with
//! the "container" at 127.0.0.1) and through docker-proxy when it is installed (started and
//! killed by PID here). Prints MB/s side by side, best of `BERTH_BENCH_PROXY_RUNS` (3).
//!
//! Run: `cargo bench --bench proxy`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth::net::ports::{PortMapping, PortPublisher, Proto};

const DOCKER_PROXY: &str = "/usr/sbin/docker-proxy";
const CHUNK: usize = 1 << 20;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A sink on loopback: reads each connection to EOF, then closes it.
fn sink() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("sink");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            std::thread::spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// MB/s of `bytes` sent to `port` until the far end has read it all (its close comes back).
fn stream(port: u16, bytes: usize) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let chunk = vec![0x5au8; CHUNK];
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK);
        s.write_all(&chunk[..n]).expect("write");
        left -= n;
    }
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn best(runs: usize, port: u16, bytes: usize) -> f64 {
    (0..runs).map(|_| stream(port, bytes)).fold(0.0, f64::max)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_listening(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn docker_proxy(sink: u16, runs: usize, bytes: usize) -> Option<f64> {
    if !std::path::Path::new(DOCKER_PROXY).exists() {
        return None;
    }
    let port = free_port();
    // docker-proxy reports readiness on fd 3 and would close whatever sits there (its own
    // listener, when fd 3 was free): give it /dev/null, with `exec` so the PID is its own.
    let script = format!(
        "exec {DOCKER_PROXY} -proto tcp -host-ip 127.0.0.1 -host-port {port} \\
         -container-ip 127.0.0.1 -container-port {sink} 3>/dev/null"
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let result = wait_listening(port).then(|| best(runs, port, bytes));
    // Our own child, by PID.
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn main() {
    // `cargo test --all-targets` runs this without `--bench`: a small smoke run then.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mib = if smoke {
        8
    } else {
        env_or("BERTH_BENCH_PROXY_MIB", 1024)
    };
    let runs = if smoke {
        1
    } else {
        env_or("BERTH_BENCH_PROXY_RUNS", 3).max(1)
    };
    let bytes = mib * 1024 * 1024;
    let sink = sink();

    let direct = best(runs, sink, bytes);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let publisher = PortPublisher::new(None);
    let mapping = PortMapping {
        proto: Proto::Tcp,
        host_ip: "127.0.0.1".parse().expect("ip"),
        host_port: 0,
        container_port: sink,
    };
    let published = rt
        .block_on(publisher.publish("127.0.0.1".parse().expect("ip"), &[mapping]))
        .expect("publish");
    let berth = best(runs, published.bound[0].host_port, bytes);
    drop(published);

    let docker = docker_proxy(sink, runs, bytes);

    println!("published-port TCP throughput, {mib} MiB on loopback, best of {runs}");
    println!("{:<16} {:>10}", "path", "MB/s");
    println!("{:<16} {:>10.0}", "direct", direct);
    println!("{:<16} {:>10.0}", "berth proxy", berth);
    match docker {
        Some(d) => {
            println!("{:<16} {:>10.0}", "docker-proxy", d);
            println!("berth / docker-proxy: {:.2}", berth / d);
        }
        None => println!("{:<16} {:>10}", "docker-proxy", "(not installed)"),
    }
}
