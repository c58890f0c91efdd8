//! The state root's lock: one daemon per root, held (flock on `<root>/lock`) for the
//! daemon's whole life and released by the kernel when it dies, even by SIGKILL.
//!
//! Must not remove or truncate anything: it only proves ownership, which every other step
//! of start-up (stale socket removal, store recovery) relies on.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why the root could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another berth daemon is using {}", .0.display())]
    Held(PathBuf),
    #[error("locking {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Holds the root's lock until dropped.
#[derive(Debug)]
pub struct RootLock {
    _flock: Flock<File>,
}

/// Takes the exclusive lock on `<root>/lock` without waiting.
pub fn acquire(root: &Path) -> Result<RootLock, LockError> {
    let path = root.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(flock) => Ok(RootLock { _flock: flock }),
        Err((_, Errno::EWOULDBLOCK)) => Err(LockError::Held(root.to_path_buf())),
        Err((_, errno)) => Err(LockError::Io {
            path,
            source: std::io::Error::from(errno),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_root_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = acquire(dir.path()).expect("first lock");
        let err = acquire(dir.path()).expect_err("second lock must fail");
        assert!(matches!(err, LockError::Held(_)));
        assert!(err
            .to_string()
            .starts_with("another berth daemon is using "));
        drop(first);
        acquire(dir.path()).expect("lock is free again after drop");
    }
}
