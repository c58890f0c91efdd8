//! A throttling TCP proxy on 127.0.0.1 in front of a registry, so a fault test can act while
//! a pull is surely in flight: it counts the bytes sent to the client and slows them to a
//! chosen rate. Killing the registry behind it closes the client's connections too.
//!
//! Threads only (no runtime); Drop stops accepting and shuts every connection down.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running proxy.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    /// Bytes per second per connection towards the client; 0 means unthrottled.
    rate: AtomicU64,
    /// Bytes sent towards clients so far.
    sent: AtomicU64,
    stopping: AtomicBool,
    /// Every stream this proxy holds, to shut them down on Drop.
    streams: Mutex<Vec<TcpStream>>,
}

impl Proxy {
    /// Proxies a free port to `upstream` (`127.0.0.1:PORT`), sending at most `rate` bytes per
    /// second per connection to the client (0: no limit).
    pub fn start(upstream: &str, rate: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let port = listener.local_addr().expect("proxy addr").port();
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            rate: AtomicU64::new(rate),
            sent: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            streams: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        std::thread::spawn(move || accept_loop(listener, accept_shared));
        Proxy { port, shared }
    }

    /// `127.0.0.1:PORT` of the proxy: image references go through it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Bytes sent to clients so far.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::SeqCst)
    }

    /// Changes the throttle (0: no limit) for data sent from now on.
    pub fn set_rate(&self, rate: u64) {
        self.shared.rate.store(rate, Ordering::SeqCst);
    }

    /// Waits until more than `bytes` went to clients; false after `timeout`.
    pub fn wait_sent(&self, bytes: u64, timeout: Duration) -> bool {
        super::wait_until(timeout, || self.sent() > bytes)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr());
        if let Ok(streams) = self.shared.streams.lock() {
            for s in streams.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(upstream) = TcpStream::connect(&shared.upstream) else {
            // The registry is down: the client sees a closed connection, as it would.
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        remember(&shared, &client);
        remember(&shared, &upstream);
        let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
            continue;
        };
        let up_shared = Arc::clone(&shared);
        std::thread::spawn(move || pump(c2, u2, &up_shared, false));
        let down_shared = Arc::clone(&shared);
        std::thread::spawn(move || pump(upstream, client, &down_shared, true));
    }
}

fn remember(shared: &Shared, stream: &TcpStream) {
    if let (Ok(mut streams), Ok(clone)) = (shared.streams.lock(), stream.try_clone()) {
        streams.push(clone);
    }
}

/// Copies `from` to `to` until either side ends, then shuts both down (so a dying registry
/// closes the client's connection); counts and throttles the client-bound direction.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, to_client: bool) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if to_client {
            shared.sent.fetch_add(n as u64, Ordering::SeqCst);
            let rate = shared.rate.load(Ordering::SeqCst);
            if rate > 0 {
                std::thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
