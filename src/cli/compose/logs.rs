//! `logs`, and the log streaming `up` does in attached mode: each container's lines
//! prefixed `name  | ` (names padded to the longest, Compose's colour rotation), and with
//! `-f` containers that start later (scale up, restart) are followed too, found on the
//! daemon's events stream.
//!
//! `follow` returns when every stream it reads has ended and, when following, no container
//! of the selection started again within a short grace period.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::Context;
use crate::scheduler::engine_api::{EngineApi, LogQuery};
use crate::scheduler::labels;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub until: Option<String>,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u32>,
    pub services: Vec<String>,
}

pub async fn run(ctx: &Context, args: LogsArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let now = chrono::Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|s| crate::cli::containers::logs::get_timestamp(s, now.into()))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| crate::cli::containers::logs::get_timestamp(s, now.into()))
        .transpose()?;
    let opts = FollowOptions {
        services: args.services,
        follow: args.follow,
        since,
        until,
        tail: Some(args.tail),
        timestamps: args.timestamps,
        colour: !args.no_color && std::io::stdout().is_terminal(),
        prefix: !args.no_log_prefix,
        index: args.index,
        report_exits: false,
    };
    follow(&api, &project, opts, None).await
}

/// What to stream.
#[derive(Clone, Debug, Default)]
pub struct FollowOptions {
    /// Services to show (empty: all).
    pub services: Vec<String>,
    pub follow: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    pub tail: Option<String>,
    pub timestamps: bool,
    pub colour: bool,
    pub prefix: bool,
    pub index: Option<u32>,
    /// Print `name exited with code N` when a container stops (`up`'s attached mode).
    pub report_exits: bool,
}

/// A container that stopped while followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerExit {
    pub service: String,
    pub name: String,
    pub exit_code: i64,
}

/// Streams the selected containers' logs to stdout; see the module documentation for when
/// it returns. Exits are sent on `exits` when given.
pub async fn follow(
    api: &EngineApi,
    project: &str,
    opts: FollowOptions,
    exits: Option<mpsc::UnboundedSender<ContainerExit>>,
) -> anyhow::Result<()> {
    let mut events = if opts.follow {
        let mut filters = BTreeMap::new();
        filters.insert("type".to_string(), vec!["container".to_string()]);
        filters.insert(
            "label".to_string(),
            vec![format!("{}={project}", labels::PROJECT)],
        );
        Some(api.events(&filters, None).await?)
    } else {
        None
    };
    let observed = api.observe(project).await?;
    let wanted = |service: &str, number: u32, oneoff: bool| {
        !oneoff
            && (opts.services.is_empty() || opts.services.iter().any(|s| s == service))
            && opts.index.is_none_or(|i| i == number)
    };
    let selected: Vec<_> = observed
        .containers
        .iter()
        .filter(|c| wanted(&c.service, c.number, c.oneoff))
        .collect();
    let printer = Arc::new(Printer::new(
        selected.iter().map(|c| c.name.clone()),
        opts.colour,
        opts.prefix,
    ));
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<String>();
    let mut active = BTreeSet::new();
    let mut services = BTreeMap::new();
    for c in &selected {
        services.insert(c.id.clone(), (c.service.clone(), c.name.clone()));
        active.insert(c.id.clone());
        spawn_stream(api, &c.id, &c.name, &opts, None, &printer, &ended_tx);
    }
    loop {
        if active.is_empty() && events.is_none() {
            return Ok(());
        }
        let grace = tokio::time::sleep(Duration::from_millis(if active.is_empty() {
            1500
        } else {
            86_400_000
        }));
        tokio::select! {
            Some(id) = ended_rx.recv() => {
                active.remove(&id);
            }
            event = async {
                match events.as_mut() {
                    Some(stream) => stream.next().await,
                    None => std::future::pending().await,
                }
            } => {
                let Some(Ok(event)) = event else {
                    events = None;
                    continue;
                };
                let id = event.actor.id.clone();
                let attrs = &event.actor.attributes;
                let service = attrs.get(labels::SERVICE).cloned().unwrap_or_default();
                let name = attrs.get("name").cloned().unwrap_or_default();
                let number = attrs
                    .get(labels::CONTAINER_NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let oneoff = attrs.get(labels::ONEOFF).is_some_and(|v| v.eq_ignore_ascii_case("true"));
                if !wanted(&service, number, oneoff) {
                    continue;
                }
                match event.action.as_str() {
                    "start" if !active.contains(&id) => {
                        services.insert(id.clone(), (service, name.clone()));
                        printer.add(&name);
                        active.insert(id.clone());
                        let since = event.time.to_string();
                        spawn_stream(api, &id, &name, &opts, Some(since), &printer, &ended_tx);
                    }
                    "die" => {
                        let code = attrs.get("exitCode").and_then(|c| c.parse().ok()).unwrap_or(0);
                        if opts.report_exits {
                            printer.notice(&format!("{name} exited with code {code}"));
                        }
                        if let Some(tx) = &exits {
                            let _ = tx.send(ContainerExit { service, name, exit_code: code });
                        }
                    }
                    _ => {}
                }
            }
            _ = grace => {
                if active.is_empty() {
                    return Ok(());
                }
            }
        }
    }
}

/// Streams one container's log on its own task; reports its ID on `ended` when done.
fn spawn_stream(
    api: &EngineApi,
    id: &str,
    name: &str,
    opts: &FollowOptions,
    since_override: Option<String>,
    printer: &Arc<Printer>,
    ended: &mpsc::UnboundedSender<String>,
) {
    let (api, id, name, printer, ended) = (
        api.clone(),
        id.to_string(),
        name.to_string(),
        printer.clone(),
        ended.clone(),
    );
    let query = LogQuery {
        follow: opts.follow,
        timestamps: opts.timestamps,
        since: since_override.or_else(|| opts.since.clone()),
        until: opts.until.clone(),
        tail: opts.tail.clone(),
    };
    tokio::spawn(async move {
        let tty = api
            .client
            .get_json::<serde_json::Value>(&format!("/v1.41/containers/{id}/json"))
            .await
            .map(|v| v["Config"]["Tty"].as_bool().unwrap_or(false))
            .unwrap_or(false);
        if let Ok(mut frames) = api.logs(&id, tty, &query).await {
            let mut pending: [Vec<u8>; 3] = Default::default();
            while let Some(Ok(frame)) = frames.next().await {
                let slot = usize::from(frame.stream.min(2));
                pending[slot].extend_from_slice(&frame.bytes);
                while let Some(pos) = pending[slot].iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending[slot].drain(..=pos).collect();
                    printer.line(&name, &String::from_utf8_lossy(&line[..line.len() - 1]));
                }
            }
            for rest in pending.iter().filter(|p| !p.is_empty()) {
                printer.line(&name, &String::from_utf8_lossy(rest));
            }
        }
        let _ = ended.send(id);
    });
}

/// Compose's colour rotation for prefixes.
const COLOURS: [&str; 12] = [
    "36", "33", "32", "35", "34", "96", "93", "92", "95", "94", "31", "91",
];

/// Prints prefixed lines; one lock so lines of different containers never interleave.
pub struct Printer {
    state: Mutex<PrinterState>,
    colour: bool,
    prefix: bool,
}

struct PrinterState {
    width: usize,
    colours: BTreeMap<String, &'static str>,
}

impl Printer {
    pub fn new(names: impl Iterator<Item = String>, colour: bool, prefix: bool) -> Printer {
        let printer = Printer {
            state: Mutex::new(PrinterState {
                width: 0,
                colours: BTreeMap::new(),
            }),
            colour,
            prefix,
        };
        for name in names {
            printer.add(&name);
        }
        printer
    }

    /// Makes room for `name` and gives it the next colour.
    pub fn add(&self, name: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.width = state.width.max(name.len());
        let next = COLOURS[state.colours.len() % COLOURS.len()];
        state.colours.entry(name.to_string()).or_insert(next);
    }

    /// `name  | line`.
    pub fn format(&self, name: &str, line: &str) -> String {
        if !self.prefix {
            return line.to_string();
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let padded = format!("{name:<width$}  |", width = state.width);
        match (self.colour, state.colours.get(name)) {
            (true, Some(code)) => format!("\x1b[{code}m{padded}\x1b[0m {line}"),
            _ => format!("{padded} {line}"),
        }
    }

    pub fn line(&self, name: &str, line: &str) {
        let text = self.format(name, line);
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A line of berth's own (`name exited with code 0`).
    pub fn notice(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_padded_to_the_longest_name() {
        let p = Printer::new(
            ["demo-web-1".to_string(), "demo-db-1".to_string()].into_iter(),
            false,
            true,
        );
        assert_eq!(p.format("demo-db-1", "ready"), "demo-db-1   | ready");
        assert_eq!(p.format("demo-web-1", "GET /"), "demo-web-1  | GET /");
        let coloured = Printer::new(["a".to_string()].into_iter(), true, true);
        assert_eq!(coloured.format("a", "x"), "\x1b[36ma  |\x1b[0m x");
        let bare = Printer::new(["a".to_string()].into_iter(), false, false);
        assert_eq!(bare.format("a", "x"), "x");
    }
}
