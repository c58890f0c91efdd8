//! Docker's json-file record encoding, byte for byte: the hand-written ffjson encoder of
//! `daemon/logger/jsonfilelog/jsonlog` (which escapes only `\n` and `\r` by name, every other
//! control byte as `\u00XX`, and `<`, `>`, `&` like Go's `encoding/json`), and Go's
//! `time.RFC3339Nano` timestamps (trailing zeros of the fraction trimmed).

use std::io;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::LogStream;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The name Docker writes in the `stream` field.
pub fn stream_name(stream: LogStream) -> &'static str {
    match stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    }
}

/// Appends one record with its trailing newline, exactly as dockerd writes it.
pub fn encode_record(
    out: &mut Vec<u8>,
    stream: LogStream,
    line: &[u8],
    time: DateTime<Utc>,
) -> io::Result<()> {
    let time = format_time(time)?;
    out.push(b'{');
    // Docker leaves out an empty "log" (`if len(mj.Log) != 0`), so we do too.
    if !line.is_empty() {
        out.extend_from_slice(b"\"log\":");
        write_json_string(out, line);
        out.push(b',');
    }
    out.extend_from_slice(b"\"stream\":\"");
    out.extend_from_slice(stream_name(stream).as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
    Ok(())
}

/// Go's `ffjsonWriteJSONBytesAsString`: a JSON string of arbitrary bytes.
pub fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            if (0x20..0x80).contains(&b) && !matches!(b, b'\\' | b'"' | b'<' | b'>' | b'&') {
                i += 1;
                continue;
            }
            out.extend_from_slice(&s[start..i]);
            match b {
                b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
            }
            i += 1;
            start = i;
            continue;
        }
        match decode_rune(&s[i..]) {
            None => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\ufffd");
                i += 1;
                start = i;
            }
            Some((c, size)) => {
                // U+2028 and U+2029 are escaped so the output is valid JavaScript too.
                if c == '\u{2028}' || c == '\u{2029}' {
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\u202");
                    out.push(HEX[(c as usize) & 0xf]);
                    start = i + size;
                }
                i += size;
            }
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Decodes one UTF-8 sequence at the start of `s` like Go's `utf8.DecodeRune`; `None` where
/// Go returns `(RuneError, 1)`.
fn decode_rune(s: &[u8]) -> Option<(char, usize)> {
    let len = match s.first()? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let head = s.get(..len)?;
    let c = std::str::from_utf8(head).ok()?.chars().next()?;
    Some((c, len))
}

/// Go's `t.Format(time.RFC3339Nano)` for a UTC time, with the year check of Docker's
/// `fastTimeMarshalJSON`.
pub fn format_time(t: DateTime<Utc>) -> io::Result<String> {
    if !(0..10000).contains(&t.year()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "time.MarshalJSON: year outside of range [0,9999]",
        ));
    }
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    // chrono encodes a leap second as nanos >= 1e9; Go has no leap seconds.
    let nanos = t.nanosecond().min(999_999_999);
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::nanoseconds(nanos.into())
    }

    fn record(stream: LogStream, line: &[u8], time: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        encode_record(&mut out, stream, line, time).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_like_dockerd() {
        assert_eq!(
            record(LogStream::Stdout, b"hello world\n", at(123_456_789)),
            "{\"log\":\"hello world\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.123456789Z\"}\n"
        );
        assert_eq!(
            record(LogStream::Stderr, b"a<b>&\"c\"\\\t\r\x01\n", at(120_000_000)),
            "{\"log\":\"a\\u003cb\\u003e\\u0026\\\"c\\\"\\\\\\u0009\\r\\u0001\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:05.12Z\"}\n"
        );
    }

    #[test]
    fn escapes_invalid_utf8_and_line_separators() {
        assert_eq!(
            record(LogStream::Stdout, "é\u{2028}x\u{2029}".as_bytes(), at(0)),
            "{\"log\":\"é\\u2028x\\u2029\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}\n"
        );
        assert_eq!(
            record(LogStream::Stdout, b"\xff\xe2\x82z\x7f", at(1)),
            "{\"log\":\"\\ufffd\\ufffd\\ufffdz\x7f\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.000000001Z\"}\n"
        );
    }

    #[test]
    fn leaves_out_an_empty_log() {
        assert_eq!(
            record(LogStream::Stdout, b"", at(500_000_000)),
            "{\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.5Z\"}\n"
        );
    }
}
