//! The byte side of unpacking: magic-byte detection, decompression, and the hand-over of the
//! uncompressed stream from the thread that decompresses and hashes it to the thread that
//! writes files.
//!
//! Splitting the work over two threads is what lets unpacking keep up with `tar -xzf`, which
//! runs gzip as a separate process. Chunks are large (1 MiB) and recycled, so the hand-over
//! costs one channel message per MiB and no allocation in the steady state. Nothing here
//! touches the file system.

use std::fmt;
use std::io::{self, BufReader, Chain, Cursor, Read, Take};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use super::Compression;

/// Bytes handed over at once.
pub(super) const CHUNK: usize = 1 << 20;

/// Chunks that may wait in the channel: enough to ride out a slow file creation.
pub(super) const IN_FLIGHT: usize = 4;

/// Read buffer in front of a decompressor.
const COMPRESSED_BUF: usize = 256 << 10;

/// A chunk of the uncompressed stream: the buffer (always `CHUNK` long) and how much is used.
pub(super) struct Chunk {
    buf: Vec<u8>,
    len: usize,
}

/// An error of the blob reader itself, as opposed to a decoding error.
#[derive(Debug)]
pub(super) struct SourceError(io::Error);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {}

/// Whether `e` came from the blob reader rather than from decoding.
pub(super) fn is_source_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<SourceError>())
}

/// The blob reader, with its errors marked as such.
pub(super) struct Source<R>(R);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), SourceError(e)))
    }
}

/// The blob again, after its first bytes were read to detect the compression.
type Rejoined<R> = Chain<Take<Cursor<[u8; 4]>>, Source<R>>;

/// The uncompressed stream of a blob.
pub(super) enum Decoder<R: Read> {
    Plain(Rejoined<R>),
    Gzip(Box<flate2::bufread::MultiGzDecoder<BufReader<Rejoined<R>>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<Rejoined<R>>>>),
}

impl<R: Read> Decoder<R> {
    /// Reads the magic bytes and sets up the matching decompressor.
    pub(super) fn open(blob: R) -> io::Result<(Compression, Decoder<R>)> {
        let mut blob = Source(blob);
        let mut head = [0u8; 4];
        let n = read_up_to(&mut blob, &mut head)?;
        let compression = super::detect_compression(&head[..n]);
        let rejoined = Cursor::new(head).take(n as u64).chain(blob);
        let decoder = match compression {
            Compression::None => Decoder::Plain(rejoined),
            Compression::Gzip => Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(
                BufReader::with_capacity(COMPRESSED_BUF, rejoined),
            ))),
            Compression::Zstd => Decoder::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(
                BufReader::with_capacity(COMPRESSED_BUF, rejoined),
            )?)),
        };
        Ok((compression, decoder))
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// How pumping ended without a read error.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pumped {
    /// The whole stream went through.
    End,
    /// The writing side stopped listening (it failed).
    Abandoned,
}

/// Reads `src` to its end in chunks and sends them to the writing side, reusing the buffers
/// it sends back. A read error is passed on (so the writer stops) and returned.
pub(super) fn pump(
    src: &mut impl Read,
    tx: SyncSender<io::Result<Chunk>>,
    spare: Receiver<Vec<u8>>,
) -> io::Result<Pumped> {
    loop {
        let mut buf = spare.try_recv().unwrap_or_else(|_| vec![0; CHUNK]);
        let len = match read_up_to(src, &mut buf) {
            Ok(len) => len,
            Err(e) => {
                // The writer only needs to stop; the caller reports `e` itself.
                let _ = tx.send(Err(io::Error::new(e.kind(), "layer stream failed")));
                return Err(e);
            }
        };
        if len > 0 && tx.send(Ok(Chunk { buf, len })).is_err() {
            return Ok(Pumped::Abandoned);
        }
        if len < CHUNK {
            return Ok(Pumped::End);
        }
    }
}

/// The writing side's view of the stream sent by `pump`.
pub(super) struct ChunkReader {
    rx: Receiver<io::Result<Chunk>>,
    spare: Sender<Vec<u8>>,
    current: Chunk,
    pos: usize,
}

impl ChunkReader {
    pub(super) fn new(rx: Receiver<io::Result<Chunk>>, spare: Sender<Vec<u8>>) -> ChunkReader {
        ChunkReader {
            rx,
            spare,
            current: Chunk {
                buf: Vec::new(),
                len: 0,
            },
            pos: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len {
            let next = match self.rx.recv() {
                Ok(next) => next?,
                // The pump is done: end of stream.
                Err(_) => return Ok(0),
            };
            let used = std::mem::replace(&mut self.current, next);
            if used.buf.len() == CHUNK {
                // The pump may already be gone; then the buffer is simply dropped.
                let _ = self.spare.send(used.buf);
            }
            self.pos = 0;
        }
        let available = &self.current.buf[self.pos..self.current.len];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        Ok(n)
    }
}
