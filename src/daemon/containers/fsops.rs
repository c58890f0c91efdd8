//! `docker diff` (the upper dir against the image layers, `engine::fsdiff`) and `docker cp`
//! (the archive API, `engine::archive`) against the container's root: `/proc/<pid>/root`
//! while it runs; for a stopped container its overlay mounted read-write on `fs/merged` in
//! the daemon's namespace for the duration of the call only (unmounted by a Drop guard,
//! under the container's operation lock so a start cannot race the mount).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::entry::Entry;
use super::store::Record;
use super::{ContainerError, Containers};
use crate::api::container_types::{FilesystemChange, PathStat};
use crate::engine::archive::{self, ArchiveError, ExtractOptions};
use crate::engine::fsdiff;
use crate::image::digest::Digest;

impl Containers {
    pub(super) async fn container_changes(
        &self,
        entry: &Arc<Entry>,
    ) -> Result<Vec<FilesystemChange>, ContainerError> {
        let lowers = self.lower_dirs(&entry.snapshot());
        let upper = entry.dir.join("fs/upper");
        super::blocking("diffing the container", move || {
            Ok(fsdiff::changes(&upper, &lowers)?)
        })
        .await
    }

    /// Image layer directories, top-most first.
    fn lower_dirs(&self, record: &Record) -> Vec<PathBuf> {
        record
            .layers
            .iter()
            .rev()
            .filter_map(|c| Digest::parse(c).ok())
            .map(|d| self.images.layer_dir(&d))
            .collect()
    }

    /// The container's root and, for a stopped one, the mount guard and operation lock
    /// that keep it valid.
    async fn root_of(&self, entry: &Arc<Entry>) -> Result<RootAccess, ContainerError> {
        let op = entry.op.clone().lock_owned().await;
        let record = entry.snapshot();
        if record.state.status.is_running() && record.state.pid > 0 {
            drop(op);
            return Ok(RootAccess {
                root: PathBuf::from(format!("/proc/{}/root", record.state.pid)),
                _mount: None,
                _op: None,
            });
        }
        let lowers = self.lower_dirs(&record);
        let dir = entry.dir.clone();
        let mount = super::blocking("mounting the container's root", move || {
            OverlayMount::mount(&dir, &lowers)
        })
        .await?;
        Ok(RootAccess {
            root: mount.target.clone(),
            _mount: Some(mount),
            _op: Some(op),
        })
    }

    pub(super) async fn stat_path(
        &self,
        entry: &Arc<Entry>,
        path: &str,
    ) -> Result<PathStat, ContainerError> {
        let access = self.root_of(entry).await?;
        let path = path.to_string();
        let name = entry.snapshot().name;
        run_archive(
            move || {
                let r = archive::stat(&access.root, &path);
                drop(access);
                r
            },
            name,
        )
        .await
    }

    pub(super) async fn read_archive(
        &self,
        entry: &Arc<Entry>,
        path: &str,
    ) -> Result<(PathStat, mpsc::Receiver<std::io::Result<Bytes>>), ContainerError> {
        let access = self.root_of(entry).await?;
        let name = entry.snapshot().name;
        let root = access.root.clone();
        let p = path.to_string();
        let stat = run_archive(move || archive::stat(&root, &p), name).await?;
        let (tx, rx) = mpsc::channel(16);
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            let mut out = ChannelWriter { tx: tx.clone() };
            let result = archive::write_tar(&access.root, &path, &mut out);
            drop(access);
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        });
        Ok((stat, rx))
    }

    pub(super) async fn write_archive(
        &self,
        entry: &Arc<Entry>,
        path: &str,
        no_overwrite_dir_non_dir: bool,
        copy_uid_gid: bool,
        mut body: mpsc::Receiver<Bytes>,
    ) -> Result<(), ContainerError> {
        // `copyUIDGID` (the container user's owner) needs the user lookup; entries keep
        // the tar's owners for now.
        let _ = copy_uid_gid;
        let access = self.root_of(entry).await?;
        let name = entry.snapshot().name;
        let path = path.to_string();
        // The body arrives async; the extraction reads it through a blocking pipe.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(16);
        tokio::spawn(async move {
            while let Some(chunk) = body.recv().await {
                if tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        let opts = ExtractOptions {
            no_overwrite_dir_non_dir,
            chown: None,
        };
        run_archive(
            move || {
                let reader = ChannelReader {
                    rx,
                    buf: Bytes::new(),
                };
                let r = archive::extract_tar(&access.root, &path, reader, &opts);
                drop(access);
                r
            },
            name,
        )
        .await
    }
}

async fn run_archive<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ArchiveError> + Send + 'static,
    container: String,
) -> Result<T, ContainerError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(match &e {
            ArchiveError::NotFound(_) => ContainerError::NotFound(e.message(&container)),
            ArchiveError::NotADirectory | ArchiveError::Invalid(_) => {
                ContainerError::Invalid(e.message(&container))
            }
            ArchiveError::Io(_) => ContainerError::Internal(anyhow::anyhow!(e.message(&container))),
        }),
        Err(e) => Err(ContainerError::Internal(anyhow::anyhow!("{e}"))),
    }
}

/// A root directory kept valid while in use.
struct RootAccess {
    root: PathBuf,
    _mount: Option<OverlayMount>,
    _op: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// The stopped container's overlay on `fs/merged`, unmounted on drop.
struct OverlayMount {
    target: PathBuf,
}

impl OverlayMount {
    fn mount(dir: &Path, lowers: &[PathBuf]) -> anyhow::Result<OverlayMount> {
        use nix::mount::{mount, MsFlags};
        let target = dir.join("fs/merged");
        let upper = dir.join("fs/upper");
        if lowers.is_empty() {
            mount(
                Some(&upper),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| anyhow::anyhow!("bind-mounting {}: {e}", upper.display()))?;
        } else {
            let lower: Vec<String> = lowers.iter().map(|l| l.display().to_string()).collect();
            let opts = format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.join(":"),
                upper.display(),
                dir.join("fs/work").display()
            );
            mount(
                Some("overlay"),
                &target,
                Some("overlay"),
                MsFlags::empty(),
                Some(opts.as_str()),
            )
            .map_err(|e| anyhow::anyhow!("mounting the overlay on {}: {e}", target.display()))?;
        }
        Ok(OverlayMount { target })
    }
}

impl Drop for OverlayMount {
    fn drop(&mut self) {
        if let Err(e) = nix::mount::umount2(&self.target, nix::mount::MntFlags::MNT_DETACH) {
            tracing::warn!(target = %self.target.display(), "unmounting: {e}");
        }
    }
}

/// Tar bytes to the response body.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The request body as a blocking reader.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Bytes>,
    buf: Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.buf = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}
