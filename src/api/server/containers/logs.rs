//! `GET /containers/{id}/logs`: the json-file log as Docker streams it: stdcopy frames
//! (8-byte headers) without a tty, raw bytes with one; with `timestamps`, each line starts
//! with its RFC 3339 time with nanoseconds (`2006-01-02T15:04:05.000000000Z `).
//!
//! Parameters are checked before the `200` goes out; after that the stream just ends.
//! `details` (log-driver attributes) is not supported yet and ignored.

use bytes::{Bytes, BytesMut};
use hyper::Response;

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::hijack::{encode_frames, MULTIPLEXED_STREAM, RAW_STREAM, STDERR_ID, STDOUT_ID};
use super::super::query::Query;
use crate::daemon::containers::LogsOptions;
use crate::daemon::state::Daemon;
use crate::engine::logs::{LogEntry, LogStream};

/// The query as the manager takes it.
pub fn logs_options(query: &Query) -> Result<LogsOptions, ApiError> {
    let stdout = query.bool("stdout");
    let stderr = query.bool("stderr");
    if !(stdout || stderr) {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    Ok(LogsOptions {
        follow: query.bool("follow"),
        stdout,
        stderr,
        since: timestamp(query, "since")?,
        until: timestamp(query, "until")?,
        timestamps: query.bool("timestamps"),
        tail: tail(query.get("tail").unwrap_or(""))?,
    })
}

/// Docker's `seconds[.nanoseconds]` timestamps (the CLI converts durations and dates).
fn timestamp(query: &Query, name: &str) -> Result<f64, ApiError> {
    let Some(value) = query.non_empty(name) else {
        return Ok(0.0);
    };
    let (secs, nanos) = value.split_once('.').unwrap_or((value, ""));
    let parsed_secs = secs.parse::<i64>().map_err(|_| {
        ApiError::bad_request(format!(
            "strconv.ParseInt: parsing {secs:?}: invalid syntax"
        ))
    })?;
    let fraction = if nanos.is_empty() {
        0.0
    } else if nanos.bytes().all(|b| b.is_ascii_digit()) {
        format!("0.{nanos}").parse::<f64>().unwrap_or(0.0)
    } else {
        return Err(ApiError::bad_request(format!(
            "strconv.ParseInt: parsing {nanos:?}: invalid syntax"
        )));
    };
    Ok(parsed_secs as f64 + fraction)
}

/// `tail`: `all`, empty or a negative number is everything.
fn tail(value: &str) -> Result<Option<usize>, ApiError> {
    if value.is_empty() || value == "all" {
        return Ok(None);
    }
    let n: i64 = value.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid value for \"tail\": strconv.Atoi: parsing {value:?}: invalid syntax"
        ))
    })?;
    Ok(usize::try_from(n).ok())
}

/// Docker's `RFC3339NanoFixed` in UTC.
pub fn format_timestamp(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// One entry's bytes on the wire.
pub fn encode_entry(entry: &LogEntry, tty: bool, timestamps: bool) -> Bytes {
    let mut payload = BytesMut::new();
    if timestamps {
        payload.extend_from_slice(format_timestamp(&entry.time).as_bytes());
        payload.extend_from_slice(b" ");
    }
    payload.extend_from_slice(&entry.line);
    if tty {
        return payload.freeze();
    }
    let stream = match entry.stream {
        LogStream::Stdout => STDOUT_ID,
        LogStream::Stderr => STDERR_ID,
    };
    let mut out = BytesMut::with_capacity(payload.len() + 8);
    encode_frames(stream, &payload, &mut out);
    out.freeze()
}

/// `GET /containers/{id}/logs?follow&stdout&stderr&since&until&timestamps&tail`.
pub async fn logs(
    daemon: &Daemon,
    id: &str,
    query: &Query,
    multiplexed_media: bool,
) -> Result<Response<Body>, ApiError> {
    let options = logs_options(query)?;
    let mut log = daemon.containers.logs(id, &options).await?;
    let content_type = if !log.tty && multiplexed_media {
        MULTIPLEXED_STREAM
    } else {
        RAW_STREAM
    };
    let (tx, rx) = body::channel();
    let (tty, timestamps) = (log.tty, options.timestamps);
    tokio::spawn(async move {
        while let Some(entry) = log.entries.recv().await {
            if tx
                .send(Ok(encode_entry(&entry, tty, timestamps)))
                .await
                .is_err()
            {
                // The client hung up; dropping the receiver stops the reader.
                break;
            }
        }
    });
    Ok(body::stream(content_type, rx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use hyper::StatusCode;

    fn entry(stream: LogStream, line: &'static [u8]) -> LogEntry {
        LogEntry {
            stream,
            line: Bytes::from_static(line),
            time: chrono::Utc
                .timestamp_opt(1_700_000_000, 5_000)
                .single()
                .expect("valid time"),
        }
    }

    #[test]
    fn at_least_one_stream_is_required() {
        let e = logs_options(&Query::parse(Some("follow=1"))).expect_err("no stream");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            e.message,
            "Bad parameters: you must choose at least one stream"
        );
    }

    #[test]
    fn options_from_the_query() {
        let q = Query::parse(Some(
            "stdout=1&follow=1&timestamps=1&tail=10&since=1700000000.500000000&until=1700000100",
        ));
        let o = logs_options(&q).expect("ok");
        assert!(o.stdout && !o.stderr && o.follow && o.timestamps);
        assert_eq!(o.tail, Some(10));
        assert!((o.since - 1_700_000_000.5).abs() < 1e-3);
        assert!((o.until - 1_700_000_100.0).abs() < 1e-9);
        let all = logs_options(&Query::parse(Some("stderr=1&tail=all"))).expect("ok");
        assert_eq!(all.tail, None);
        assert_eq!(all.since, 0.0);
        let neg = logs_options(&Query::parse(Some("stderr=1&tail=-1"))).expect("ok");
        assert_eq!(neg.tail, None);
        let e = logs_options(&Query::parse(Some("stderr=1&tail=x"))).expect_err("bad tail");
        assert!(e.message.starts_with("invalid value for \"tail\""));
        assert!(logs_options(&Query::parse(Some("stderr=1&since=yesterday"))).is_err());
    }

    #[test]
    fn entries_are_framed_like_docker() {
        let out = encode_entry(&entry(LogStream::Stderr, b"oops\n"), false, false);
        assert_eq!(&out[..], b"\x02\x00\x00\x00\x00\x00\x00\x05oops\n");
        let raw = encode_entry(&entry(LogStream::Stdout, b"hi\n"), true, false);
        assert_eq!(&raw[..], b"hi\n");
        let stamped = encode_entry(&entry(LogStream::Stdout, b"hi\n"), true, true);
        assert_eq!(&stamped[..], b"2023-11-14T22:13:20.000005000Z hi\n");
        let framed = encode_entry(&entry(LogStream::Stdout, b"hi\n"), false, true);
        assert_eq!(framed[0], STDOUT_ID);
        assert_eq!(&framed[4..8], &34u32.to_be_bytes());
    }
}
