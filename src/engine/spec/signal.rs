//! Signal names as Docker parses them (`--stop-signal`, `docker kill -s`): a number, or a
//! name with or without `SIG`, any case, including `RTMIN+n` and `RTMAX-n`.

use super::SpecError;

/// Linux signal numbers (the same on x86_64 and arm64), Docker's `SignalMap`.
const SIGNALS: [(&str, i32); 35] = [
    ("ABRT", 6),
    ("ALRM", 14),
    ("BUS", 7),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("FPE", 8),
    ("HUP", 1),
    ("ILL", 4),
    ("INT", 2),
    ("IO", 29),
    ("IOT", 6),
    ("KILL", 9),
    ("PIPE", 13),
    ("POLL", 29),
    ("PROF", 27),
    ("PWR", 30),
    ("QUIT", 3),
    ("SEGV", 11),
    ("STKFLT", 16),
    ("STOP", 19),
    ("SYS", 31),
    ("TERM", 15),
    ("TRAP", 5),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("UNUSED", 31),
    ("URG", 23),
    ("USR1", 10),
    ("USR2", 12),
    ("VTALRM", 26),
    ("WINCH", 28),
    ("XCPU", 24),
    ("XFSZ", 25),
];

const SIGRTMIN: i32 = 34;
const SIGRTMAX: i32 = 64;

/// Parses `9`, `KILL`, `SIGKILL`, `sigkill`, `RTMIN+3`; errors with Docker's
/// `Invalid signal: x`.
pub fn parse_signal(raw: &str) -> Result<i32, SpecError> {
    let invalid = || SpecError::invalid(format!("Invalid signal: {raw}"));
    if let Ok(n) = raw.parse::<i64>() {
        // Docker accepts any non-zero number here; the kernel refuses bad ones later.
        return match i32::try_from(n) {
            Ok(n) if n != 0 => Ok(n),
            _ => Err(invalid()),
        };
    }
    let upper = raw.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Ok(*n);
    }
    realtime(name).ok_or_else(invalid)
}

/// `RTMIN`, `RTMIN+1`..`RTMIN+15`, `RTMAX-14`..`RTMAX-1`, `RTMAX`, as Docker lists them.
fn realtime(name: &str) -> Option<i32> {
    if name == "RTMIN" {
        return Some(SIGRTMIN);
    }
    if name == "RTMAX" {
        return Some(SIGRTMAX);
    }
    if let Some(n) = name.strip_prefix("RTMIN+") {
        let n: i32 = digits(n)?;
        return (1..=15).contains(&n).then_some(SIGRTMIN + n);
    }
    let n: i32 = digits(name.strip_prefix("RTMAX-")?)?;
    (1..=14).contains(&n).then_some(SIGRTMAX - n)
}

fn digits(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_and_without_sig_in_any_case() {
        assert_eq!(parse_signal("SIGKILL"), Ok(9));
        assert_eq!(parse_signal("KILL"), Ok(9));
        assert_eq!(parse_signal("sigterm"), Ok(15));
        assert_eq!(parse_signal("Hup"), Ok(1));
        assert_eq!(parse_signal("SIGXFSZ"), Ok(25));
        assert_eq!(parse_signal("SIGWINCH"), Ok(28));
    }

    #[test]
    fn parses_numbers() {
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("15"), Ok(15));
    }

    #[test]
    fn parses_realtime_signals() {
        assert_eq!(parse_signal("RTMIN"), Ok(34));
        assert_eq!(parse_signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(parse_signal("RTMAX-1"), Ok(63));
        assert_eq!(parse_signal("RTMAX"), Ok(64));
        assert!(parse_signal("RTMIN+16").is_err());
        assert!(parse_signal("RTMAX-15").is_err());
    }

    #[test]
    fn refuses_zero_and_unknown_names_with_dockers_text() {
        assert_eq!(
            parse_signal("0"),
            Err(SpecError::invalid("Invalid signal: 0"))
        );
        assert_eq!(
            parse_signal("SIGFOO"),
            Err(SpecError::invalid("Invalid signal: SIGFOO"))
        );
        assert_eq!(
            parse_signal(""),
            Err(SpecError::invalid("Invalid signal: "))
        );
    }
}
