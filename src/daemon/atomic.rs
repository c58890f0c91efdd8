//! Whole-file replacement for the daemon's files: a temporary file renamed over the old
//! one, so a reader, or a daemon restarted after being killed, sees the old or the new
//! content and never half of it.
//!
//! Two strengths: [`write_synced`] also syncs the file and its directory, so the change
//! survives a power cut (records that cannot be rebuilt: containers, networks, volumes);
//! [`write_replace`] only renames, which survives a killed daemon (the page cache outlives
//! the process) and costs no disk flush (files made again at every start: `init.json`, the
//! `/etc` files, address bookkeeping that a restart reconciles).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Temp file, fsync, rename over `path`, fsync of the directory.
pub fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write(path, bytes, true)
}

/// Temp file, rename over `path`; no flush to disk.
pub fn write_replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write(path, bytes, false)
}

fn write(path: &Path, bytes: &[u8], sync: bool) -> anyhow::Result<()> {
    let dir = path.parent().context("a record path has a parent")?;
    let tmp = temp_path(path);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if sync {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// `<name>.tmp` beside `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_strengths_replace_the_whole_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("record.json");
        write_synced(&path, b"old and longer").expect("synced");
        write_replace(&path, b"new").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        assert!(!temp_path(&path).exists());
        let missing = dir.path().join("no/such/dir/file");
        assert!(write_replace(&missing, b"x").is_err());
        assert!(!temp_path(&missing).exists());
    }
}
