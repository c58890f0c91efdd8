//! `--change` lines of `docker import` (and later `commit`): Dockerfile instructions applied
//! to an image's run config, with Docker's rules and error texts.
//!
//! Docker parses all lines first, refuses any instruction outside its commit list
//! (`run is not a valid change command`), then applies them in order with variables
//! expanded from the environment built so far. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::words::{process_word, split_words};

/// The run config part of an image config (Docker's field names; empty fields omitted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Empty>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_build: Vec<String>,
}

/// The `{}` values of `ExposedPorts` and `Volumes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `HEALTHCHECK`, durations in nanoseconds as Docker stores them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Instructions Docker accepts in `--change`.
const VALID: [&str; 11] = [
    "cmd",
    "entrypoint",
    "healthcheck",
    "env",
    "expose",
    "label",
    "onbuild",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// One instruction line: lowercased name, the rest as written, the whole line.
struct Line {
    name: String,
    rest: String,
    original: String,
}

/// Applies `changes` to `config`, or returns Docker's error text.
pub fn apply_changes(config: &mut RunConfig, changes: &[String]) -> Result<(), String> {
    let lines = split_lines(&changes.join("\n"));
    for line in &lines {
        if !VALID.contains(&line.name.as_str()) {
            return Err(format!("{} is not a valid change command", line.name));
        }
    }
    let mut cmd_set = false;
    for line in &lines {
        apply_line(config, line, &mut cmd_set)?;
    }
    Ok(())
}

/// Logical lines: `\` at the end continues a line; blank lines and comments are skipped.
fn split_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        if let Some(cont) = raw.trim_end().strip_suffix('\\') {
            pending.push_str(cont);
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        lines.push(Line {
            name: name.to_ascii_lowercase(),
            rest: rest.trim().to_string(),
            original: trimmed.to_string(),
        });
    }
    lines
}

fn apply_line(config: &mut RunConfig, line: &Line, cmd_set: &mut bool) -> Result<(), String> {
    let env = config.env.clone();
    let expand = |w: &str| process_word(w, &env);
    let rest = line.rest.as_str();
    match line.name.as_str() {
        "cmd" => {
            config.cmd = Some(command_line(rest));
            *cmd_set = true;
        }
        "entrypoint" => {
            config.entrypoint = Some(command_line(rest));
            // As Docker: an ENTRYPOINT resets a CMD that these changes did not set.
            if !*cmd_set {
                config.cmd = None;
            }
        }
        "env" => {
            for (k, v) in name_values(rest, "ENV")? {
                set_env(&mut config.env, &expand(&k)?, &expand(&v)?);
            }
        }
        "label" => {
            for (k, v) in name_values(rest, "LABEL")? {
                config.labels.insert(expand(&k)?, expand(&v)?);
            }
        }
        "expose" => {
            let words = split_words(rest);
            if words.is_empty() {
                return Err("EXPOSE requires at least one argument".into());
            }
            for word in words {
                for port in expand_ports(&expand(&word)?)? {
                    config.exposed_ports.insert(port, Empty {});
                }
            }
        }
        "user" => config.user = expand(one_argument(rest, "USER")?)?,
        "workdir" => {
            let dir = expand(one_argument(rest, "WORKDIR")?)?;
            config.working_dir = join_workdir(&config.working_dir, &dir);
        }
        "stopsignal" => {
            let signal = expand(one_argument(rest, "STOPSIGNAL")?)?;
            check_signal(&signal)?;
            config.stop_signal = signal;
        }
        "volume" => {
            let list = json_list(rest).unwrap_or_else(|| split_words(rest));
            if list.is_empty() {
                return Err("VOLUME requires at least one argument".into());
            }
            for v in list {
                let v = expand(&v)?;
                if v.trim().is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                config.volumes.insert(v, Empty {});
            }
        }
        "onbuild" => config.on_build.push(onbuild_trigger(line)?),
        "healthcheck" => config.healthcheck = Some(healthcheck(rest)?),
        _ => unreachable!("names are checked against VALID first"),
    }
    Ok(())
}

/// JSON form as given, shell form through `/bin/sh -c`.
fn command_line(rest: &str) -> Vec<String> {
    json_list(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

/// A JSON array of strings, or `None` when `rest` is not one (then it is shell form).
fn json_list(rest: &str) -> Option<Vec<String>> {
    let trimmed = rest.trim();
    if !trimmed.starts_with('[') {
        return None;
    }
    serde_json::from_str(trimmed).ok()
}

/// `k=v k2="v 2"`, or the legacy `k some value` form (ENV and LABEL).
fn name_values(rest: &str, instruction: &str) -> Result<Vec<(String, String)>, String> {
    let words = split_words(rest);
    let Some(first) = words.first() else {
        return Err(format!("{instruction} requires at least one argument"));
    };
    if !first.contains('=') {
        let (k, v) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{instruction} must have two arguments"))?;
        return Ok(vec![(k.to_string(), v.trim_start().to_string())]);
    }
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    format!("Syntax error - can't find = in {w:?}. Must be of the form: name=value")
                })
        })
        .collect()
}

fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map(|p| p.0) == Some(key))
    {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

fn one_argument<'a>(rest: &'a str, instruction: &str) -> Result<&'a str, String> {
    if rest.is_empty() {
        return Err(format!("{instruction} requires exactly one argument"));
    }
    Ok(rest)
}

/// A relative WORKDIR is relative to the previous one.
fn join_workdir(current: &str, dir: &str) -> String {
    let joined = if dir.starts_with('/') {
        dir.to_string()
    } else {
        let base = if current.is_empty() { "/" } else { current };
        format!("{base}/{dir}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `80`, `80/udp`, `8000-8002/tcp` -> `80/tcp`, ... (protocol defaults to tcp).
fn expand_ports(spec: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let invalid = || format!("invalid containerPort: {ports}");
    let parse = |p: &str| p.parse::<u16>().map_err(|_| invalid());
    let (start, end) = match ports.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(ports)?, parse(ports)?),
    };
    if end < start {
        return Err(format!(
            "invalid range specified for container port: {ports}"
        ));
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

/// Linux signal names Docker's `signal.ParseSignal` knows (without `SIG`).
const SIGNALS: [&str; 36] = [
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
];

fn check_signal(raw: &str) -> Result<(), String> {
    let invalid = || Err(format!("Invalid signal: {raw}"));
    if let Ok(n) = raw.parse::<i64>() {
        return if n == 0 { invalid() } else { Ok(()) };
    }
    let name = raw.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let realtime = |prefix: &str, sign: char| {
        name.strip_prefix(prefix)
            .and_then(|n| n.strip_prefix(sign))
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| (1..=15).contains(&n))
    };
    if SIGNALS.contains(&name) || realtime("RTMIN", '+') || realtime("RTMAX", '-') {
        Ok(())
    } else {
        invalid()
    }
}

/// The trigger as written, with Docker's refusals of chained and FROM triggers.
fn onbuild_trigger(line: &Line) -> Result<String, String> {
    let expression = line.original["onbuild".len()..].trim().to_string();
    let trigger = expression
        .split_whitespace()
        .next()
        .ok_or("ONBUILD requires at least one argument")?
        .to_ascii_uppercase();
    match trigger.as_str() {
        "ONBUILD" => Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "FROM" | "MAINTAINER" => Err(format!("{trigger} isn't allowed as an ONBUILD trigger")),
        _ => Ok(expression),
    }
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=..] [...] CMD command`.
fn healthcheck(rest: &str) -> Result<Healthcheck, String> {
    let mut check = Healthcheck::default();
    let mut remaining = rest.trim_start();
    while let Some(flag) = remaining.strip_prefix("--") {
        let (word, after) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        let (name, value) = word.split_once('=').unwrap_or((word, ""));
        match name {
            "interval" => check.interval = duration_flag(value, "Interval", "--interval")?,
            "timeout" => check.timeout = duration_flag(value, "Timeout", "--timeout")?,
            "start-period" => {
                check.start_period = duration_flag(value, "StartPeriod", "--start-period")?
            }
            "start-interval" => {
                check.start_interval = duration_flag(value, "StartInterval", "--start-interval")?
            }
            "retries" => {
                let n: i64 = value
                    .parse()
                    .map_err(|_| format!("invalid value {value:?} for flag --retries"))?;
                if n < 0 {
                    return Err(format!("--retries cannot be negative ({n})"));
                }
                check.retries = n;
            }
            other => return Err(format!("Unknown flag: {other}")),
        }
        remaining = after.trim_start();
    }
    let (kind, args) = remaining
        .split_once(char::is_whitespace)
        .unwrap_or((remaining, ""));
    match kind.to_ascii_uppercase().as_str() {
        "" => return Err("HEALTHCHECK requires at least one argument".into()),
        "NONE" if args.trim().is_empty() => check.test = vec!["NONE".into()],
        "NONE" => return Err("HEALTHCHECK NONE takes no arguments".into()),
        "CMD" => {
            check.test = match json_list(args) {
                Some(list) => std::iter::once("CMD".to_string()).chain(list).collect(),
                None => vec!["CMD-SHELL".into(), args.trim().to_string()],
            }
        }
        other => return Err(format!("Unknown type {other:?} in HEALTHCHECK (try CMD)")),
    }
    Ok(check)
}

fn duration_flag(value: &str, field: &str, flag: &str) -> Result<i64, String> {
    let ns = parse_go_duration(value).ok_or_else(|| format!("time: invalid duration {value:?}"))?;
    if ns != 0 && ns < 1_000_000 {
        return Err(format!("{field} {flag:?} cannot be less than 1ms"));
    }
    Ok(ns)
}

/// Go's `time.ParseDuration`: `1h30m`, `1.5s`, `300ms`, `0`.
fn parse_go_duration(text: &str) -> Option<i64> {
    if text == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..num_end].parse().ok()?;
        let unit_end = rest[num_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .map_or(rest.len(), |i| num_end + i);
        let scale = match &rest[num_end..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Some(total as i64)
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
