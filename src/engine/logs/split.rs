//! Cuts a container's output stream into log records the way Docker's `logger.Copier` does:
//! a record ends after each `\n`; a line longer than 16 KiB is cut into 16 KiB partial
//! records (no newline, all stamped with the first partial's time); what is left at the end
//! of the stream becomes a last record with a newline added, as json-file adds one to every
//! complete message.

use chrono::{DateTime, Utc};

/// Docker's `maxBufSize`: a partial record is flushed at this size.
pub const MAX_RECORD: usize = 16 * 1024;

/// One record to hand to [`super::JsonFileWriter::write`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: Vec<u8>,
    pub time: DateTime<Utc>,
}

/// The pending bytes of one stream (use one per stream).
#[derive(Debug, Default)]
pub struct Splitter {
    pending: Vec<u8>,
    /// Set while a long line is being cut into partials: their shared timestamp.
    partial_time: Option<DateTime<Utc>>,
}

impl Splitter {
    pub fn new() -> Splitter {
        Splitter::default()
    }

    /// Feeds bytes read at `now`; returns the records they complete.
    pub fn push(&mut self, data: &[u8], now: DateTime<Utc>) -> Vec<Record> {
        let mut records = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_RECORD - self.pending.len();
            let window = &rest[..rest.len().min(room)];
            if let Some(nl) = window.iter().position(|&b| b == b'\n') {
                self.pending.extend_from_slice(&window[..=nl]);
                rest = &rest[nl + 1..];
                let time = self.partial_time.take().unwrap_or(now);
                records.push(Record {
                    line: std::mem::take(&mut self.pending),
                    time,
                });
            } else {
                self.pending.extend_from_slice(window);
                rest = &rest[window.len()..];
                if self.pending.len() == MAX_RECORD {
                    let time = *self.partial_time.get_or_insert(now);
                    records.push(Record {
                        line: std::mem::take(&mut self.pending),
                        time,
                    });
                }
            }
        }
        records
    }

    /// The stream ended at `now`: the unterminated rest, if any, with a newline added.
    pub fn finish(&mut self, now: DateTime<Utc>) -> Option<Record> {
        let time = self.partial_time.take().unwrap_or(now);
        if self.pending.is_empty() {
            return None;
        }
        let mut line = std::mem::take(&mut self.pending);
        line.push(b'\n');
        Some(Record { line, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, s).unwrap()
    }

    fn lines(records: &[Record]) -> Vec<&[u8]> {
        records.iter().map(|r| r.line.as_slice()).collect()
    }

    #[test]
    fn splits_after_each_newline_across_pushes() {
        let mut s = Splitter::new();
        assert!(s.push(b"ab", t(1)).is_empty());
        let r = s.push(b"c\nd\n\ne", t(2));
        assert_eq!(lines(&r), [&b"abc\n"[..], b"d\n", b"\n"]);
        assert_eq!(r[0].time, t(2));
        assert_eq!(
            s.finish(t(3)),
            Some(Record {
                line: b"e\n".to_vec(),
                time: t(3)
            })
        );
        assert_eq!(s.finish(t(4)), None);
    }

    #[test]
    fn long_lines_become_16k_partials_sharing_the_first_time() {
        let mut s = Splitter::new();
        let mut data = vec![b'x'; MAX_RECORD * 2 + 5];
        data.push(b'\n');
        let mut r = s.push(&data[..100], t(1));
        r.extend(s.push(&data[100..], t(2)));
        r.extend(s.push(b"next\n", t(3)));
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].line.len(), MAX_RECORD);
        assert_eq!(r[1].line.len(), MAX_RECORD);
        assert_eq!(r[2].line, b"xxxxx\n");
        assert_eq!([r[0].time, r[1].time, r[2].time], [t(2); 3]);
        assert_eq!(
            r[3],
            Record {
                line: b"next\n".to_vec(),
                time: t(3)
            }
        );
    }
}
