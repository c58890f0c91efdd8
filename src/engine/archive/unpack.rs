//! `PUT /containers/{id}/archive`: extraction of a tar into a directory of the container,
//! confined to the container's root. Entry names are cleaned as Docker does and may not
//! climb out of the destination; parents are resolved inside the root (a symlink in the
//! container can redirect an entry elsewhere in the container, never onto the host);
//! hard links must point inside the destination; relative symlink targets may not leave it.
//! Existing entries are replaced, directories merged, as Docker's `Unpack` does.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{lchown, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;

use super::resolve::{clean_entry, resolve_rel};
use super::{not_found, ArchiveError};

/// PUT archive options.
#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory by a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Owner for every entry (`copyUIDGID`: the container's user); `None` keeps the tar's.
    pub chown: Option<(u32, u32)>,
}

/// Extracts the tar read from `input` into directory `dest` of the container whose root is
/// `root`. `dest` is resolved fully (a symlink to a directory is fine).
pub fn extract_tar(
    root: &Path,
    dest: &str,
    input: impl Read,
    opts: &ExtractOptions,
) -> Result<(), ArchiveError> {
    let dest_rel = resolve_rel(root, Path::new(dest), true)?;
    let meta = fs::symlink_metadata(root.join(&dest_rel)).map_err(not_found(dest))?;
    if !meta.is_dir() {
        return Err(ArchiveError::NotADirectory);
    }
    let mut archive = tar::Archive::new(input);
    // Directory times are set last: adding entries would change them again.
    let mut dir_times = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw_name = entry.path()?.into_owned();
        let Some(name) = clean_entry(&raw_name) else {
            return Err(outside(&raw_name, dest));
        };
        if name.as_os_str().is_empty() {
            // "." is the destination itself, which exists.
            continue;
        }
        if let Some(host) = place(root, &dest_rel, dest, &name, &mut entry, opts)? {
            if entry.header().entry_type().is_dir() {
                dir_times.push((host, entry.header().mtime().unwrap_or(0)));
            }
        }
    }
    for (host, mtime) in dir_times.into_iter().rev() {
        set_mtime(&host, mtime)?;
    }
    Ok(())
}

fn outside(name: &Path, dest: &str) -> ArchiveError {
    ArchiveError::Invalid(format!(
        "{:?} is outside of {:?}",
        name.display().to_string(),
        dest
    ))
}

/// Creates one entry; returns its host path (`None` for entries that are skipped).
fn place<R: Read>(
    root: &Path,
    dest_rel: &Path,
    dest: &str,
    name: &Path,
    entry: &mut tar::Entry<R>,
    opts: &ExtractOptions,
) -> Result<Option<PathBuf>, ArchiveError> {
    let header = entry.header().clone();
    let kind = header.entry_type();
    let parent_rel = resolve_rel(
        root,
        &dest_rel.join(name.parent().unwrap_or(Path::new(""))),
        true,
    )?;
    let parent = root.join(&parent_rel);
    fs::create_dir_all(&parent)?;
    if !fs::symlink_metadata(&parent)?.is_dir() {
        return Err(ArchiveError::Invalid(format!(
            "{} is not a directory",
            parent_rel.display()
        )));
    }
    let Some(last) = name.file_name() else {
        return Ok(None);
    };
    let host = parent.join(last);

    if let Ok(existing) = fs::symlink_metadata(&host) {
        let shown = Path::new("/").join(parent_rel.join(last));
        if opts.no_overwrite_dir_non_dir && existing.is_dir() && !kind.is_dir() {
            return Err(ArchiveError::Invalid(format!(
                "cannot overwrite directory {:?} with non-directory {:?}",
                shown.display().to_string(),
                dest
            )));
        }
        if opts.no_overwrite_dir_non_dir && !existing.is_dir() && kind.is_dir() {
            return Err(ArchiveError::Invalid(format!(
                "cannot overwrite non-directory {:?} with directory {:?}",
                shown.display().to_string(),
                dest
            )));
        }
        if !(existing.is_dir() && kind.is_dir()) {
            if existing.is_dir() {
                fs::remove_dir_all(&host)?;
            } else {
                fs::remove_file(&host)?;
            }
        }
    }

    let mode = header.mode().unwrap_or(0o644) & 0o7777;
    match kind {
        tar::EntryType::Directory => {
            if fs::symlink_metadata(&host).is_err() {
                fs::create_dir(&host)?;
            }
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&host)?;
            io::copy(entry, &mut file)?;
        }
        tar::EntryType::Symlink => {
            let target = header.link_name()?.unwrap_or_default().into_owned();
            // Docker's check: a relative target must stay inside the destination.
            if target.is_relative() {
                let joined = name.parent().unwrap_or(Path::new("")).join(&target);
                if clean_entry(&joined).is_none() {
                    return Err(ArchiveError::Invalid(format!(
                        "invalid symlink {:?} -> {:?}",
                        name.display().to_string(),
                        target.display().to_string()
                    )));
                }
            }
            std::os::unix::fs::symlink(&target, &host)?;
        }
        tar::EntryType::Link => {
            let target = header.link_name()?.unwrap_or_default().into_owned();
            let Some(clean) = clean_entry(&target) else {
                return Err(ArchiveError::Invalid(format!(
                    "invalid hardlink {:?} -> {:?}",
                    name.display().to_string(),
                    target.display().to_string()
                )));
            };
            let source = root.join(resolve_rel(root, &dest_rel.join(clean), false)?);
            fs::hard_link(source, &host)?;
            return Ok(Some(host));
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            let flag = match kind {
                tar::EntryType::Char => SFlag::S_IFCHR,
                tar::EntryType::Block => SFlag::S_IFBLK,
                _ => SFlag::S_IFIFO,
            };
            let dev = makedev(
                header.device_major()?.unwrap_or(0).into(),
                header.device_minor()?.unwrap_or(0).into(),
            );
            mknod(&host, flag, Mode::from_bits_truncate(mode), dev).map_err(io::Error::from)?;
        }
        // Metadata records (pax, GNU long names) are consumed by the tar reader; anything
        // else (sparse files, volume labels) Docker skips too.
        _ => return Ok(None),
    }

    let (uid, gid) = match opts.chown {
        Some(ids) => ids,
        // An unreadable owner field falls back to root, as Go's reader yields 0.
        None => (
            header.uid().unwrap_or(0) as u32,
            header.gid().unwrap_or(0) as u32,
        ),
    };
    lchown(&host, Some(uid), Some(gid))?;
    if kind != tar::EntryType::Symlink {
        // After chown, which clears set-id bits.
        fs::set_permissions(&host, fs::Permissions::from_mode(mode))?;
    }
    if !kind.is_dir() {
        set_mtime(&host, header.mtime().unwrap_or(0))?;
    }
    Ok(Some(host))
}

fn set_mtime(host: &Path, mtime: u64) -> io::Result<()> {
    let t = TimeSpec::new(mtime as i64, 0);
    utimensat(None, host, &t, &t, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}
