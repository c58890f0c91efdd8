//! Metadata of one entry (owner, mode, times, xattrs), read from its tar header and PAX
//! records, and applied to what was created for it.
//!
//! Order matters: the owner is set before the mode, because chown(2) clears the setuid and
//! setgid bits; times are set last, because every other change touches the inode. Nothing
//! here follows a symlink: paths are changed with the `l*` calls, or only after the caller
//! made sure the path is not a symlink.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, FileTimes, Permissions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;
use xattr::FileExt;

/// The PAX record prefix under which GNU tar, Go's archive/tar and Docker store xattrs.
const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

/// A point in time with nanoseconds, as PAX records carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Stamp {
    secs: i64,
    nanos: u32,
}

impl Stamp {
    fn from_secs(secs: u64) -> Stamp {
        Stamp {
            secs: i64::try_from(secs).unwrap_or(i64::MAX),
            nanos: 0,
        }
    }

    /// Parses a PAX time such as `1700000000.123456789` (or `-1.5`).
    fn parse(value: &str) -> Option<Stamp> {
        let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
        let mut secs: i64 = whole.parse().ok()?;
        if frac.len() > 32 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = frac.chars().chain("000000000".chars()).take(9).collect();
        let mut nanos: u32 = digits.parse().ok()?;
        // `-1.5` is one and a half seconds before the epoch: -2 s + 0.5 s.
        if whole.starts_with('-') && nanos > 0 {
            secs = secs.checked_sub(1)?;
            nanos = 1_000_000_000 - nanos;
        }
        Some(Stamp { secs, nanos })
    }

    fn to_timespec(self) -> TimeSpec {
        TimeSpec::new(self.secs, i64::from(self.nanos))
    }

    fn to_system_time(self) -> SystemTime {
        let nanos = Duration::from_nanos(u64::from(self.nanos));
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(self.secs.unsigned_abs()) + nanos
        } else {
            UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs()) + nanos
        }
    }
}

/// What an entry says about the node it creates.
pub(super) struct Meta {
    /// Permission bits with setuid, setgid and sticky.
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) atime: Stamp,
    pub(super) mtime: Stamp,
    /// Extended attributes from `SCHILY.xattr.*` records, in archive order.
    pub(super) xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    /// Reads the header and the PAX records of `entry` (the tar crate already applied PAX
    /// `uid`, `gid`, `size`, `path` and `linkpath`).
    pub(super) fn read<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Meta> {
        let header = entry.header();
        let old = header.as_old();
        let mode = numeric(header.mode().map(u64::from), &old.mode)? as u32 & 0o7777;
        let uid = id(numeric(header.uid(), &old.uid)?)?;
        let gid = id(numeric(header.gid(), &old.gid)?)?;
        let mut mtime = Stamp::from_secs(numeric(header.mtime(), &old.mtime)?);
        let mut atime = None;
        let mut xattrs = Vec::new();
        if let Some(records) = entry.pax_extensions()? {
            for record in records {
                let record = record?;
                let key = record.key_bytes();
                let value = record.value_bytes();
                if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
                    xattrs.push((OsStr::from_bytes(name).to_os_string(), value.to_vec()));
                } else if key == b"mtime" {
                    mtime = pax_time(value).unwrap_or(mtime);
                } else if key == b"atime" {
                    atime = pax_time(value);
                }
            }
        }
        // As Docker: the access time is never before the modification time.
        let atime = atime.map_or(mtime, |a| a.max(mtime));
        Ok(Meta {
            mode,
            uid,
            gid,
            atime,
            mtime,
            xattrs,
        })
    }

    /// Owner, mode, xattrs and times of a regular file just written.
    pub(super) fn apply_to_file(&self, file: &File) -> io::Result<()> {
        std::os::unix::fs::fchown(file, Some(self.uid), Some(self.gid))?;
        file.set_permissions(Permissions::from_mode(self.mode))?;
        for (name, value) in &self.xattrs {
            skip_unsupported(file.set_xattr(name, value), false)?;
        }
        let times = FileTimes::new()
            .set_accessed(self.atime.to_system_time())
            .set_modified(self.mtime.to_system_time());
        file.set_times(times)
    }

    /// Owner, mode (not for symlinks, which have none) and xattrs of a node; times are left
    /// to the caller since directories get theirs at the end.
    pub(super) fn apply_to_path(&self, path: &Path, is_symlink: bool) -> io::Result<()> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))?;
        if !is_symlink {
            // Not a symlink (the caller just created or checked it), so following is safe.
            fs::set_permissions(path, Permissions::from_mode(self.mode))?;
        }
        for (name, value) in &self.xattrs {
            // `xattr::set` does not follow symlinks (lsetxattr).
            let user = name.as_bytes().starts_with(b"user.");
            skip_unsupported(xattr::set(path, name, value), is_symlink && user)?;
        }
        Ok(())
    }

    /// The times of the entry, applied without following a symlink.
    pub(super) fn set_times(&self, path: &Path) -> io::Result<()> {
        set_times(path, self.atime, self.mtime)
    }
}

/// Sets access and modification times of `path` itself, symlink or not.
pub(super) fn set_times(path: &Path, atime: Stamp, mtime: Stamp) -> io::Result<()> {
    utimensat(
        None,
        path,
        &atime.to_timespec(),
        &mtime.to_timespec(),
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}

/// Accepts "not supported" from a file system without xattrs of that namespace; any other
/// error stands. `user.*` xattrs on symlinks are refused with EPERM by design (xattr(7)), so
/// that refusal is tolerated too when `user_on_symlink`.
fn skip_unsupported(result: io::Result<()>, user_on_symlink: bool) -> io::Result<()> {
    match result {
        Err(e) if e.raw_os_error() == Some(Errno::EOPNOTSUPP as i32) => Ok(()),
        Err(e) if user_on_symlink && e.raw_os_error() == Some(Errno::EPERM as i32) => Ok(()),
        other => other,
    }
}

/// A numeric header field; one left blank (all NUL or spaces, as some tools write uid and
/// gid) reads as 0, as Go's archive/tar, hence Docker, reads it.
fn numeric(parsed: io::Result<u64>, raw: &[u8]) -> io::Result<u64> {
    match parsed {
        Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Ok(0),
        other => other,
    }
}

fn pax_time(value: &[u8]) -> Option<Stamp> {
    Stamp::parse(std::str::from_utf8(value).ok()?)
}

fn id(value: u64) -> io::Result<u32> {
    u32::try_from(value).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("uid/gid {value} out of range"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_keep_nanoseconds() {
        let s = Stamp::parse("1700000000.5").unwrap();
        assert_eq!((s.secs, s.nanos), (1_700_000_000, 500_000_000));
        let s = Stamp::parse("1700000000.123456789123").unwrap();
        assert_eq!((s.secs, s.nanos), (1_700_000_000, 123_456_789));
        let s = Stamp::parse("-1.25").unwrap();
        assert_eq!((s.secs, s.nanos), (-2, 750_000_000));
        assert_eq!(Stamp::parse("12").unwrap().nanos, 0);
        assert!(Stamp::parse("1.2x").is_none());
        assert!(Stamp::parse("").is_none());
    }

    #[test]
    fn blank_numeric_fields_read_as_zero() {
        let bad = || Err(io::Error::from(io::ErrorKind::InvalidData));
        assert_eq!(numeric(bad(), b"\0\0 \0").unwrap(), 0);
        assert!(numeric(bad(), b"12x\0").is_err());
        assert_eq!(numeric(Ok(7), b"7").unwrap(), 7);
    }

    #[test]
    fn negative_stamps_convert_to_times_before_the_epoch() {
        let t = Stamp::parse("-1.25").unwrap().to_system_time();
        assert_eq!(
            UNIX_EPOCH.duration_since(t).unwrap(),
            Duration::from_millis(1250)
        );
    }
}
