//! Docker's json-file log driver: the shim writes, the daemon reads.
//!
//! - `encode`: one record, byte for byte as dockerd encodes it.
//! - `writer`: [`JsonFileWriter`], appending with Docker's size-based rotation (sync I/O).
//! - `split`: [`Splitter`], output bytes → records like Docker's log copier.
//! - `reader`: [`read`], the daemon's async reader: tail, since/until, follow by inotify.
//! - `stdcopy`: Docker's multiplexed stdout/stderr stream (`encode_frame`, [`Demuxer`]).
//!
//! [`LogEntry`] is the contract with the daemon. Compressed rotated files and the `local`
//! driver are not supported yet.

use bytes::Bytes;

mod encode;
mod reader;
mod split;
pub mod stdcopy;
mod writer;

pub use encode::{encode_record, format_time};
pub use reader::{parse_record, read, ReadOptions};
pub use split::{Record, Splitter, MAX_RECORD};
pub use stdcopy::{encode_frame, Demuxer};
pub use writer::{rotated_path, JsonFileWriter};

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
