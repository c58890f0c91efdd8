//! Docker's human-readable status (`Up 5 seconds`, `Exited (0) 3 seconds ago`, `Created`)
//! and go-units' `HumanDuration`, from which it is made.

use std::time::Duration;

use super::store::{State, Status, ZERO_TIME};

/// go-units' `HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", seconds / 3600 / 24 / 365)
    }
}

/// Docker's `State.String()` at `now`.
pub fn status_text(state: &State, now: chrono::DateTime<chrono::Utc>) -> String {
    let since = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .and_then(|t| (now - t.with_timezone(&chrono::Utc)).to_std().ok())
            .unwrap_or_default()
    };
    match state.status {
        Status::Paused => format!("Up {} (Paused)", human_duration(since(&state.started_at))),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            human_duration(since(&state.finished_at))
        ),
        Status::Running => format!("Up {}", human_duration(since(&state.started_at))),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created | Status::Exited => {
            if state.started_at == ZERO_TIME {
                "Created".into()
            } else if state.finished_at == ZERO_TIME {
                String::new()
            } else {
                format!(
                    "Exited ({}) {} ago",
                    state.exit_code,
                    human_duration(since(&state.finished_at))
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go_units() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(90)), "About a minute");
        assert_eq!(human_duration(s(45 * 60)), "45 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5 * 3600)), "5 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(21 * 86400)), "3 weeks");
        assert_eq!(human_duration(s(90 * 86400)), "3 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
    }

    #[test]
    fn statuses_read_like_docker_ps() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:01:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut st = State::default();
        assert_eq!(status_text(&st, now), "Created");
        st.status = Status::Running;
        st.started_at = "2024-01-01T00:00:55Z".into();
        assert_eq!(status_text(&st, now), "Up 5 seconds");
        st.status = Status::Paused;
        assert_eq!(status_text(&st, now), "Up 5 seconds (Paused)");
        st.status = Status::Exited;
        st.exit_code = 137;
        st.finished_at = "2024-01-01T00:00:57Z".into();
        assert_eq!(status_text(&st, now), "Exited (137) 3 seconds ago");
        st.status = Status::Restarting;
        assert_eq!(status_text(&st, now), "Restarting (137) 3 seconds ago");
    }
}
