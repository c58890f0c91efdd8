//! Network namespaces pinned by a bind mount on a file, so they outlive any process and can
//! be prepared (veth, addresses, routes, DNS sockets) before the container's init runs.
//! Removing the file (unmount + unlink) lets the kernel destroy the namespace together with
//! its veth ends, which is far cheaper than deleting each veth.
//!
//! Namespaces are made and entered on fresh threads (`unshare`/`setns` of the network
//! namespace affect only the calling thread), so the daemon's own threads never move.
//!
//! The pins are mounts in the daemon's mount namespace; a container's mount namespace
//! starts as a copy holding them too. The runtime pivots into the container's root and
//! detaches the old one, which drops those copies: a pin removed here is then really gone
//! and its namespace freed once the last process and socket in it are. A socket still
//! open in the namespace (a [`crate::net::link::Netlink`] made by `in_netns`, the DNS
//! server's) keeps it alive too: drop those before removing the pin.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::net::link::sync::{set_link_up, LOOPBACK_INDEX};

/// A network namespace pinned at `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetNs {
    path: PathBuf,
}

impl NetNs {
    /// Makes a new network namespace pinned at `path` (the file is created; its parent
    /// must exist). `lo` is brought up. A pin already at `path` (left by a crash) is
    /// removed first.
    pub fn create(path: &Path) -> anyhow::Result<NetNs> {
        NetNs::remove(path)?;
        File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("creating netns pin {}", path.display()))?;
        let pin = path.to_path_buf();
        let made = on_thread(move || pin_new_namespace(&pin));
        if let Err(e) = made {
            let _ = NetNs::remove(path);
            return Err(e);
        }
        Ok(NetNs::at(path))
    }

    /// An already pinned namespace (after a daemon restart).
    pub fn at(path: &Path) -> NetNs {
        NetNs {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An open descriptor of the namespace (for `IFLA_NET_NS_FD` and `setns`).
    pub fn open(&self) -> anyhow::Result<File> {
        File::open(&self.path).with_context(|| format!("opening netns {}", self.path.display()))
    }

    /// Runs `f` on a fresh thread that has entered this namespace: sockets made there
    /// stay in it (netlink handles, the DNS server's sockets).
    pub fn run_in<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let ns = self.open()?;
        let path = self.path.clone();
        on_thread(move || {
            setns(&ns, CloneFlags::CLONE_NEWNET)
                .with_context(|| format!("entering netns {}", path.display()))?;
            Ok(f())
        })
    }

    /// Unmounts and deletes the pin; absent is fine (idempotent).
    pub fn remove(path: &Path) -> anyhow::Result<()> {
        match umount2(path, MntFlags::MNT_DETACH) {
            // EINVAL: a file there that is not (or no longer) a mount point.
            Ok(()) | Err(Errno::ENOENT) | Err(Errno::EINVAL) => {}
            Err(e) => return Err(e).with_context(|| format!("unmounting {}", path.display())),
        }
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
}

/// On the calling (fresh) thread: a new network namespace bind-mounted on `pin`, `lo` up.
fn pin_new_namespace(pin: &Path) -> anyhow::Result<()> {
    unshare(CloneFlags::CLONE_NEWNET).context("unshare(CLONE_NEWNET)")?;
    mount(
        Some("/proc/thread-self/ns/net"),
        pin,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .with_context(|| format!("bind-mounting the namespace on {}", pin.display()))?;
    set_link_up(LOOPBACK_INDEX).context("bringing lo up")
}

/// Runs `f` on a new thread and waits for it; the thread's namespace dies with it.
fn on_thread<T, F>(f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
{
    std::thread::Builder::new()
        .name("netns".into())
        .spawn(f)
        .context("spawning a netns thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("netns thread panicked"))?
}
