//! Renders `scheduler::progress` events as Docker Compose does, on stderr: `--progress
//! plain` (one line per event: ` Container demo-web-1  Starting`), `tty` (one line per
//! finished step with its mark and time: ` ✔ Container demo-web-1  Started  0.4s`),
//! `quiet`, `json` (one object per event); `auto` picks tty on a terminal.
//!
//! Not yet: the tty view does not redraw lines in place with spinners as Compose's does.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use crate::cli::ProjectFlags;
use crate::scheduler::progress::{Event, Phase, Quiet, Sink};

/// The renderer for these flags (`--progress`, else `COMPOSE_PROGRESS`, else auto).
pub fn renderer(flags: &ProjectFlags) -> Arc<dyn Sink> {
    let mode = flags
        .progress
        .clone()
        .or_else(|| std::env::var("COMPOSE_PROGRESS").ok())
        .unwrap_or_else(|| "auto".into());
    let terminal = std::io::stderr().is_terminal();
    let colour = match flags.ansi.as_str() {
        "always" => true,
        "never" => false,
        _ => terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    match mode.as_str() {
        "quiet" => Arc::new(Quiet),
        "json" => Arc::new(Json),
        "tty" => Arc::new(Tty { colour }),
        "plain" => Arc::new(Plain),
        _ if terminal => Arc::new(Tty { colour }),
        _ => Arc::new(Plain),
    }
}

/// One line per event.
pub struct Plain;

impl Sink for Plain {
    fn event(&self, e: Event) {
        let _ = writeln!(std::io::stderr().lock(), "{}", plain_line(&e));
    }
}

/// ` Container demo-web-1  Started`, with the detail after it for warnings and errors.
pub fn plain_line(e: &Event) -> String {
    let mut line = format!(" {} {}  {}", e.resource.as_str(), e.name, e.status);
    if !e.detail.is_empty() {
        line.push_str(&format!(" {}", e.detail));
    }
    line
}

/// Finished steps only, with Compose's marks and the step's time.
pub struct Tty {
    colour: bool,
}

impl Sink for Tty {
    fn event(&self, e: Event) {
        if e.phase == Phase::Working {
            return;
        }
        let _ = writeln!(std::io::stderr().lock(), "{}", tty_line(&e, self.colour));
    }
}

pub fn tty_line(e: &Event, colour: bool) -> String {
    let (mark, paint) = match e.phase {
        Phase::Done | Phase::Working => ("✔", "32"),
        Phase::Warning => ("!", "33"),
        Phase::Error => ("✘", "31"),
    };
    let mark = if colour {
        format!("\x1b[{paint}m{mark}\x1b[0m")
    } else {
        mark.to_string()
    };
    let mut line = format!(" {mark} {} {}  {}", e.resource.as_str(), e.name, e.status);
    if !e.detail.is_empty() {
        line.push_str(&format!(" {}", e.detail));
    }
    line.push_str(&format!("  {:.1}s", e.elapsed.as_secs_f64()));
    line
}

/// One JSON object per event.
pub struct Json;

impl Sink for Json {
    fn event(&self, e: Event) {
        let _ = writeln!(std::io::stderr().lock(), "{}", json_line(&e));
    }
}

pub fn json_line(e: &Event) -> String {
    let level = match e.phase {
        Phase::Error => "error",
        Phase::Warning => "warning",
        _ => "info",
    };
    serde_json::json!({
        "id": format!("{} {}", e.resource.as_str(), e.name),
        "text": e.status,
        "details": e.detail,
        "level": level,
        "done": e.phase == Phase::Done,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::progress::Resource;
    use std::time::Duration;

    fn event(phase: Phase, status: &str) -> Event {
        Event {
            resource: Resource::Container,
            name: "demo-web-1".into(),
            status: status.into(),
            phase,
            detail: String::new(),
            elapsed: Duration::from_millis(420),
        }
    }

    #[test]
    fn lines_read_as_composes() {
        assert_eq!(
            plain_line(&event(Phase::Working, "Starting")),
            " Container demo-web-1  Starting"
        );
        assert_eq!(
            tty_line(&event(Phase::Done, "Started"), false),
            " ✔ Container demo-web-1  Started  0.4s"
        );
        let json: serde_json::Value =
            serde_json::from_str(&json_line(&event(Phase::Done, "Started"))).unwrap();
        assert_eq!(json["id"], "Container demo-web-1");
        assert_eq!(json["text"], "Started");
    }
}
