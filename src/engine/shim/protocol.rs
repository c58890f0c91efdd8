//! The shim's socket protocol (`<dir>/shim.sock`), shared by the shim and its client.
//!
//! A connection starts with one request, a JSON line ([`Request`], tagged by `op`):
//!
//! ```text
//! {"op":"state"}                                   → {"state":ShimState}
//! {"op":"kill","signal":15}                        → "ok" | {"error":"…"}
//! {"op":"wait"}                                    → {"exit":ExitRecord} once the init exited
//! {"op":"resize","height":24,"width":80}           → "ok" | {"error":"…"}
//! {"op":"resize_exec","id":"…","height":…,"width":…} → "ok" | {"error":"…"}
//! {"op":"attach","stdin":true,"stdout":true,"stderr":true,"replay":false} → "ok", then frames
//! {"op":"exec","spec":ExecSpec}                    → {"pid":123} then frames | {"error":"…"}
//! ```
//!
//! The answer is one JSON line ([`Reply`]). After `"ok"` to `attach` and `{"pid"}` to
//! `exec`, the connection carries frames both ways: one type byte, a big-endian `u32`
//! payload length, the payload. Shim → client: [`FRAME_STDOUT`], [`FRAME_STDERR`] (raw
//! output bytes as read; a tty's output is all stdout) and, for exec only, [`FRAME_EXIT`]
//! (a big-endian `i32` exit code, the last frame). Client → shim: [`FRAME_STDIN`] (bytes for
//! the process's stdin) and [`FRAME_STDIN_CLOSE`] (close the process's stdin). An attach
//! stream ends when the shim closes the connection (the container exited). An attach with
//! `replay` first gets what the current run printed before it (kept in the shim's memory
//! from the init's start until the first such attach, for at most [`REPLAY_KEEP`] and
//! [`REPLAY_CAP`] bytes; past those only the log has it), then the live output, with no
//! gap and no duplicate. The shim drops
//! a client that falls more than [`MAX_CLIENT_BUFFER`] bytes behind; the log is complete
//! regardless.
//!
//! The daemon starts the shim with its stdout as a readiness pipe: the shim writes one
//! [`Reply`] line there, `{"state":…}` once the container's program runs or `{"error":…}`.

use serde::{Deserialize, Serialize};

use super::client::{ExitRecord, ShimState};
use crate::engine::runtime::ExecSpec;

pub const FRAME_STDIN: u8 = 0;
pub const FRAME_STDOUT: u8 = 1;
pub const FRAME_STDERR: u8 = 2;
pub const FRAME_EXIT: u8 = 3;
pub const FRAME_STDIN_CLOSE: u8 = 4;

/// The frame header: type byte + length.
pub const FRAME_HEADER: usize = 5;
/// Larger payloads are a protocol error (the shim never sends more than one read's worth).
pub const MAX_FRAME: usize = 1 << 20;
/// How far a client may fall behind before the shim drops it.
pub const MAX_CLIENT_BUFFER: usize = 4 << 20;
/// The most output of a run the shim keeps for a replaying attach.
pub const REPLAY_CAP: usize = 1 << 20;
/// How long after the init's start the shim keeps that output for a replaying attach.
pub const REPLAY_KEEP: std::time::Duration = std::time::Duration::from_secs(10);
/// A request line longer than this is rejected (an exec spec with its env fits easily).
pub const MAX_REQUEST: usize = 1 << 20;

/// The first line of every connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    State,
    Kill {
        signal: i32,
    },
    Wait,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
        /// Send what the run printed before this attach first (see the module's text).
        #[serde(default)]
        replay: bool,
    },
    Resize {
        height: u16,
        width: u16,
    },
    Exec {
        spec: ExecSpec,
    },
    ResizeExec {
        id: String,
        height: u16,
        width: u16,
    },
}

/// The shim's one-line answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ok,
    State(ShimState),
    Exit(ExitRecord),
    Pid(i32),
    Error(String),
}

/// Serialises `value` as one JSON line.
pub fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail; an empty object keeps the line valid.
    let mut line = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

/// Appends one frame to `out`.
pub fn encode_frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// A frame found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub kind: u8,
    /// The payload's range in the buffer.
    pub start: usize,
    pub end: usize,
}

/// Finds the first complete frame in `buf`: `Ok(None)` when more bytes are needed.
pub fn decode_frame(buf: &[u8]) -> Result<Option<RawFrame>, String> {
    if buf.len() < FRAME_HEADER {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if len > MAX_FRAME {
        return Err(format!("frame of {len} bytes is too large"));
    }
    if buf.len() < FRAME_HEADER + len {
        return Ok(None);
    }
    Ok(Some(RawFrame {
        kind: buf[0],
        start: FRAME_HEADER,
        end: FRAME_HEADER + len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_wait_for_more_bytes() {
        let mut buf = Vec::new();
        encode_frame(FRAME_STDERR, b"oops\n", &mut buf);
        encode_frame(FRAME_EXIT, &7i32.to_be_bytes(), &mut buf);
        let first = decode_frame(&buf).unwrap().unwrap();
        assert_eq!(first.kind, FRAME_STDERR);
        assert_eq!(&buf[first.start..first.end], b"oops\n");
        let rest = &buf[first.end..];
        let second = decode_frame(rest).unwrap().unwrap();
        assert_eq!(second.kind, FRAME_EXIT);
        assert_eq!(&rest[second.start..second.end], &7i32.to_be_bytes());
        assert_eq!(decode_frame(&rest[..6]).unwrap(), None);
    }

    #[test]
    fn oversized_frames_are_refused() {
        let mut buf = vec![FRAME_STDIN];
        buf.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_frame(&buf).is_err());
    }

    #[test]
    fn requests_and_replies_have_the_documented_shape() {
        let req: Request = serde_json::from_str(r#"{"op":"kill","signal":15}"#).unwrap();
        assert_eq!(req, Request::Kill { signal: 15 });
        let req: Request =
            serde_json::from_str(r#"{"op":"resize_exec","id":"x","height":2,"width":3}"#).unwrap();
        assert_eq!(
            req,
            Request::ResizeExec {
                id: "x".into(),
                height: 2,
                width: 3
            }
        );
        let req: Request =
            serde_json::from_str(r#"{"op":"attach","stdin":false,"stdout":true,"stderr":true}"#)
                .unwrap();
        assert!(matches!(req, Request::Attach { replay: false, .. }));
        assert_eq!(encode_line(&Reply::Ok), b"\"ok\"\n");
        assert_eq!(encode_line(&Reply::Pid(5)), b"{\"pid\":5}\n");
    }
}
