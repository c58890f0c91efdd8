//! Reading an archive tarball once, front to back: regular files go straight into the
//! store's ingest as blobs, the few small metadata files are kept in memory, links are
//! remembered so that paths can be resolved afterwards.
//!
//! It must not interpret the archive (that is `docker_archive` and `oci_layout`), and must
//! not hold layer bytes in memory: the input may be a socket and layers may be gigabytes.

use std::collections::HashMap;
use std::io::{self, Read};

use crate::image::digest::Digest;
use crate::image::store::ImageStore;
use crate::image::unpack::{detect_compression, Compression};

use super::ArchiveError;

/// Files read into memory instead of the store: the archives' own metadata.
const METADATA_FILES: [&str; 4] = ["manifest.json", "repositories", "index.json", "oci-layout"];

/// A metadata file larger than this is refused rather than read into memory.
const METADATA_LIMIT: u64 = 32 << 20;

/// How many links a path may go through before we give up (a loop in a hostile archive).
const LINK_DEPTH: usize = 16;

/// What reading the archive left behind.
#[derive(Debug, Default)]
pub(super) struct Spooled {
    /// Regular files, now blobs in the store: archive path -> (digest, size).
    blobs: HashMap<String, (Digest, u64)>,
    /// Symbolic and hard links: archive path -> archive path of the target.
    links: HashMap<String, String>,
    /// The metadata files, by name.
    meta: HashMap<String, Vec<u8>>,
}

impl Spooled {
    /// The contents of a metadata file (`manifest.json`, `index.json`, ...).
    pub(super) fn meta(&self, name: &str) -> Option<&[u8]> {
        self.meta.get(name).map(Vec::as_slice)
    }

    /// The blob stored for the file at `path`, following links.
    pub(super) fn blob(&self, path: &str) -> Option<&(Digest, u64)> {
        let mut current = clean_path(path)?;
        for _ in 0..LINK_DEPTH {
            if let Some(found) = self.blobs.get(&current) {
                return Some(found);
            }
            current = self.links.get(&current)?.clone();
        }
        None
    }

    /// The blob at `path`, or Docker's error for a file the archive lacks.
    pub(super) fn require_blob(&self, path: &str) -> Result<&(Digest, u64), ArchiveError> {
        self.blob(path)
            .ok_or_else(|| ArchiveError::Invalid(format!("open {path}: no such file or directory")))
    }
}

/// Undoes the outer compression of a stream (gzip and zstd, by magic bytes, as `docker load`
/// accepts); anything else is passed through as it is.
pub(super) fn decompressed<'a>(mut input: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let head = read_head(&mut input, 8)?;
    let whole = io::Cursor::new(head.clone()).chain(input);
    Ok(match detect_compression(&head) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(whole)?),
        Compression::None => Box::new(whole),
    })
}

/// Reads up to `n` bytes (fewer only at end of input): a socket may hand them out one by one.
fn read_head(input: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(filled);
    Ok(head)
}

/// Reads the whole (already decompressed) tar stream.
pub(super) fn spool(store: &ImageStore, input: impl Read) -> Result<Spooled, ArchiveError> {
    let mut archive = tar::Archive::new(input);
    let mut spooled = Spooled::default();
    let entries = archive.entries().map_err(tar_error)?;
    for entry in entries {
        let entry = entry.map_err(tar_error)?;
        take_entry(store, entry, &mut spooled)?;
    }
    Ok(spooled)
}

/// Files one entry where it belongs.
fn take_entry(
    store: &ImageStore,
    mut entry: tar::Entry<'_, impl Read>,
    spooled: &mut Spooled,
) -> Result<(), ArchiveError> {
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let Some(path) = clean_path(&raw) else {
        return Ok(());
    };
    let kind = entry.header().entry_type();
    if kind.is_symlink() || kind.is_hard_link() {
        let Some(target) = entry.link_name_bytes() else {
            return Ok(());
        };
        let target = String::from_utf8_lossy(&target).into_owned();
        // A symlink's target is relative to its own directory; a hard link's to the root.
        let base = if kind.is_symlink() && !target.starts_with('/') {
            parent_of(&path)
        } else {
            ""
        };
        if let Some(resolved) = clean_path(&format!("{base}/{target}")) {
            spooled.links.insert(path, resolved);
        }
        return Ok(());
    }
    if !(kind.is_file() || kind == tar::EntryType::Continuous) {
        return Ok(());
    }
    let size = entry.size();
    if METADATA_FILES.contains(&path.as_str()) {
        if size > METADATA_LIMIT {
            return Err(ArchiveError::Invalid(format!(
                "{path} is too large ({size} bytes)"
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut bytes).map_err(tar_error)?;
        spooled.meta.insert(path, bytes);
        return Ok(());
    }
    if is_legacy_metadata(&path) {
        // `<id>/json` and `<id>/VERSION` of the pre-1.10 format: nothing we need.
        return Ok(());
    }
    let digest = store_blob(store, &path, size, &mut entry)?;
    spooled.blobs.insert(path, (digest, size));
    Ok(())
}

/// Copies one file into the store. A `blobs/sha256/<hex>` file is verified against its
/// name; one the store already has is skipped over rather than written twice.
fn store_blob(
    store: &ImageStore,
    path: &str,
    size: u64,
    entry: &mut impl Read,
) -> Result<Digest, ArchiveError> {
    let expected = path
        .strip_prefix("blobs/sha256/")
        .and_then(|hex| Digest::from_hex(hex).ok());
    if let Some(d) = &expected {
        if store.has_blob(d) {
            io::copy(entry, &mut io::sink()).map_err(tar_error)?;
            return Ok(d.clone());
        }
    }
    let mut ingest = store.ingest()?;
    io::copy(entry, &mut ingest).map_err(tar_error)?;
    if ingest.written() != size {
        return Err(ArchiveError::Invalid("unexpected EOF".into()));
    }
    Ok(ingest.commit(expected.as_ref())?)
}

fn is_legacy_metadata(path: &str) -> bool {
    match path.split_once('/') {
        Some((_, rest)) => rest == "json" || rest == "VERSION",
        None => false,
    }
}

/// Docker's words for a broken tar stream (Go's archive/tar errors).
fn tar_error(e: io::Error) -> ArchiveError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return ArchiveError::Invalid("unexpected EOF".into());
    }
    let text = e.to_string();
    if text.contains("checksum") || text.contains("numeric field") || text.contains("header") {
        return ArchiveError::Invalid("archive/tar: invalid tar header".into());
    }
    ArchiveError::Io(e)
}

/// `./a//b/../c` -> `a/c`; the archive root itself (or nothing left) is `None`.
/// Paths here never reach the filesystem: `..` past the root just stays at the root.
pub(super) fn clean_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_drops_dots_and_stays_inside() {
        assert_eq!(
            clean_path("./manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(clean_path("a//b/../c").as_deref(), Some("a/c"));
        assert_eq!(
            clean_path("../../etc/passwd").as_deref(),
            Some("etc/passwd")
        );
        assert_eq!(clean_path("./"), None);
    }

    #[test]
    fn links_resolve_to_their_targets() {
        let d = Digest::of_bytes(b"layer");
        let mut s = Spooled::default();
        s.blobs.insert("abc.tar".into(), (d.clone(), 5));
        s.links.insert("1/layer.tar".into(), "abc.tar".into());
        s.links.insert("2/layer.tar".into(), "1/layer.tar".into());
        s.links.insert("loop".into(), "loop".into());
        assert_eq!(s.blob("./2/layer.tar").map(|b| &b.0), Some(&d));
        assert!(s.blob("loop").is_none());
        assert!(s.require_blob("missing").is_err());
    }

    #[test]
    fn legacy_metadata_is_recognised() {
        assert!(is_legacy_metadata("0123/json"));
        assert!(is_legacy_metadata("0123/VERSION"));
        assert!(!is_legacy_metadata("0123/layer.tar"));
        assert!(!is_legacy_metadata("json"));
    }

    #[test]
    fn read_head_collects_bytes_from_a_trickling_reader() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut r = OneByte(b"\x1f\x8b\x08\x00rest");
        assert_eq!(read_head(&mut r, 4).unwrap(), b"\x1f\x8b\x08\x00");
        let mut short = OneByte(b"ab");
        assert_eq!(read_head(&mut short, 8).unwrap(), b"ab");
    }
}
