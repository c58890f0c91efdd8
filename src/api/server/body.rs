//! Response bodies: whole JSON answers, and streams fed from other tasks (progress lines,
//! events, tarballs), plus the bridges between hyper's async bodies and the blocking
//! `Read`/`Write` the archive code uses.
//!
//! Streams are bounded channels: a slow client slows the producer down instead of filling
//! memory, and a client that hangs up makes the producer's next write fail.

use bytes::{Bytes, BytesMut};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Response, StatusCode};
use serde::Serialize;
use tokio::sync::mpsc;

/// The body of every answer.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// One chunk of a streamed body.
pub type Chunk = Result<Bytes, std::io::Error>;

/// Chunks buffered between a producer and the connection.
const STREAM_DEPTH: usize = 16;
/// Bytes a blocking writer gathers before handing a chunk over.
const WRITE_CHUNK: usize = 64 * 1024;

pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// `status` with `value` as a JSON body.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    // Serialising our own wire types cannot fail (string keys, no non-finite floats).
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A response with no body.
pub fn no_content(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = status;
    resp
}

/// One message of a JSON stream, as Docker frames it (`\r\n` after each).
pub fn json_line<T: Serialize>(value: &T) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.extend_from_slice(b"\r\n");
    Bytes::from(bytes)
}

/// A channel whose receiving end is a streamed response body.
pub fn channel() -> (mpsc::Sender<Chunk>, mpsc::Receiver<Chunk>) {
    mpsc::channel(STREAM_DEPTH)
}

/// A streamed `200` answer of `content_type`, fed by the other end of `rx`.
pub fn stream(content_type: &'static str, rx: mpsc::Receiver<Chunk>) -> Response<Body> {
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((chunk.map(Frame::data), rx))
    });
    let mut resp = Response::new(BodyExt::boxed_unsync(StreamBody::new(chunks)));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    resp
}

/// Forwards a request body into a channel, for a blocking reader on the other side. Ends when
/// the body ends, fails (the reader sees the error) or the reader hangs up.
pub async fn pump(mut body: Incoming, tx: mpsc::Sender<Chunk>) {
    while let Some(frame) = body.frame().await {
        let chunk = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => Ok(data),
                Err(_trailers) => continue,
            },
            Err(e) => Err(std::io::Error::other(format!(
                "reading the request body: {e}"
            ))),
        };
        let failed = chunk.is_err();
        if tx.send(chunk).await.is_err() || failed {
            return;
        }
    }
}

/// A blocking `Read` over a channel of chunks (a request body). Use only off the runtime's
/// threads (`spawn_blocking`).
pub struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<Chunk>) -> ChannelReader {
        ChannelReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A blocking `Write` into a streamed response body. Use only off the runtime's threads.
/// Dropping it flushes what is buffered and ends the body.
pub struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: BytesMut,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Chunk>) -> ChannelWriter {
        ChannelWriter {
            tx,
            buf: BytesMut::with_capacity(WRITE_CHUNK),
        }
    }

    /// Ends the body with an error, so the client sees a broken transfer, not a short one.
    pub fn fail(self, message: String) {
        let _ = self.tx.blocking_send(Err(std::io::Error::other(message)));
    }

    fn send_buffered(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = self.buf.split().freeze();
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client hung up"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= WRITE_CHUNK {
            self.send_buffered()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffered()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send_buffered();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[tokio::test]
    async fn writer_chunks_arrive_in_order_and_end() {
        let (tx, mut rx) = channel();
        let writer = tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter::new(tx);
            for i in 0..200_000u32 {
                w.write_all(&i.to_le_bytes()).expect("write");
            }
        });
        let mut got = Vec::new();
        while let Some(chunk) = rx.recv().await {
            got.extend_from_slice(&chunk.expect("ok chunk"));
        }
        writer.await.expect("writer");
        assert_eq!(got.len(), 800_000);
        assert_eq!(&got[4..8], &1u32.to_le_bytes());
    }

    #[tokio::test]
    async fn reader_sees_bytes_then_errors() {
        let (tx, rx) = channel();
        tx.send(Ok(Bytes::from_static(b"abc"))).await.expect("send");
        tx.send(Err(std::io::Error::other("cut")))
            .await
            .expect("send");
        drop(tx);
        let result = tokio::task::spawn_blocking(move || {
            let mut r = ChannelReader::new(rx);
            let mut out = Vec::new();
            let err = r.read_to_end(&mut out).expect_err("must fail");
            (out, err.to_string())
        })
        .await
        .expect("join");
        assert_eq!(result.0, b"abc");
        assert_eq!(result.1, "cut");
    }
}
