//! Docker's volume copy-up: before an empty volume is bound over a directory of the image,
//! the image's content there is copied into it, keeping owners, modes, modification
//! times, symlinks (as links), hard links, devices and fifos. Runs inside the container's
//! mount namespace with the overlay root mounted and before the bind, so the image is read
//! exactly as the container will see it.
//!
//! Not copied: extended attributes (and so file capabilities) and sockets.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{lchown, symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::secure_join;
use crate::engine::runtime::{RuntimeError, Step};

/// Copies what the image has at `destination` (inside `root`) into the volume directory
/// `volume` when that is empty; a destination the image lacks, or that is not a
/// directory, copies nothing.
pub(in crate::engine::runtime) fn copy_image_content(
    root: &Path,
    volume: &Path,
    destination: &str,
) -> Result<(), RuntimeError> {
    let step = || format!("copying the image's {destination} into its volume");
    let src = secure_join(root, destination)?;
    let Ok(meta) = fs::symlink_metadata(&src) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return Ok(());
    }
    let empty = fs::read_dir(volume).step(step())?.next().is_none();
    if !empty {
        return Ok(());
    }
    let mut links = HashMap::new();
    copy_dir_contents(&src, volume, &mut links).step(step())?;
    // The volume's root takes the image directory's owner and mode, as Docker's.
    copy_attributes(volume, &meta).step(step())
}

/// (device, inode) of a multiply linked file already copied → its copy.
type Links = HashMap<(u64, u64), std::path::PathBuf>;

fn copy_dir_contents(src: &Path, dst: &Path, links: &mut Links) -> std::io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(&from)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            fs::create_dir(&to)?;
            copy_dir_contents(&from, &to, links)?;
            copy_attributes(&to, &meta)?;
            continue;
        }
        if meta.nlink() > 1 && !ft.is_symlink() {
            if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                fs::hard_link(first, &to)?;
                continue;
            }
            links.insert((meta.dev(), meta.ino()), to.clone());
        }
        if ft.is_symlink() {
            symlink(fs::read_link(&from)?, &to)?;
            lchown(&to, Some(meta.uid()), Some(meta.gid()))?;
        } else if ft.is_file() {
            fs::copy(&from, &to)?;
            copy_attributes(&to, &meta)?;
        } else if ft.is_block_device() || ft.is_char_device() || ft.is_fifo() {
            let kind = if ft.is_block_device() {
                SFlag::S_IFBLK
            } else if ft.is_char_device() {
                SFlag::S_IFCHR
            } else {
                SFlag::S_IFIFO
            };
            let rdev = meta.rdev();
            let dev = makedev(nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
            mknod(&to, kind, Mode::from_bits_truncate(meta.mode()), dev)
                .map_err(std::io::Error::from)?;
            copy_attributes(&to, &meta)?;
        }
        // Sockets are left out: they mean nothing without their listener.
    }
    Ok(())
}

/// Owner, mode (set-id bits included, after the chown that clears them) and mtime.
fn copy_attributes(path: &Path, meta: &fs::Metadata) -> std::io::Result<()> {
    lchown(path, Some(meta.uid()), Some(meta.gid()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let mtime = UNIX_EPOCH
        + Duration::new(
            u64::try_from(meta.mtime()).unwrap_or(0),
            u32::try_from(meta.mtime_nsec()).unwrap_or(0),
        );
    // A fifo or device cannot be opened for this without blocking or side effects.
    if meta.is_file() || meta.is_dir() {
        let f = fs::File::open(path)?;
        f.set_times(fs::FileTimes::new().set_modified(mtime))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_links_and_modes_into_an_empty_volume_only() {
        let root = tempfile::tempdir().unwrap();
        let vol = tempfile::tempdir().unwrap();
        let img = root.path().join("data");
        fs::create_dir_all(img.join("sub")).unwrap();
        fs::write(img.join("a.txt"), b"hello").unwrap();
        fs::set_permissions(img.join("a.txt"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::write(img.join("sub/b"), b"x").unwrap();
        fs::hard_link(img.join("sub/b"), img.join("b-link")).unwrap();
        symlink("a.txt", img.join("l")).unwrap();
        fs::set_permissions(&img, fs::Permissions::from_mode(0o750)).unwrap();
        copy_image_content(root.path(), vol.path(), "/data").unwrap();
        let v = vol.path();
        assert_eq!(fs::read(v.join("a.txt")).unwrap(), b"hello");
        assert_eq!(fs::metadata(v.join("a.txt")).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::read_link(v.join("l")).unwrap(), Path::new("a.txt"));
        assert_eq!(
            fs::metadata(v.join("sub/b")).unwrap().ino(),
            fs::metadata(v.join("b-link")).unwrap().ino()
        );
        assert_eq!(fs::metadata(v).unwrap().mode() & 0o777, 0o750);
        // Not empty any more: a second copy changes nothing.
        fs::write(img.join("new"), b"n").unwrap();
        copy_image_content(root.path(), v, "/data").unwrap();
        assert!(!v.join("new").exists());
        // A destination the image lacks copies nothing.
        let empty = tempfile::tempdir().unwrap();
        copy_image_content(root.path(), empty.path(), "/missing").unwrap();
        assert!(fs::read_dir(empty.path()).unwrap().next().is_none());
    }
}
