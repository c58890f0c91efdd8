//! One `up`/`down`/`create`/`start`... at a time per project on this machine: two `up` at
//! once on one project are serialised, not interleaved (Docker Compose does not do this;
//! interleaving creates duplicate replicas).
//!
//! An advisory `flock` on `$XDG_RUNTIME_DIR/berth/projects/<project>.lock` (else
//! `/tmp/berth-<uid>/projects/...`), taken on a blocking thread; released when the lock
//! (and so the open file) is dropped, or when the process dies.

use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};

/// Held while a verb changes a project.
pub struct ProjectLock {
    _lock: Flock<std::fs::File>,
}

impl ProjectLock {
    /// Waits until no other berth process holds the project's lock, then holds it.
    pub async fn acquire(project: &str) -> std::io::Result<ProjectLock> {
        let path = lock_dir().join(format!("{project}.lock"));
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            let lock = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, errno)| std::io::Error::from(errno))?;
            Ok(ProjectLock { _lock: lock })
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

fn lock_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("berth/projects"),
        None => PathBuf::from(format!("/tmp/berth-{}/projects", nix::unistd::getuid())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let project = format!("lock-test-{}", std::process::id());
        let first = ProjectLock::acquire(&project).await.expect("first lock");
        let second = tokio::spawn({
            let project = project.clone();
            async move { ProjectLock::acquire(&project).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the second lock must wait");
        drop(first);
        let held = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("second lock after release")
            .expect("join")
            .expect("lock");
        drop(held);
        let _ = std::fs::remove_file(lock_dir().join(format!("{project}.lock")));
    }
}
