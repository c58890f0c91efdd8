//! The daemon's json-file reader: rotated files oldest first, `tail` counted from the end
//! (read backwards, never the whole file), `since`/`until`, the stream filter, and `follow`
//! woken by inotify on the log's directory (growth, and rotation: the writer renames the
//! live file to `.1` and creates a new one). Like dockerd, `tail` counts records of both
//! streams before the stream filter applies, and a record after `until` ends the stream.
//! Compressed rotated files are not read (the writer does not make them).

use std::fs::{self, File};
use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::writer::rotated_path;
use super::{LogEntry, LogStream};

/// What to read (the API's `logs` query, minus `timestamps`, which is the caller's format).
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds with fraction; 0 means from the start.
    pub since: f64,
    /// Unix seconds with fraction; 0 means no end.
    pub until: f64,
    /// The last N records; `None` means all.
    pub tail: Option<usize>,
    /// Keep reading what is appended until `stopped` resolves and the file is drained.
    pub follow: bool,
}

/// How many records go through the channel before the reader waits for the consumer.
const CHANNEL_DEPTH: usize = 64;
/// Backward-read chunk for `tail`.
const TAIL_CHUNK: u64 = 64 * 1024;

/// Reads the log at `path` (and its rotated files) in a spawned task; must be called within
/// a tokio runtime. The channel ends when everything asked for was sent, when `stopped`
/// resolved (with `follow`: once the container has stopped and the file is drained), or when
/// the receiver is dropped. A read error ends the stream early and is logged.
pub fn read<F>(path: &Path, opts: ReadOptions, stopped: F) -> mpsc::Receiver<LogEntry>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let path = path.to_path_buf();
    tokio::spawn(async move {
        if let Err(e) = run(&path, &opts, stopped, &tx).await {
            tracing::warn!(path = %path.display(), error = %e, "reading the container log");
        }
    });
    rx
}

/// Sending must stop: the consumer left, or `until` was passed.
struct Halt;

struct Filter {
    stdout: bool,
    stderr: bool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Filter {
    fn new(opts: &ReadOptions) -> Filter {
        Filter {
            stdout: opts.stdout,
            stderr: opts.stderr,
            since: unix_time(opts.since),
            until: unix_time(opts.until),
        }
    }

    /// Parses and sends one raw record; `Err(Halt)` when the stream must end.
    async fn send(&self, raw: &[u8], tx: &mpsc::Sender<LogEntry>) -> Result<(), Halt> {
        let Some(entry) = parse_record(raw) else {
            // dockerd skips what it cannot decode too (a torn write after a crash).
            return Ok(());
        };
        if self.until.is_some_and(|until| entry.time > until) {
            return Err(Halt);
        }
        if self.since.is_some_and(|since| entry.time < since) {
            return Ok(());
        }
        let wanted = match entry.stream {
            LogStream::Stdout => self.stdout,
            LogStream::Stderr => self.stderr,
        };
        if wanted {
            tx.send(entry).await.map_err(|_| Halt)?;
        }
        Ok(())
    }
}

fn unix_time(secs: f64) -> Option<DateTime<Utc>> {
    if secs <= 0.0 || !secs.is_finite() {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(whole as i64, nanos)
}

#[derive(serde::Deserialize)]
struct RawRecord {
    #[serde(default)]
    log: String,
    stream: String,
    time: DateTime<Utc>,
}

/// One json-file line → entry; `None` for a line that is not a record.
pub fn parse_record(raw: &[u8]) -> Option<LogEntry> {
    let rec: RawRecord = serde_json::from_slice(raw).ok()?;
    let stream = match rec.stream.as_str() {
        "stdout" => LogStream::Stdout,
        "stderr" => LogStream::Stderr,
        _ => return None,
    };
    Some(LogEntry {
        stream,
        line: Bytes::from(rec.log),
        time: rec.time,
    })
}

async fn run<F>(
    path: &Path,
    opts: &ReadOptions,
    stopped: F,
    tx: &mpsc::Sender<LogEntry>,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let filter = Filter::new(opts);
    // Watch before reading, so nothing appended in between is missed.
    let watch = if opts.follow {
        Some(Watch::new(path)?)
    } else {
        None
    };

    // The files are read on a blocking thread and streamed, so memory stays bounded.
    let (raw_tx, mut raw_rx) = mpsc::channel(CHANNEL_DEPTH);
    let reader = {
        let path = path.to_path_buf();
        let tail = opts.tail;
        tokio::task::spawn_blocking(move || read_existing(&path, tail, &raw_tx))
    };
    while let Some(raw) = raw_rx.recv().await {
        if filter.send(&raw, tx).await.is_err() {
            return Ok(());
        }
    }
    let live = reader.await.map_err(io::Error::other)??;
    let Some(watch) = watch else {
        return Ok(());
    };
    tokio::pin!(stopped);
    let live = match live {
        Some(live) => live,
        // Nothing written yet (a container that never ran): wait for the shim to create it.
        None => loop {
            match File::open(path) {
                Ok(file) => {
                    break Live {
                        file,
                        partial: Vec::new(),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            tokio::select! {
                () = &mut stopped => {
                    // Stopped before we saw the file: read whatever is there now, once.
                    let Ok(file) = File::open(path) else {
                        return Ok(());
                    };
                    let live = Live { file, partial: Vec::new() };
                    return follow(path, live, watch, &filter, &mut std::future::ready(()), tx).await;
                }
                r = watch.changed() => r?,
                () = tx.closed() => return Ok(()),
            }
        },
    };
    follow(path, live, watch, &filter, &mut stopped, tx).await
}

/// The live file as left after the initial read: where following resumes.
struct Live {
    file: File,
    /// Bytes of a record not yet complete.
    partial: Vec<u8>,
}

/// Sends the existing records (the last `tail` of them), oldest file first, and returns the
/// live file positioned at its end.
fn read_existing(
    path: &Path,
    tail: Option<usize>,
    out: &mpsc::Sender<Vec<u8>>,
) -> io::Result<Option<Live>> {
    // Newest first: the live file, then .1, .2, …
    let mut files = Vec::new();
    // A clone shares the file offset: after its segment is read it stands at the end.
    let live = match File::open(path) {
        Ok(f) => {
            let clone = f.try_clone()?;
            files.push(f);
            Some(clone)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    for n in 1.. {
        match File::open(rotated_path(path, n)) {
            Ok(f) => files.push(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(e),
        }
    }
    // Where each file's part starts and ends, newest first.
    let mut segments = Vec::new();
    let mut want = tail;
    for mut file in files {
        if want == Some(0) {
            break;
        }
        let end = file.seek(SeekFrom::End(0))?;
        let start = match want.as_mut() {
            Some(n) => {
                let (start, found) = tail_offset(&mut file, end, *n)?;
                *n -= found;
                start
            }
            None => 0,
        };
        segments.push((file, start, end));
    }
    let mut partial = Vec::new();
    let newest = segments.len();
    for (i, (file, start, end)) in segments.into_iter().rev().enumerate() {
        let is_live = live.is_some() && i + 1 == newest;
        file_seek(&file, start)?;
        let mut reader = BufReader::new((&file).take(end - start));
        loop {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if !line.ends_with(b"\n") {
                if is_live {
                    partial = line;
                }
                break;
            }
            if out.blocking_send(line).is_err() {
                return Ok(None);
            }
        }
    }
    let Some(mut file) = live else {
        return Ok(None);
    };
    if newest == 0 {
        // `tail=0`: nothing was read; follow from the end.
        file.seek(SeekFrom::End(0))?;
    }
    Ok(Some(Live { file, partial }))
}

fn file_seek(mut file: &File, pos: u64) -> io::Result<()> {
    file.seek(SeekFrom::Start(pos)).map(drop)
}

/// Where the last `n` complete records of `file[..end]` start, found by reading backwards in
/// chunks, and how many complete records that is (fewer than `n` for a short file).
fn tail_offset(file: &mut File, end: u64, n: usize) -> io::Result<(u64, usize)> {
    // Record k from the end starts after newline k+1 from the end; an unterminated
    // fragment at the end (a record being written) is not a record yet.
    let mut newlines = 0usize;
    let mut pos = end;
    let mut buf = vec![0u8; TAIL_CHUNK as usize];
    while pos > 0 {
        let len = TAIL_CHUNK.min(pos);
        pos -= len;
        let chunk = &mut buf[..len as usize];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(chunk)?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            if b == b'\n' {
                newlines += 1;
                if newlines == n + 1 {
                    return Ok((pos + i as u64 + 1, n));
                }
            }
        }
    }
    Ok((0, newlines))
}

/// An inotify watch on the log's directory.
struct Watch {
    fd: AsyncFd<InotifyFd>,
}

struct InotifyFd(Inotify);

impl AsRawFd for InotifyFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl Watch {
    fn new(path: &Path) -> io::Result<Watch> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(
            &dir,
            AddWatchFlags::IN_MODIFY
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_MOVED_FROM
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_DELETE,
        )?;
        // SAFETY: `InotifyFd` owns the inotify descriptor (an `OwnedFd` inside `Inotify`), so
        // it stays open and the same for as long as the `AsyncFd` owns it, and `as_raw_fd`
        // always returns that one descriptor.
        let fd = unsafe { AsyncFd::register(InotifyFd(inotify)) }?;
        Ok(Watch { fd })
    }

    /// Waits until something in the directory changed.
    async fn changed(&self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.get_inner().0.read_events() {
                Ok(events) if !events.is_empty() => return Ok(()),
                Ok(_) | Err(nix::errno::Errno::EAGAIN) => guard.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

async fn follow(
    path: &Path,
    mut live: Live,
    watch: Watch,
    filter: &Filter,
    stopped: &mut (dyn Future<Output = ()> + Send + Unpin),
    tx: &mpsc::Sender<LogEntry>,
) -> io::Result<()> {
    let mut is_stopped = false;
    loop {
        // Drain what is there, following rotations until the live file is the one at `path`.
        loop {
            for raw in drain(&mut live)? {
                if filter.send(&raw, tx).await.is_err() {
                    return Ok(());
                }
            }
            match reopen_if_rotated(path, &live.file)? {
                Some(file) => {
                    live = Live {
                        file,
                        partial: Vec::new(),
                    }
                }
                None => break,
            }
        }
        if is_stopped {
            return Ok(());
        }
        tokio::select! {
            () = &mut *stopped => is_stopped = true,
            r = watch.changed() => r?,
            () = tx.closed() => return Ok(()),
        }
    }
}

/// Complete records appended since the last call.
fn drain(live: &mut Live) -> io::Result<Vec<Vec<u8>>> {
    let mut data = std::mem::take(&mut live.partial);
    live.file.read_to_end(&mut data)?;
    let mut lines: Vec<Vec<u8>> = data
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    if lines.last().is_some_and(|l| !l.ends_with(b"\n")) {
        live.partial = lines.pop().unwrap_or_default();
    }
    Ok(lines)
}

/// The file now at `path`, when it is no longer the one we have open (the writer rotated).
fn reopen_if_rotated(path: &Path, current: &File) -> io::Result<Option<File>> {
    let now = match fs::metadata(path) {
        Ok(m) => m,
        // Between the rename and the create: the next inotify event brings us back.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let ours = current.metadata()?;
    if now.ino() == ours.ino() && now.dev() == ours.dev() {
        return Ok(None);
    }
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::logs::JsonFileWriter;
    use chrono::TimeZone;
    use std::time::Duration;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, s).unwrap()
    }

    fn all() -> ReadOptions {
        ReadOptions {
            stdout: true,
            stderr: true,
            ..ReadOptions::default()
        }
    }

    /// Writes "line i" at second i, odd lines to stderr; rotating every ~2 records.
    fn write_lines(w: &mut JsonFileWriter, range: std::ops::Range<u32>) {
        for i in range {
            let stream = if i % 2 == 1 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            };
            w.write(stream, format!("line {i}\n").as_bytes(), t(i))
                .unwrap();
        }
    }

    async fn collect(mut rx: mpsc::Receiver<LogEntry>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(e) = rx.recv().await {
            out.push(String::from_utf8(e.line.to_vec()).unwrap());
        }
        out
    }

    fn lines(range: impl IntoIterator<Item = u32>) -> Vec<String> {
        range.into_iter().map(|i| format!("line {i}\n")).collect()
    }

    #[tokio::test]
    async fn reads_rotated_files_oldest_first_and_tails_across_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut w = JsonFileWriter::open(&path, 150, 5).unwrap();
        write_lines(&mut w, 0..9);
        assert!(
            rotated_path(&path, 2).exists(),
            "the test needs several files"
        );

        let everything = collect(read(&path, all(), std::future::pending())).await;
        assert_eq!(everything, lines(0..9));

        for n in [0, 1, 4, 100] {
            let opts = ReadOptions {
                tail: Some(n),
                ..all()
            };
            let got = collect(read(&path, opts, std::future::pending())).await;
            assert_eq!(got, lines(9u32.saturating_sub(n as u32)..9), "tail {n}");
        }
    }

    #[tokio::test]
    async fn filters_streams_since_and_until() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut w = JsonFileWriter::open(&path, 0, 1).unwrap();
        write_lines(&mut w, 0..8);
        let base = t(0).timestamp() as f64;

        let opts = ReadOptions {
            stdout: false,
            stderr: true,
            ..ReadOptions::default()
        };
        let got = collect(read(&path, opts, std::future::pending())).await;
        assert_eq!(got, lines([1, 3, 5, 7]));

        let opts = ReadOptions {
            since: base + 2.5,
            until: base + 6.0,
            ..all()
        };
        let got = collect(read(&path, opts, std::future::pending())).await;
        assert_eq!(got, lines(3..7));

        // tail counts records of both streams before the stream filter, as dockerd does
        let opts = ReadOptions {
            stderr: false,
            tail: Some(3),
            ..all()
        };
        let got = collect(read(&path, opts, std::future::pending())).await;
        assert_eq!(got, lines([6]));
    }

    #[tokio::test]
    async fn follow_sees_appends_and_rotation_and_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut w = JsonFileWriter::open(&path, 150, 3).unwrap();
        write_lines(&mut w, 0..2);

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let opts = ReadOptions {
            follow: true,
            tail: Some(1),
            ..all()
        };
        let mut rx = read(&path, opts, async move {
            let _ = stop_rx.await;
        });
        let first = rx.recv().await.unwrap();
        assert_eq!(&first.line[..], b"line 1\n");

        // Appended later, rotating on the way.
        let writer = std::thread::spawn(move || {
            for i in 2..7 {
                std::thread::sleep(Duration::from_millis(20));
                write_lines(&mut w, i..i + 1);
            }
            w
        });
        let mut got = Vec::new();
        for _ in 2..7 {
            let e = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("a followed line arrives")
                .expect("the stream is still open");
            got.push(String::from_utf8(e.line.to_vec()).unwrap());
        }
        assert_eq!(got, lines(2..7));
        let mut w = writer.join().unwrap();

        // The last line is written before the stop, as the shim drains before exiting.
        write_lines(&mut w, 7..8);
        stop_tx.send(()).unwrap();
        let rest = tokio::time::timeout(Duration::from_secs(10), collect(rx))
            .await
            .unwrap();
        assert_eq!(rest, lines([7]));
    }

    #[tokio::test]
    async fn follow_waits_for_the_file_to_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let opts = ReadOptions {
            follow: true,
            ..all()
        };
        let rx = read(&path, opts, async move {
            let _ = stop_rx.await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut w = JsonFileWriter::open(&path, 0, 1).unwrap();
        write_lines(&mut w, 0..2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop_tx.send(()).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(10), collect(rx))
            .await
            .unwrap();
        assert_eq!(got, lines(0..2));
    }

    #[test]
    fn converts_unix_seconds() {
        assert_eq!(unix_time(0.0), None);
        assert_eq!(
            unix_time(1704164645.5),
            Some(t(5) + chrono::Duration::milliseconds(500))
        );
    }
}
