//! Progress streams (pull, push, load, import) shown as the docker CLI shows them
//! (moby's `jsonmessage.DisplayJSONMessagesStream`): on a terminal one line per layer
//! updated in place with a bar; elsewhere one line per status change, bars left out.
//!
//! It only renders what the daemon sends; an `error` message ends the stream as an error.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{anyhow, Context};
use http_body_util::BodyExt;

use super::format::units::human_size;
use crate::image::progress::{ProgressDetail, ProgressMessage};

/// Writes progress messages to `out` the way Docker does.
pub struct ProgressDisplay<'a> {
    out: &'a mut dyn Write,
    terminal: bool,
    /// Terminal columns: the bar is drawn only when wider than 110.
    width: usize,
    /// Lines of the current in-place block, by message id.
    ids: HashMap<String, usize>,
}

impl<'a> ProgressDisplay<'a> {
    pub fn new(out: &'a mut dyn Write, terminal: bool) -> ProgressDisplay<'a> {
        ProgressDisplay {
            out,
            terminal,
            width: if terminal { terminal_width() } else { 200 },
            ids: HashMap::new(),
        }
    }

    /// Shows one message; an error message becomes `Err` (with Docker's wording for 401s
    /// left to the daemon's message).
    pub fn show(&mut self, msg: &ProgressMessage) -> anyhow::Result<()> {
        if msg.aux.is_some() {
            return Ok(());
        }
        let has_progress = msg.progress_detail.is_some() || !msg.progress.is_empty();
        let mut diff = 0;
        if !msg.id.is_empty() && has_progress {
            let line = match self.ids.get(&msg.id) {
                Some(&line) => line,
                None => {
                    let line = self.ids.len();
                    self.ids.insert(msg.id.clone(), line);
                    if self.terminal {
                        writeln!(self.out)?;
                    }
                    line
                }
            };
            diff = self.ids.len() - line;
            if self.terminal && diff > 0 {
                write!(self.out, "\x1b[{diff}A")?;
            }
        } else {
            // Something that is not per-layer progress starts a new block.
            self.ids.clear();
        }
        let shown = self.show_line(msg);
        if !msg.id.is_empty() && self.terminal && diff > 0 {
            write!(self.out, "\x1b[{diff}B")?;
        }
        shown
    }

    /// moby's `JSONMessage.Display`.
    fn show_line(&mut self, msg: &ProgressMessage) -> anyhow::Result<()> {
        if let Some(detail) = &msg.error_detail {
            return Err(anyhow!("{}", detail.message));
        }
        if let Some(error) = &msg.error {
            return Err(anyhow!("{error}"));
        }
        let bar = msg
            .progress_detail
            .as_ref()
            .map(|d| progress_string(d, self.width));
        let mut endl = "";
        if self.terminal && msg.stream.is_none() && msg.progress_detail.is_some() {
            write!(self.out, "\x1b[2K\r")?;
            endl = "\r";
        } else if bar.as_deref().is_some_and(|b| !b.is_empty()) {
            // No bars off a terminal.
            return Ok(());
        }
        if !msg.id.is_empty() {
            write!(self.out, "{}: ", msg.id)?;
        }
        match (&bar, &msg.stream) {
            (Some(bar), _) if self.terminal => write!(self.out, "{} {bar}{endl}", msg.status)?,
            _ if !msg.progress.is_empty() => {
                write!(self.out, "{} {}{endl}", msg.status, msg.progress)?
            }
            (_, Some(stream)) => write!(self.out, "{stream}{endl}")?,
            _ => writeln!(self.out, "{}{endl}", msg.status)?,
        }
        self.out.flush()?;
        Ok(())
    }
}

/// moby's `JSONProgress.String` (without the time-left part, which needs a start time the
/// daemon does not send).
pub fn progress_string(detail: &ProgressDetail, width: usize) -> String {
    let current = detail.current.unwrap_or(0);
    let total = detail.total.unwrap_or(0);
    if current == 0 && total == 0 {
        return String::new();
    }
    if total == 0 {
        return format!("{:>8}", human_size(current as f64));
    }
    let percentage = ((current as f64 / total as f64 * 100.0) as usize / 2).min(50);
    let bar = if width > 110 {
        format!(
            "[{}>{}] ",
            "=".repeat(percentage),
            " ".repeat(50 - percentage)
        )
    } else {
        String::new()
    };
    let numbers = if current > total {
        format!("{:>8}", human_size(current as f64))
    } else {
        format!(
            "{:>8}/{}",
            human_size(current as f64),
            human_size(total as f64)
        )
    };
    bar + &numbers
}

/// The terminal's width (`stty size` on the controlling terminal), 200 when unknown, as
/// Docker falls back.
fn terminal_width() -> usize {
    let from_stty = std::fs::File::open("/dev/tty").ok().and_then(|tty| {
        let output = std::process::Command::new("stty")
            .arg("size")
            .stdin(tty)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        text.split_whitespace().nth(1)?.parse().ok()
    });
    from_stty.unwrap_or(200)
}

/// Reads a streamed JSON-message answer to its end, showing each message.
pub async fn show_stream(
    response: hyper::Response<hyper::body::Incoming>,
    display: &mut ProgressDisplay<'_>,
) -> anyhow::Result<()> {
    let mut body = response.into_body();
    let mut pending: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading the daemon's answer")?;
        if let Some(data) = frame.data_ref() {
            pending.extend_from_slice(data);
            show_complete(&mut pending, display)?;
        }
    }
    show_complete(&mut pending, display)?;
    if pending.iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(anyhow!("unexpected EOF"));
    }
    Ok(())
}

/// Shows every complete JSON value at the front of `pending` and drops it from the buffer.
fn show_complete(pending: &mut Vec<u8>, display: &mut ProgressDisplay<'_>) -> anyhow::Result<()> {
    let mut stream = serde_json::Deserializer::from_slice(pending).into_iter::<ProgressMessage>();
    let mut consumed = 0;
    loop {
        match stream.next() {
            Some(Ok(msg)) => {
                consumed = stream.byte_offset();
                display.show(&msg)?;
            }
            Some(Err(e)) if e.is_eof() => break,
            Some(Err(e)) => return Err(anyhow!("decoding the daemon's progress: {e}")),
            None => {
                consumed = stream.byte_offset();
                break;
            }
        }
    }
    pending.drain(..consumed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(lines: &[&str], terminal: bool) -> (String, Option<String>) {
        let mut out = Vec::new();
        let mut err = None;
        {
            let mut display = ProgressDisplay {
                out: &mut out,
                terminal,
                width: 200,
                ids: HashMap::new(),
            };
            let mut pending = lines.concat().into_bytes();
            if let Err(e) = show_complete(&mut pending, &mut display) {
                err = Some(e.to_string());
            }
        }
        (String::from_utf8(out).expect("utf8"), err)
    }

    const PULL: &[&str] = &[
        r#"{"status":"Pulling from library/busybox","id":"latest"}"#,
        "\n",
        r#"{"status":"Pulling fs layer","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Downloading","progressDetail":{"current":1000,"total":2000},"progress":"[=>]","id":"9ad63333ebc9"}"#,
        r#"{"status":"Download complete","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Pull complete","progressDetail":{},"id":"9ad63333ebc9"}"#,
        r#"{"status":"Digest: sha256:abc"}"#,
        r#"{"status":"Status: Downloaded newer image for busybox:latest"}"#,
    ];

    #[test]
    fn non_terminal_prints_one_line_per_status_without_bars() {
        let (out, err) = render(PULL, false);
        assert_eq!(err, None);
        assert_eq!(
            out,
            "latest: Pulling from library/busybox\n\
             9ad63333ebc9: Pulling fs layer\n\
             9ad63333ebc9: Download complete\n\
             9ad63333ebc9: Pull complete\n\
             Digest: sha256:abc\n\
             Status: Downloaded newer image for busybox:latest\n"
        );
    }

    #[test]
    fn terminal_updates_layer_lines_in_place() {
        let (out, _) = render(&PULL[..4], true);
        // The layer gets a fresh line, then every update moves up one line, clears it,
        // rewrites it and moves back down.
        assert!(out.starts_with("latest: Pulling from library/busybox\n\n\x1b[1A\x1b[2K\r9ad63333ebc9: Pulling fs layer \r\x1b[1B"), "{out:?}");
        let bar = format!("[{}>{}]      1kB/2kB\r", "=".repeat(25), " ".repeat(25));
        assert!(
            out.contains(&format!("9ad63333ebc9: Downloading {bar}")),
            "{out:?}"
        );
    }

    #[test]
    fn error_message_ends_the_stream() {
        let (out, err) = render(
            &[
                r#"{"status":"Pulling from library/nope","id":"latest"}"#,
                r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#,
            ],
            false,
        );
        assert_eq!(out, "latest: Pulling from library/nope\n");
        assert_eq!(err.as_deref(), Some("manifest unknown"));
    }

    #[test]
    fn stream_messages_print_as_is() {
        let (out, _) = render(&[r#"{"stream":"Loaded image: busybox:latest\n"}"#], false);
        assert_eq!(out, "Loaded image: busybox:latest\n");
    }

    #[test]
    fn partial_json_waits_for_more_bytes() {
        let mut out = Vec::new();
        let mut display = ProgressDisplay {
            out: &mut out,
            terminal: false,
            width: 200,
            ids: HashMap::new(),
        };
        let mut pending = br#"{"status":"a"}{"stat"#.to_vec();
        show_complete(&mut pending, &mut display).expect("shows");
        assert_eq!(pending, br#"{"stat"#.to_vec());
    }

    #[test]
    fn bar_matches_docker() {
        let d = ProgressDetail {
            current: Some(2_130_000),
            total: Some(4_261_216),
        };
        assert_eq!(
            progress_string(&d, 200),
            format!("[{}>{}]   2.13MB/4.261MB", "=".repeat(24), " ".repeat(26))
        );
        assert_eq!(progress_string(&d, 80), "  2.13MB/4.261MB");
    }
}
