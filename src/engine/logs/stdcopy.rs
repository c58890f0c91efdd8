//! Docker's multiplexed stream (`pkg/stdcopy`), used by logs, attach and exec when there is
//! no TTY: each frame is an 8-byte header — stream byte (0 stdin, 1 stdout, 2 stderr, 3
//! system error), three zero bytes, the payload length as a big-endian u32 — then the
//! payload. Pure: the CLI side uses [`Demuxer`] too.

use bytes::{Buf, Bytes, BytesMut};

use super::LogStream;

/// The stream byte Docker writes for a stream.
pub fn stream_byte(stream: LogStream) -> u8 {
    match stream {
        LogStream::Stdout => 1,
        LogStream::Stderr => 2,
    }
}

/// One frame: header and payload.
pub fn encode_frame(stream: LogStream, payload: &[u8]) -> Bytes {
    encode_raw_frame(stream_byte(stream), payload)
}

/// One frame with any stream byte (0 stdin, 3 the system-error stream).
pub fn encode_raw_frame(stream: u8, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(8 + payload.len());
    out.extend_from_slice(&[stream, 0, 0, 0]);
    // Payloads are chunks of a read, far below 4 GiB; a larger one would be a caller bug.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload[..len as usize]);
    out.freeze()
}

/// A bad header, in Docker's words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DemuxError {
    #[error("Unrecognized input header: {0}")]
    UnknownStream(u8),
}

/// Reassembles frames from bytes arriving in arbitrary chunks.
#[derive(Debug, Default)]
pub struct Demuxer {
    buf: BytesMut,
}

impl Demuxer {
    pub fn new() -> Demuxer {
        Demuxer::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame as (stream byte, payload), `Ok(None)` until one is complete.
    /// Stream bytes 0..=3 are accepted (3 carries a daemon-side error message).
    pub fn next_frame(&mut self) -> Result<Option<(u8, Bytes)>, DemuxError> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let stream = self.buf[0];
        if stream > 3 {
            return Err(DemuxError::UnknownStream(stream));
        }
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        self.buf.advance(8);
        Ok(Some((stream, self.buf.split_to(len).freeze())))
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_dockers() {
        assert_eq!(
            &encode_frame(LogStream::Stderr, b"hi")[..],
            b"\x02\0\0\0\0\0\0\x02hi"
        );
    }

    #[test]
    fn round_trips_across_arbitrary_chunks() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&encode_frame(LogStream::Stdout, b"out\n"));
        wire.extend_from_slice(&encode_frame(LogStream::Stderr, b""));
        wire.extend_from_slice(&encode_frame(LogStream::Stderr, &[7u8; 300]));
        let mut d = Demuxer::new();
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            d.push(chunk);
            while let Some(f) = d.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(d.pending(), 0);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (1, Bytes::from_static(b"out\n")));
        assert_eq!(got[1], (2, Bytes::new()));
        assert_eq!(got[2], (2, Bytes::from(vec![7u8; 300])));
    }

    #[test]
    fn refuses_an_unknown_stream() {
        let mut d = Demuxer::new();
        d.push(b"\x09\0\0\0\0\0\0\0");
        assert_eq!(d.next_frame(), Err(DemuxError::UnknownStream(9)));
    }
}
