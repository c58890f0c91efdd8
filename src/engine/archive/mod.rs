//! `docker cp` against a container's root directory (the daemon passes
//! `/proc/<pid>/root` of a running container or a temporary mount of a stopped one):
//! [`stat`] (the `X-Docker-Container-Path-Stat` header), [`write_tar`] (GET archive) and
//! [`extract_tar`] (PUT archive). Paths are resolved INSIDE the root as a chroot would
//! (absolute symlinks restart at the root, `..` stops at it), never by the host kernel.
//!
//! Not done: the container may change its files while we walk them (Docker chroots into the
//! root to close that window; we re-resolve per entry but do not use `openat2`), `uname` and
//! `gname` are not written, xattrs are neither archived nor restored.

use std::io;

mod pack;
mod resolve;
mod stat;
mod unpack;

pub use pack::write_tar;
pub use resolve::{resolve, Target};
pub use stat::{go_file_mode, stat};
pub use unpack::{extract_tar, ExtractOptions};

/// Why a copy failed; [`ArchiveError::message`] gives Docker's text.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// 404: the path (as the client gave it) does not exist in the container.
    #[error("Could not find the file {0} in container")]
    NotFound(String),
    /// 400: PUT to something that is not a directory.
    #[error("extraction point is not a directory")]
    NotADirectory,
    /// 400: a tar entry that would land outside the destination, or would replace what the
    /// caller asked not to replace (Docker's texts).
    #[error("{0}")]
    Invalid(String),
    /// 500.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl ArchiveError {
    /// Docker's message, naming the container as the client called it.
    pub fn message(&self, container: &str) -> String {
        match self {
            ArchiveError::NotFound(path) => {
                format!("Could not find the file {path} in container {container}")
            }
            other => other.to_string(),
        }
    }
}

/// `io::Error` → `NotFound(path)` when it says so.
fn not_found(path: &str) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |e| {
        if e.kind() == io::ErrorKind::NotFound {
            ArchiveError::NotFound(path.to_string())
        } else {
            ArchiveError::Io(e)
        }
    }
}

#[cfg(test)]
mod tests;
