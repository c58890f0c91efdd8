//! Zero-copy TCP relaying: bytes move socket → pipe → socket with splice(2), never through
//! user space (what Go's io.Copy does between TCP connections, so what docker-proxy does).
//! Each direction has its own pipe; an EOF shuts down writing on the other side.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{fcntl, splice, FcntlArg, OFlag, SpliceFFlags};
use nix::sys::socket::{shutdown, Shutdown};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Pipe capacity asked for: fewer wake-ups per byte on bulk transfers.
const PIPE_SIZE: i32 = 1 << 20;

/// Relays both ways until both directions have ended (or one fails).
pub(super) async fn relay(a: &TcpStream, b: &TcpStream) -> io::Result<()> {
    tokio::try_join!(pump(a, b), pump(b, a))?;
    Ok(())
}

fn new_pipe() -> io::Result<(OwnedFd, OwnedFd, usize)> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
    // The kernel may refuse a large pipe (pipe-max-size): the default then.
    let size = fcntl(w.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE))
        .or_else(|_| fcntl(w.as_raw_fd(), FcntlArg::F_GETPIPE_SZ))
        .map(|n| n as usize)
        .unwrap_or(1 << 16);
    Ok((r, w, size))
}

/// `from` → `to` until EOF on `from`, then half-closes `to`.
async fn pump(from: &TcpStream, to: &TcpStream) -> io::Result<()> {
    let (pr, pw, size) = new_pipe()?;
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    loop {
        from.readable().await?;
        let n = match from.try_io(Interest::READABLE, || {
            splice(from.as_fd(), None, pw.as_fd(), None, size, flags).map_err(io::Error::from)
        }) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // Half close: the peer may still answer in the other direction.
            let _ = shutdown(to.as_raw_fd(), Shutdown::Write);
            return Ok(());
        }
        let mut in_pipe = n;
        while in_pipe > 0 {
            to.writable().await?;
            match to.try_io(Interest::WRITABLE, || {
                splice(pr.as_fd(), None, to.as_fd(), None, in_pipe, flags).map_err(io::Error::from)
            }) {
                Ok(m) => in_pipe -= m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}
