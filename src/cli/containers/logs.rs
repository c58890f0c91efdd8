//! `berth logs`: a container's log from `GET /containers/{id}/logs`, raw for a TTY
//! container, else demultiplexed into stdout and stderr; `--since`/`--until` read as the
//! docker CLI's `timetypes.GetTimestamp` does (RFC 3339 and shorter dates, Go durations
//! like `10m` back from now, or Unix timestamps passed through).

use anyhow::{anyhow, bail};
use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};
use clap::Args;
use http_body_util::BodyExt;

use super::attach::write_frames;
use super::container_path;
use crate::api::client::Client;
use crate::cli::engine::query;
use crate::engine::logs::Demuxer;

#[derive(Debug, Clone, Default, Args)]
pub struct LogsArgs {
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, value_name = "string", default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    pub until: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(client: &Client, args: &LogsArgs) -> anyhow::Result<()> {
    let inspect: serde_json::Value = client
        .get_json(&format!("{}/json", container_path(&args.container)))
        .await?;
    let tty = inspect["Config"]["Tty"].as_bool().unwrap_or(false);
    let now = Local::now().fixed_offset();
    let since = match &args.since {
        Some(s) => get_timestamp(s, now)?,
        None => String::new(),
    };
    let until = match &args.until {
        Some(s) => get_timestamp(s, now)?,
        None => String::new(),
    };
    let path = format!(
        "{}/logs{}",
        container_path(&args.container),
        query(&[
            ("stdout", "1"),
            ("stderr", "1"),
            ("since", &since),
            ("until", &until),
            ("timestamps", if args.timestamps { "1" } else { "" }),
            ("follow", if args.follow { "1" } else { "" }),
            ("tail", &args.tail),
            ("details", if args.details { "1" } else { "" }),
        ])
    );
    let response = client.send_stream("GET", &path, &[], None).await?;
    let mut body = response.into_body();
    let mut demuxer = Demuxer::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow!("error reading the log: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if tty {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = out.write_all(&data);
            let _ = out.flush();
        } else {
            demuxer.push(&data);
            write_frames(&mut demuxer)?;
        }
    }
    Ok(())
}

/// The docker CLI's `GetTimestamp`: the API's `seconds[.nanoseconds]` for `value`, relative
/// values counted back from `now`.
pub fn get_timestamp(value: &str, now: DateTime<FixedOffset>) -> anyhow::Result<String> {
    if value != "0" {
        if let Some(nanos) = parse_go_duration(value) {
            let t = now.timestamp_nanos_opt().unwrap_or(0) - nanos;
            return Ok(t.div_euclid(1_000_000_000).to_string());
        }
    }
    let with_zone = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    let parsed: Option<DateTime<FixedOffset>> = if with_zone {
        let v = value.replace('z', "Z");
        DateTime::parse_from_rfc3339(&v).ok().or_else(|| {
            // Shorter forms with a zone: `2006-01-02T15:04Z`, `2006-01-02Z07:00`.
            let (local, zone) = split_zone(&v)?;
            let naive = parse_naive(local)?;
            let offset = parse_offset(zone)?;
            offset.from_local_datetime(&naive).single()
        })
    } else {
        parse_naive(value).and_then(|naive| now.offset().from_local_datetime(&naive).single())
    };
    match parsed {
        Some(t) => Ok(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        )),
        None if value.contains('-') => {
            bail!("failed to parse value as time or duration: {value:?}")
        }
        None => {
            let (secs, nanos) = value.split_once('.').unwrap_or((value, "0"));
            if secs.parse::<i64>().is_err() || nanos.parse::<u64>().is_err() {
                bail!("failed to parse value as time or duration: {value:?}");
            }
            Ok(value.to_owned())
        }
    }
}

/// `2006-01-02`, `2006-01-02T15`, `2006-01-02T15:04`, `2006-01-02T15:04:05[.nnn]`.
fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t);
        }
    }
    NaiveDateTime::parse_from_str(&format!("{s}:00"), "%Y-%m-%dT%H:%M").ok()
}

/// Splits `...Z` or `...+07:00`/`...-07:00` (after the date) into the time and the zone.
fn split_zone(s: &str) -> Option<(&str, &str)> {
    if let Some(local) = s.strip_suffix('Z') {
        return Some((local, "Z"));
    }
    let i = s.rfind(['+', '-']).filter(|&i| i > 10)?;
    Some((&s[..i], &s[i..]))
}

fn parse_offset(zone: &str) -> Option<FixedOffset> {
    if zone == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let (h, m) = zone[1..].split_once(':')?;
    FixedOffset::east_opt(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60))
}

/// Go's `time.ParseDuration` in nanoseconds (`1h30m`, `1.5s`, `-10m`, `300ms`).
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let (sign, mut rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += number * scale;
    }
    Some((sign * total) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2024-05-01T10:00:00+02:00").expect("valid")
    }

    #[test]
    fn relative_values_count_back_from_now() {
        let base = now().timestamp();
        assert_eq!(
            get_timestamp("10m", now()).expect("ok"),
            (base - 600).to_string()
        );
        assert_eq!(
            get_timestamp("1h30m", now()).expect("ok"),
            (base - 5400).to_string()
        );
        assert_eq!(
            get_timestamp("1.5s", now()).expect("ok"),
            (base - 2).to_string()
        );
    }

    #[test]
    fn dates_and_times_become_unix_nanos() {
        assert_eq!(
            get_timestamp("2013-01-02T13:23:37Z", now()).expect("ok"),
            "1357133017.000000000"
        );
        assert_eq!(
            get_timestamp("2013-01-02T13:23:37.5+01:00", now()).expect("ok"),
            "1357129417.500000000"
        );
        // Without a zone: the reference's zone (+02:00 here).
        assert_eq!(
            get_timestamp("2013-01-02", now()).expect("ok"),
            "1357077600.000000000"
        );
        assert_eq!(
            get_timestamp("2013-01-02T13:23", now()).expect("ok"),
            "1357125780.000000000"
        );
    }

    #[test]
    fn unix_timestamps_pass_through_and_junk_is_refused() {
        assert_eq!(
            get_timestamp("1357133017", now()).expect("ok"),
            "1357133017"
        );
        assert_eq!(
            get_timestamp("1357133017.123", now()).expect("ok"),
            "1357133017.123"
        );
        assert_eq!(get_timestamp("0", now()).expect("ok"), "0");
        assert_eq!(
            get_timestamp("yesterday", now())
                .expect_err("junk")
                .to_string(),
            "failed to parse value as time or duration: \"yesterday\""
        );
        assert!(get_timestamp("2013-13-45", now()).is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_go_duration("-1m"), Some(-60_000_000_000));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("1d"), None);
    }
}
