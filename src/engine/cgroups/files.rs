//! Small helpers over cgroup interface files, shared by the v1 and v2 managers.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{Error, Result};

/// Writes `value` to an existing interface file. No O_CREAT: a missing file means the
/// kernel lacks the knob, and must fail instead of leaving a plain file behind.
pub fn write(step: &'static str, path: &Path, value: &str) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| Error::io(step, path, e))?;
    // One write call: the kernel parses each write separately.
    f.write_all(value.as_bytes())
        .map_err(|e| Error::io(step, path, e))
}

pub fn read(step: &'static str, path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io(step, path, e))
}

/// Reads a file holding one number; `max` (v2's "no limit") reads as `None`.
pub fn read_number(step: &'static str, path: &Path) -> Result<Option<u64>> {
    let text = read(step, path)?;
    let t = text.trim();
    if t == "max" {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| bad_data(step, path, t))
}

/// The value of `key` in a flat keyed file ("key value" lines: memory.events, cpu.stat…).
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

pub fn read_keyed(step: &'static str, path: &Path, key: &str) -> Result<u64> {
    let text = read(step, path)?;
    keyed(&text, key).ok_or_else(|| bad_data(step, path, &format!("no {key:?} line")))
}

pub fn read_procs(step: &'static str, path: &Path) -> Result<Vec<i32>> {
    let text = read(step, path)?;
    text.split_whitespace()
        .map(|p| p.parse().map_err(|_| bad_data(step, path, p)))
        .collect()
}

fn bad_data(step: &'static str, path: &Path, what: &str) -> Error {
    let msg = format!("unexpected content {what:?}");
    Error::io(step, path, io::Error::new(io::ErrorKind::InvalidData, msg))
}

/// Creates `rel` and any missing parents below `root`, calling `init` on every level,
/// top-down, whether it was new or not: another container may have created a shared parent
/// a moment ago and not yet initialised it (v1 cpuset copies cpus/mems level by level).
/// Returns whether the leaf was created by us.
pub fn mkdir_levels(
    root: &Path,
    rel: &Path,
    mut init: impl FnMut(&Path) -> Result<()>,
) -> Result<bool> {
    let mut dir = root.to_path_buf();
    let mut created = false;
    for comp in rel.components() {
        dir.push(comp);
        created = match fs::create_dir(&dir) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(Error::io("create cgroup", &dir, e)),
        };
        init(&dir)?;
    }
    Ok(created)
}

/// Removes a cgroup directory; a missing one is fine. The kernel answers EBUSY for a
/// short while after the last process died, so retry briefly.
pub fn rmdir(path: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(Errno::EBUSY as i32) && Instant::now() < deadline =>
            {
                sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(Error::io("remove cgroup", path, e)),
        }
    }
}

/// Polls `done` every 10 ms until it holds or `limit` passes.
pub fn wait_until(
    step: &'static str,
    path: &Path,
    limit: Duration,
    mut done: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if done()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                step,
                path: path.to_path_buf(),
            });
        }
        sleep(Duration::from_millis(10));
    }
}

/// SIGKILLs each pid; one that already exited is not an error.
pub fn kill_pids(pids: &[i32], path: &Path) -> Result<()> {
    for &pid in pids {
        match kill(Pid::from_raw(pid), Signal::SIGKILL) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => return Err(Error::io("kill processes", path, e.into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_finds_exact_keys_only() {
        let text = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n";
        assert_eq!(keyed(text, "oom_kill"), Some(1));
        assert_eq!(keyed(text, "oom"), Some(2));
        assert_eq!(keyed(text, "oom_group_kill"), None);
    }

    #[test]
    fn write_does_not_create_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("memory.swap.max");
        let err = write("set swap limit", &p, "0").unwrap_err().to_string();
        assert!(err.starts_with("set swap limit: "), "{err}");
        assert!(err.contains("memory.swap.max"), "{err}");
        assert!(!p.exists());
    }

    #[test]
    fn mkdir_levels_inits_every_level() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("berth")).unwrap();
        let mut seen = Vec::new();
        let created = mkdir_levels(dir.path(), Path::new("berth/c1"), |d| {
            seen.push(d.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert!(created);
        assert_eq!(
            seen,
            vec![dir.path().join("berth"), dir.path().join("berth/c1")]
        );
        assert!(!mkdir_levels(dir.path(), Path::new("berth/c1"), |_| Ok(())).unwrap());
    }
}
