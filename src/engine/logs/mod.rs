//! Docker's json-file log driver: the shim writes, the daemon reads (the logs helper fills
//! this in; [`LogEntry`] is the contract with the daemon).

use bytes::Bytes;

/// Which stream a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One json-file record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub stream: LogStream,
    /// The bytes as written, including the trailing newline when there was one.
    pub line: Bytes,
    /// When the shim read it.
    pub time: chrono::DateTime<chrono::Utc>,
}
