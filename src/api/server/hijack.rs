//! Hijacked connections for attach and exec: Docker's `101 UPGRADED` answer, then the raw
//! connection carries the process's output one way (multiplexed 8-byte-header frames, or raw
//! bytes with a tty) and the client's stdin the other.
//!
//! Without upgrade headers the output is streamed as an ordinary `200` body and stdin is not
//! available (Docker hijacks there too; hyper only hands the connection over on a `101`).
//! Half-close: the client closing its write side is end of stdin; the end of the output
//! closes the connection.

use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::body::{self, Body};
use crate::daemon::containers::IoSession;
use crate::engine::shim::Frame;

/// Docker's media type for unframed output (a tty, or any pre-1.42 client).
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
/// Docker's media type for stdcopy-framed output (API 1.42 and later, no tty).
pub const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";

/// stdcopy's stream ids.
pub const STDOUT_ID: u8 = 1;
pub const STDERR_ID: u8 = 2;

/// Largest payload of one multiplexed frame; longer data is split (the header's length is a
/// u32, and small frames keep the client's buffers small).
const MAX_FRAME: usize = 1 << 20;
/// Bytes read from the client per stdin chunk.
const STDIN_CHUNK: usize = 32 * 1024;

/// Docker hijacks whenever the request carries an `Upgrade` header.
pub fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(UPGRADE)
}

/// Appends `data` as stdcopy frames: `[stream, 0, 0, 0, len (u32 big-endian)]` + payload.
pub fn encode_frames(stream: u8, data: &[u8], out: &mut BytesMut) {
    for piece in data.chunks(MAX_FRAME) {
        out.reserve(8 + piece.len());
        out.put_u8(stream);
        out.put_slice(&[0, 0, 0]);
        // MAX_FRAME fits in a u32.
        out.put_u32(piece.len() as u32);
        out.put_slice(piece);
    }
}

/// The bytes a frame puts on the wire; `None` for the exec's exit (the stream just ends).
pub fn frame_bytes(frame: Frame, tty: bool) -> Option<Bytes> {
    let (stream, data) = match frame {
        Frame::Stdout(data) => (STDOUT_ID, data),
        Frame::Stderr(data) => (STDERR_ID, data),
        Frame::Exit(_) => return None,
    };
    if tty {
        return Some(data);
    }
    let mut out = BytesMut::new();
    encode_frames(stream, &data, &mut out);
    Some(out.freeze())
}

/// The request's pending upgrade when the client asked for one. Take it before consuming the
/// request's body.
pub fn take_upgrade(req: &mut Request<Incoming>) -> Option<OnUpgrade> {
    wants_upgrade(req.headers()).then(|| hyper::upgrade::on(req))
}

/// Answers an attach or exec request with `session`: `101 UPGRADED` and a pump over the
/// hijacked connection when the client asked for an upgrade, else a streamed `200`.
/// `multiplexed_media`: the client's API version announces multiplexed streams (1.42+).
pub fn respond(
    upgrade: Option<OnUpgrade>,
    session: IoSession,
    multiplexed_media: bool,
) -> Response<Body> {
    let Some(on_upgrade) = upgrade else {
        return stream_output(session);
    };
    let content_type = if !session.tty && multiplexed_media {
        MULTIPLEXED_STREAM
    } else {
        RAW_STREAM
    };
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => pump(TokioIo::new(upgraded), session).await,
            Err(e) => tracing::debug!(error = %e, "the client did not take the upgrade"),
        }
    });
    upgraded_response(content_type)
}

/// Docker's `HTTP/1.1 101 UPGRADED` head.
pub fn upgraded_response(content_type: &'static str) -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    resp.extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(b"UPGRADED"));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
    resp
}

/// The output as a plain `200` body (Docker's non-upgraded hijack says raw-stream here
/// whatever the framing).
fn stream_output(session: IoSession) -> Response<Body> {
    let (tx, rx) = body::channel();
    let IoSession {
        tty, mut output, ..
    } = session;
    tokio::spawn(async move {
        while let Some(frame) = output.recv().await {
            // An exec's exit frame is its end (the shim may keep its side open).
            let Some(bytes) = frame_bytes(frame, tty) else {
                break;
            };
            if tx.send(Ok(bytes)).await.is_err() {
                break;
            }
        }
    });
    body::stream(RAW_STREAM, rx)
}

/// Moves bytes between a hijacked connection and a session until the output ends (then the
/// connection is closed) or the client goes away.
pub async fn pump<IO>(io: IO, session: IoSession)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let IoSession { tty, output, input } = session;
    let (reader, writer) = tokio::io::split(io);
    let stdin = tokio::spawn(forward_stdin(reader, input));
    let result = write_output(writer, output, tty).await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "hijacked connection closed while writing");
    }
    // The process is done (or the client gone): stop reading; dropping the read half with
    // the write half closes the connection.
    stdin.abort();
}

async fn write_output<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut output: mpsc::Receiver<Frame>,
    tty: bool,
) -> std::io::Result<()> {
    while let Some(frame) = output.recv().await {
        // An exec's exit frame is its end: the CLI then inspects the exec for the code.
        let Some(bytes) = frame_bytes(frame, tty) else {
            break;
        };
        writer.write_all(&bytes).await?;
        writer.flush().await?;
    }
    writer.shutdown().await
}

/// Client bytes into the session's stdin; EOF (the client's half-close) drops the sender,
/// which is the process's end of stdin. Without stdin the bytes are read and dropped so the
/// client's writes never block.
async fn forward_stdin<R: AsyncRead + Unpin>(mut reader: R, input: Option<mpsc::Sender<Bytes>>) {
    let mut input = input;
    let mut buf = vec![0u8; STDIN_CHUNK];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Some(tx) = &input {
            if tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                // The process closed its stdin; keep draining the client.
                input = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixStream;

    #[test]
    fn frames_have_dockers_header() {
        let mut out = BytesMut::new();
        encode_frames(STDERR_ID, b"hello", &mut out);
        assert_eq!(&out[..], b"\x02\x00\x00\x00\x00\x00\x00\x05hello");
        let tty = frame_bytes(Frame::Stdout(Bytes::from_static(b"raw")), true);
        assert_eq!(tty.as_deref(), Some(&b"raw"[..]));
        let muxed = frame_bytes(Frame::Stdout(Bytes::from_static(b"ab")), false);
        assert_eq!(
            muxed.as_deref(),
            Some(&b"\x01\x00\x00\x00\x00\x00\x00\x02ab"[..])
        );
        assert_eq!(frame_bytes(Frame::Exit(3), false), None);
    }

    #[test]
    fn long_data_is_split_into_frames() {
        let data = vec![7u8; MAX_FRAME + 10];
        let mut out = BytesMut::new();
        encode_frames(STDOUT_ID, &data, &mut out);
        assert_eq!(out.len(), data.len() + 16);
        assert_eq!(&out[4..8], &(MAX_FRAME as u32).to_be_bytes());
        let second = 8 + MAX_FRAME;
        assert_eq!(&out[second + 4..second + 8], &10u32.to_be_bytes());
    }

    #[test]
    fn only_an_upgrade_header_asks_for_a_hijack() {
        let mut headers = HeaderMap::new();
        assert!(!wants_upgrade(&headers));
        headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
        assert!(wants_upgrade(&headers));
    }

    /// Reads until the end of the response head.
    async fn read_head(client: &mut UnixStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = client.read(&mut byte).await.expect("read head");
            assert_eq!(n, 1, "connection closed inside the head: {head:?}");
            head.push(byte[0]);
        }
        String::from_utf8(head).expect("ascii head")
    }

    /// A real hyper connection with upgrades over a socket pair, serving a session made of
    /// channels the test holds.
    #[tokio::test]
    async fn upgraded_connection_carries_frames_both_ways() {
        let (server_io, mut client) = UnixStream::pair().expect("socketpair");
        let (out_tx, out_rx) = mpsc::channel(8);
        let (in_tx, mut in_rx) = mpsc::channel(8);
        let session = std::sync::Mutex::new(Some(IoSession {
            tty: false,
            output: out_rx,
            input: Some(in_tx),
        }));
        let session = std::sync::Arc::new(session);
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            let session = session.lock().expect("lock").take().expect("one request");
            async move {
                Ok::<_, std::convert::Infallible>(respond(take_upgrade(&mut req), session, true))
            }
        });
        let server = tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server_io), service)
                .with_upgrades(),
        );

        client
            .write_all(
                b"POST /v1.43/containers/x/attach?stream=1 HTTP/1.1\r\nHost: docker\r\n\
                  Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
            )
            .await
            .expect("request");
        let head = read_head(&mut client).await;
        assert!(head.starts_with("HTTP/1.1 101 UPGRADED\r\n"), "{head}");
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("content-type: application/vnd.docker.multiplexed-stream"));
        assert!(lower.contains("upgrade: tcp"));

        out_tx
            .send(Frame::Stdout(Bytes::from_static(b"out")))
            .await
            .expect("send");
        out_tx
            .send(Frame::Stderr(Bytes::from_static(b"err!")))
            .await
            .expect("send");
        let mut got = vec![0u8; 8 + 3 + 8 + 4];
        client.read_exact(&mut got).await.expect("frames");
        assert_eq!(
            got,
            b"\x01\x00\x00\x00\x00\x00\x00\x03out\x02\x00\x00\x00\x00\x00\x00\x04err!"
        );

        client.write_all(b"stdin bytes").await.expect("stdin");
        let mut received = Vec::new();
        while received.len() < 11 {
            received.extend_from_slice(&in_rx.recv().await.expect("stdin chunk"));
        }
        assert_eq!(received, b"stdin bytes");
        client.shutdown().await.expect("half-close");
        assert_eq!(in_rx.recv().await, None, "half-close must end stdin");

        // The process is still writing after stdin ended; then its output ends.
        out_tx
            .send(Frame::Stdout(Bytes::from_static(b"bye")))
            .await
            .expect("send");
        out_tx.send(Frame::Exit(0)).await.expect("send");
        // The exit frame writes nothing and closes the connection, even while the
        // session's sender lives on.
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("read to close");
        assert_eq!(rest, b"\x01\x00\x00\x00\x00\x00\x00\x03bye");
        server.await.expect("join").expect("connection ok");
        drop(out_tx);
    }

    #[tokio::test]
    async fn without_upgrade_the_output_is_a_200_body() {
        let (server_io, mut client) = UnixStream::pair().expect("socketpair");
        let (out_tx, out_rx) = mpsc::channel(8);
        let session = std::sync::Arc::new(std::sync::Mutex::new(Some(IoSession {
            tty: true,
            output: out_rx,
            input: None,
        })));
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            let session = session.lock().expect("lock").take().expect("one request");
            async move {
                Ok::<_, std::convert::Infallible>(respond(take_upgrade(&mut req), session, true))
            }
        });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server_io), service)
                .with_upgrades(),
        );
        client
            .write_all(
                b"POST /exec/x/start HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\
                  Content-Length: 0\r\n\r\n",
            )
            .await
            .expect("request");
        out_tx
            .send(Frame::Stdout(Bytes::from_static(b"tty bytes")))
            .await
            .expect("send");
        drop(out_tx);
        let mut all = Vec::new();
        client.read_to_end(&mut all).await.expect("response");
        let text = String::from_utf8_lossy(&all);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text
            .to_ascii_lowercase()
            .contains("content-type: application/vnd.docker.raw-stream"));
        assert!(text.contains("tty bytes"), "{text}");
    }
}
