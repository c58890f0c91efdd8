//! `GET /containers/{id}/archive`: a tar of one path, its base name as the top entry (a
//! directory's entries below it), as Docker's `TarResourceRebase` makes it. Symlinks are
//! archived as symlinks, never followed; a file with several links appears once, then as
//! hard links to that first name, like Go's archiver does.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::resolve::resolve;
use super::stat::stat;
use super::{not_found, ArchiveError};
use crate::api::container_types::PathStat;

/// Writes the tar of `path` (inside `root`) to `out`; returns the stat Docker sends with it.
pub fn write_tar(root: &Path, path: &str, out: impl Write) -> Result<PathStat, ArchiveError> {
    let stat = stat(root, path)?;
    let target = resolve(root, path, false)?;
    let host = root.join(&target.rel);
    fs::symlink_metadata(&host).map_err(not_found(path))?;
    // Docker rebases `.` to the base name; the root itself has no name, so its entries go
    // under `.`.
    let top = if target.name == "/" {
        ".".to_string()
    } else {
        target.name.clone()
    };
    let mut packer = Packer {
        builder: tar::Builder::new(out),
        links: HashMap::new(),
    };
    packer.builder.follow_symlinks(false);
    packer.add(&host, PathBuf::from(top))?;
    packer.builder.finish()?;
    Ok(stat)
}

struct Packer<W: Write> {
    builder: tar::Builder<W>,
    /// (dev, inode) → first archived name of files with more than one link.
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> Packer<W> {
    fn add(&mut self, host: &Path, name: PathBuf) -> io::Result<()> {
        let meta = fs::symlink_metadata(host)?;
        if meta.is_file() && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&key) {
                let mut header = tar::Header::new_gnu();
                header.set_metadata(&meta);
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                self.builder.append_link(&mut header, &name, first)?;
                return Ok(());
            }
            self.links.insert(key, name.clone());
        }
        if meta.is_file() {
            // Opened without following: the walk checked it is a regular file.
            let mut file = File::open(host)?;
            let mut header = tar::Header::new_gnu();
            header.set_metadata(&meta);
            self.builder.append_data(&mut header, &name, &mut file)?;
            return Ok(());
        }
        if meta.is_dir() {
            // Go's archiver names directories with a trailing slash.
            let mut header = tar::Header::new_gnu();
            header.set_metadata(&meta);
            let mut dir_name = name.as_os_str().to_os_string();
            dir_name.push("/");
            self.builder
                .append_data(&mut header, dir_name, io::empty())?;
        } else {
            self.builder.append_path_with_name(host, &name)?;
        }
        if meta.is_dir() {
            let mut children: Vec<OsString> = fs::read_dir(host)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<io::Result<_>>()?;
            children.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for child in children {
                self.add(&host.join(&child), name.join(&child))?;
            }
        }
        Ok(())
    }
}
