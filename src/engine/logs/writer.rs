//! The json-file writer the shim uses: appends records and rotates like Docker's
//! `loggerutils.LogFile` (`path` → `path.1` → … → `path.<max_files-1>`, the oldest dropped;
//! with `max_files` 1 the file is truncated instead). Sync std I/O: the shim has no tokio.
//! Compression of rotated files (`compress=true`) is not supported yet.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::encode::encode_record;
use super::LogStream;

/// Docker creates log files 0640.
const LOG_FILE_MODE: u32 = 0o640;

/// An open json-file log with Docker's size-based rotation.
#[derive(Debug)]
pub struct JsonFileWriter {
    path: PathBuf,
    file: File,
    size: u64,
    /// 0 means unbounded.
    max_size: u64,
    max_files: u32,
    buf: Vec<u8>,
}

impl JsonFileWriter {
    /// Opens (creating) `path` for appending. `max_size` 0 means the file is never rotated;
    /// `max_files` counts the live file too (Docker's `max-file`, at least 1).
    pub fn open(path: &Path, max_size: u64, max_files: u32) -> io::Result<JsonFileWriter> {
        let mut file = open_append(path)?;
        let size = file.seek(SeekFrom::End(0))?;
        Ok(JsonFileWriter {
            path: path.to_path_buf(),
            file,
            size,
            max_size,
            max_files: max_files.max(1),
            buf: Vec::with_capacity(256),
        })
    }

    /// Writes one record. `line` includes its trailing newline when it had one (see
    /// [`super::Splitter`]). Rotates first when the file has reached `max_size`, as Docker
    /// checks the capacity before each write.
    pub fn write(&mut self, stream: LogStream, line: &[u8], time: DateTime<Utc>) -> io::Result<()> {
        self.buf.clear();
        encode_record(&mut self.buf, stream, line, time)?;
        if self.max_size != 0 && self.size >= self.max_size {
            self.rotate()?;
        }
        self.file.write_all(&self.buf)?;
        self.size += self.buf.len() as u64;
        Ok(())
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.max_files >= 2 {
            for i in (2..self.max_files).rev() {
                let from = rotated_path(&self.path, i - 1);
                match fs::rename(&from, rotated_path(&self.path, i)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            fs::rename(&self.path, rotated_path(&self.path, 1))?;
            self.file = open_append(&self.path)?;
        } else {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
        }
        self.size = 0;
        Ok(())
    }
}

/// `path.N`: the N-th most recent rotated file.
pub fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(LOG_FILE_MODE)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
    }

    #[test]
    fn appends_to_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        fs::write(&path, "old\n").unwrap();
        let mut w = JsonFileWriter::open(&path, 0, 1).unwrap();
        w.write(LogStream::Stdout, b"hi\n", t0()).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "old\n{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}\n"
        );
    }

    #[test]
    fn rotation_keeps_max_files_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        // Every record is longer than max_size, so each write after the first rotates.
        let mut w = JsonFileWriter::open(&path, 10, 3).unwrap();
        for i in 0..5 {
            w.write(LogStream::Stdout, format!("line {i}\n").as_bytes(), t0())
                .unwrap();
        }
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["c-json.log", "c-json.log.1", "c-json.log.2"]);
        assert!(fs::read_to_string(&path).unwrap().contains("line 4"));
        assert!(fs::read_to_string(rotated_path(&path, 1))
            .unwrap()
            .contains("line 3"));
        assert!(fs::read_to_string(rotated_path(&path, 2))
            .unwrap()
            .contains("line 2"));
    }

    #[test]
    fn a_single_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut w = JsonFileWriter::open(&path, 10, 1).unwrap();
        w.write(LogStream::Stdout, b"first\n", t0()).unwrap();
        w.write(LogStream::Stderr, b"second\n", t0()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("first") && text.contains("second"), "{text}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
