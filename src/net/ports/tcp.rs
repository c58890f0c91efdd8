//! The TCP half of the userland proxy: each accepted connection is joined to a fresh
//! connection to the container and bytes are copied both ways, half-close aware (an EOF on
//! one side shuts down writing on the other), zero-copy through splice(2) ([`super::splice`]).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Accepts until aborted; aborting drops the listener and every connection (the set).
pub(super) async fn serve(listener: TcpListener, target: SocketAddr) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    conns.spawn(proxy(client, target));
                }
                Err(e) => {
                    // EMFILE and the like: back off instead of spinning.
                    tracing::warn!("accept on {:?}: {e}", listener.local_addr());
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn proxy(client: TcpStream, target: SocketAddr) {
    let backend = match TcpStream::connect(target).await {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!("proxy to {target}: {e}");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = backend.set_nodelay(true);
    if let Err(e) = super::splice::relay(&client, &backend).await {
        tracing::debug!("proxy to {target}: {e}");
    }
}
