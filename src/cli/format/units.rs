//! Human sizes, durations and short IDs exactly as the docker CLI prints them (go-units
//! `HumanSizeWithPrecision`, `BytesSize`, `HumanDuration`; moby's `stringid.TruncateID`;
//! the formatter's `Ellipsis`).

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/// go-units `HumanSizeWithPrecision`: decimal units, `%.{precision}g` (`4.26MB`, `0B`,
/// `1e+03kB` for 999_500 at precision 3, as Docker prints it).
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (value, unit) = scale(size, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", format_g(value, precision))
}

/// go-units `HumanSize`: precision 4 (`Total reclaimed space: 1.234MB`).
pub fn human_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units `BytesSize`: binary units, `%.4g` (`7.53GiB`).
pub fn bytes_size(size: f64) -> String {
    let (value, unit) = scale(size, 1024.0, &BINARY_UNITS);
    format!("{}{unit}", format_g(value, 4))
}

fn scale(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// Go's `%.{precision}g`: `precision` significant digits, trailing zeros dropped, exponent
/// form when the exponent is below -4 or at least `precision`.
pub fn format_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let precision = precision.max(1);
    // Rounding to `precision` digits first decides the exponent (999.5 -> 1.00e3).
    let sci = format!("{:.*e}", precision - 1, value);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (precision as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{value:.decimals$}")).to_owned()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// go-units `HumanDuration` of `seconds` (fractional part ignored except for the hour
/// rounding Docker does): `Less than a second`, `About a minute`, `2 weeks`, ...
pub fn human_duration(seconds: f64) -> String {
    let secs = seconds as i64;
    if secs < 1 {
        return "Less than a second".into();
    }
    if secs == 1 {
        return "1 second".into();
    }
    if secs < 60 {
        return format!("{secs} seconds");
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // time.Duration.Round(time.Hour): half away from zero.
    let hours = (seconds / 3600.0).round() as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (seconds / 3600.0) as i64 / 24 / 365)
}

/// `"2 weeks ago"` for a Unix time, measured from now.
pub fn since(unix: i64) -> String {
    let now = chrono::Utc::now();
    let elapsed =
        now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9 - unix as f64;
    format!("{} ago", human_duration(elapsed))
}

/// moby `stringid.TruncateID`: drop an `algo:` prefix, keep 12 characters.
pub fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    id.chars().take(12).collect()
}

/// The formatter's `Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_docker() {
        assert_eq!(human_size_with_precision(4_261_216.0, 3), "4.26MB");
        assert_eq!(human_size_with_precision(0.0, 3), "0B");
        assert_eq!(human_size_with_precision(1_240.0, 3), "1.24kB");
        assert_eq!(human_size_with_precision(999.0, 3), "999B");
        assert_eq!(human_size_with_precision(1000.0, 3), "1kB");
        assert_eq!(human_size_with_precision(999_500.0, 3), "1e+03kB");
        assert_eq!(human_size_with_precision(77_800_000.0, 3), "77.8MB");
        assert_eq!(human_size_with_precision(1_500_000_000.0, 3), "1.5GB");
        assert_eq!(human_size(1_234_567.0), "1.235MB");
        assert_eq!(human_size(12.0), "12B");
        assert_eq!(bytes_size(8_084_000_000.0), "7.529GiB");
    }

    #[test]
    fn g_format_matches_go() {
        assert_eq!(format_g(0.000012345, 3), "1.23e-05");
        assert_eq!(format_g(123456.0, 3), "1.23e+05");
        assert_eq!(format_g(12.5, 3), "12.5");
        assert_eq!(format_g(100.0, 4), "100");
        assert_eq!(format_g(0.5, 3), "0.5");
    }

    #[test]
    fn durations_match_go_units() {
        assert_eq!(human_duration(0.4), "Less than a second");
        assert_eq!(human_duration(1.0), "1 second");
        assert_eq!(human_duration(47.0), "47 seconds");
        assert_eq!(human_duration(60.0), "About a minute");
        assert_eq!(human_duration(119.0), "About a minute");
        assert_eq!(human_duration(120.0), "2 minutes");
        assert_eq!(human_duration(3599.0), "59 minutes");
        assert_eq!(human_duration(3600.0), "About an hour");
        assert_eq!(human_duration(5399.0), "About an hour");
        assert_eq!(human_duration(5400.0), "2 hours");
        assert_eq!(human_duration(47.0 * 3600.0), "47 hours");
        assert_eq!(human_duration(48.0 * 3600.0), "2 days");
        assert_eq!(human_duration(14.0 * 86400.0), "2 weeks");
        assert_eq!(human_duration(60.0 * 86400.0), "2 months");
        assert_eq!(human_duration(730.0 * 86400.0), "2 years");
    }

    #[test]
    fn ids_and_ellipsis() {
        assert_eq!(truncate_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(truncate_id("<missing>"), "<missing>");
        assert_eq!(ellipsis("/bin/sh -c echo hello world", 10), "/bin/sh -…");
        assert_eq!(ellipsis("short", 10), "short");
    }
}
