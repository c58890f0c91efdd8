//! The API socket: created only after the root's lock is held (so removing a stale socket
//! file can never pull the socket from under a live daemon), mode 0660, group `berth` when
//! that group exists so its members can use berth without root.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", .path.display())]
pub struct SocketError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

fn fail(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SocketError {
    let path = path.to_path_buf();
    move |source| SocketError { what, path, source }
}

/// Binds `path`, replacing a stale socket file a killed daemon left. The caller holds the
/// root lock.
pub fn bind(path: &Path) -> Result<UnixListener, SocketError> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(fail("creating the socket directory", dir))?;
    }
    remove_stale(path)?;
    let listener = UnixListener::bind(path).map_err(fail("binding", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(fail("setting the mode of", path))?;
    give_to_berth_group(path)?;
    Ok(listener)
}

/// Removes `path` when it is a socket; refuses to remove anything else.
fn remove_stale(path: &Path) -> Result<(), SocketError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(fail("removing the stale socket", path))
        }
        Ok(_) => Err(SocketError {
            what: "refusing to replace a non-socket at",
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(fail("inspecting", path)(e)),
    }
}

/// `chown root:berth` when we are root and a `berth` group exists; otherwise the socket stays
/// with the user running the daemon.
fn give_to_berth_group(path: &Path) -> Result<(), SocketError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let Ok(Some(group)) = nix::unistd::Group::from_name("berth") else {
        return Ok(());
    };
    nix::unistd::chown(path, Some(nix::unistd::Uid::from_raw(0)), Some(group.gid))
        .map_err(|e| fail("changing the owner of", path)(std::io::Error::from(e)))
}

/// Removes the socket at shutdown; a missing file is fine.
pub fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(socket = %path.display(), error = %e, "removing the socket");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_with_mode_0660_over_a_stale_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run/s.sock");
        let first = bind(&path).expect("first bind");
        drop(first); // leaves the file behind, like a killed daemon
        assert!(path.exists());
        let _second = bind(&path).expect("rebinds over the stale socket");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o660);
    }

    #[tokio::test]
    async fn refuses_to_replace_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sock");
        std::fs::write(&path, b"not a socket").expect("write");
        assert!(bind(&path).is_err());
        assert_eq!(std::fs::read(&path).expect("still there"), b"not a socket");
    }
}
