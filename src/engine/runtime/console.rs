//! `-t`: the container's pty, made as runc makes it. The process opens `/dev/ptmx` of the
//! container's own devpts (so `ttyname` finds `/dev/pts/N` inside), makes the slave its
//! stdio and controlling terminal, binds it on `/dev/console` (the init only, as Docker
//! does), and sends the master to the shim over a "console socket" (`SCM_RIGHTS`).

use std::fs::{File, OpenOptions};
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;
use nix::libc;
use nix::mount::{mount, MsFlags};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};

use super::{RuntimeError, Step};

/// A connected pair of unix sockets (close-on-exec): the shim keeps the first and receives
/// the master on it; the second goes to the runtime in [`super::Stdio::Console`].
pub fn console_socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

/// Takes the pty master the process sent (call once `spawn_*` has returned: the process
/// sent it before exec). Never blocks: nothing sent is an error.
pub fn receive_console(socket: &OwnedFd) -> std::io::Result<File> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            let mut owned = fds.into_iter().map(|fd| {
                // SAFETY: the kernel just installed `fd` in our table for this message;
                // nothing else owns it.
                unsafe { File::from_raw_fd(fd) }
            });
            if let Some(master) = owned.next() {
                return Ok(master);
            }
        }
    }
    Err(std::io::Error::other("the container sent no console"))
}

/// In the process, after `/dev/pts` is mounted and the root pivoted: opens a pty of the
/// container's devpts, binds the slave on `/dev/console` when `bind_console`, sends the
/// master over `socket` and returns the slave.
pub(super) fn open_console(socket: OwnedFd, bind_console: bool) -> Result<OwnedFd, RuntimeError> {
    let step = "setting up the console";
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).step(step)?;
    unlockpt(&master).step(step)?;
    let path = ptsname_r(&master).step(step)?;
    let slave: OwnedFd = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&path)
        .step(format!("opening {path}"))?
        .into();
    if bind_console {
        mount_console(Path::new(&path))?;
    }
    let fds = [master.as_raw_fd()];
    let iov = [std::io::IoSlice::new(b"c")];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .step("sending the console to the shim")?;
    Ok(slave)
}

/// Binds the pty's slave on `/dev/console`, creating the mount point (runc does this).
fn mount_console(slave: &Path) -> Result<(), RuntimeError> {
    let dest = Path::new("/dev/console");
    let step = "mounting /dev/console";
    if std::fs::symlink_metadata(dest).is_err() {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(dest)
            .step(step)?;
    }
    mount(
        Some(slave),
        dest,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .step(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_descriptor_arrives() {
        let (shim, runtime) = console_socket_pair().unwrap();
        assert!(receive_console(&shim).is_err(), "nothing sent yet");
        let file = File::open("/dev/null").unwrap();
        let fds = [file.as_raw_fd()];
        let iov = [std::io::IoSlice::new(b"c")];
        sendmsg::<()>(
            runtime.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )
        .unwrap();
        let got = receive_console(&shim).unwrap();
        let a = std::fs::metadata("/dev/null").unwrap();
        let b = got.metadata().unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
    }
}
