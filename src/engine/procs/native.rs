//! `ps -ef` from /proc, in procps' layout: UID (user name when the host knows it), PID, PPID,
//! C (CPU use in percent over the process's life, capped at 99), STIME (HH:MM today, MonDD
//! this year, else the year), TTY, TIME (cumulative CPU, [DD-]HH:MM:SS) and CMD (the
//! arguments, or `[comm]` for a kernel thread or a zombie).

use std::fs;
use std::io;

use chrono::{DateTime, Datelike, Local, TimeZone};
use nix::unistd::{sysconf, SysconfVar, Uid, User};

use crate::api::container_types::ContainerTop;

const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

/// The `-ef` listing of `pids` (those that vanished meanwhile are left out), by PID.
pub fn top_ef(pids: &[i32]) -> io::Result<ContainerTop> {
    let hz = sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&t| t > 0)
        .unwrap_or(100) as u64;
    let uptime = read_uptime()?;
    let boot = Local::now().timestamp() as f64 - uptime;
    let mut sorted = pids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut processes = Vec::new();
    for pid in sorted {
        match row(pid, hz, uptime, boot) {
            Ok(r) => processes.push(r),
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(nix::libc::ESRCH) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ContainerTop {
        titles: TITLES.iter().map(|t| (*t).to_string()).collect(),
        processes,
    })
}

fn read_uptime() -> io::Result<f64> {
    let text = fs::read_to_string("/proc/uptime")?;
    text.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad /proc/uptime"))
}

/// The fields of /proc/<pid>/stat this listing needs.
struct Stat {
    comm: String,
    ppid: i64,
    tty_nr: u64,
    utime: u64,
    stime: u64,
    start_ticks: u64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    // comm may hold spaces and parentheses: it ends at the last ')'.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field N is rest[N - 3].
    let field = |n: usize| rest.get(n - 3).and_then(|s| s.parse::<u64>().ok());
    Some(Stat {
        comm,
        ppid: rest.get(1)?.parse().ok()?,
        tty_nr: field(7)?,
        utime: field(14)?,
        stime: field(15)?,
        start_ticks: field(22)?,
    })
}

fn row(pid: i32, hz: u64, uptime: f64, boot: f64) -> io::Result<Vec<String>> {
    let dir = format!("/proc/{pid}");
    let stat_text = fs::read_to_string(format!("{dir}/stat"))?;
    let stat = parse_stat(&stat_text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad {dir}/stat")))?;
    let uid = read_uid(&dir)?;
    let cmdline = fs::read(format!("{dir}/cmdline"))?;

    let cpu_ticks = stat.utime + stat.stime;
    let start_secs = stat.start_ticks as f64 / hz as f64;
    let elapsed = uptime - start_secs;
    let c = if elapsed > 0.0 {
        ((cpu_ticks as f64 / hz as f64) * 100.0 / elapsed).min(99.0) as u64
    } else {
        0
    };
    let started = Local.timestamp_opt((boot + start_secs) as i64, 0).single();
    Ok(vec![
        user_name(uid),
        pid.to_string(),
        stat.ppid.to_string(),
        c.to_string(),
        started.map(format_stime).unwrap_or_else(|| "?".to_string()),
        tty_name(stat.tty_nr),
        format_cpu_time(cpu_ticks / hz),
        command(&cmdline, &stat.comm),
    ])
}

fn read_uid(dir: &str) -> io::Result<u32> {
    let status = fs::read_to_string(format!("{dir}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap_or(0))
}

fn user_name(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}

fn format_stime(t: DateTime<Local>) -> String {
    let now = Local::now();
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M").to_string()
    } else if t.year() == now.year() {
        t.format("%b%d").to_string()
    } else {
        t.format("%Y").to_string()
    }
}

/// procps' TIME column.
pub(super) fn format_cpu_time(secs: u64) -> String {
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}-{hms}")
    } else {
        hms
    }
}

/// procps' TTY column from `tty_nr`.
pub(super) fn tty_name(tty_nr: u64) -> String {
    if tty_nr == 0 {
        return "?".to_string();
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 0 => "tty".to_string(),
        5 if minor == 1 => "console".to_string(),
        _ => "?".to_string(),
    }
}

fn command(cmdline: &[u8], comm: &str) -> String {
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        format!("[{comm}]")
    } else {
        args.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_tests_own_process() {
        let me = std::process::id() as i32;
        let top = top_ef(&[me, i32::MAX]).unwrap();
        assert_eq!(top.titles, TITLES);
        assert_eq!(top.processes.len(), 1, "the vanished pid is left out");
        let row = &top.processes[0];
        assert_eq!(row[1], me.to_string());
        assert_eq!(row[2], nix::unistd::getppid().to_string());
        assert!(row[6].len() >= 8 && row[6].contains(':'), "{}", row[6]);
        let exe = std::env::args().next().unwrap();
        assert!(row[7].starts_with(&exe), "{} vs {exe}", row[7]);
        assert!(row[4].contains(':'), "started today: {}", row[4]);
    }

    #[test]
    fn formats_columns_like_procps() {
        assert_eq!(format_cpu_time(0), "00:00:00");
        assert_eq!(format_cpu_time(90061), "1-01:01:01");
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name((136 << 8) | 3), "pts/3");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(command(b"", "kthreadd"), "[kthreadd]");
        assert_eq!(command(b"sh\0-c\0echo hi\0", "sh"), "sh -c echo hi");
        let s = parse_stat("12 (a b) c) S 1 12 12 0 -1 4194560 1 0 0 0 7 3 0 0 20 0 1 0 555 0")
            .unwrap();
        assert_eq!(
            (s.comm.as_str(), s.ppid, s.utime, s.stime, s.start_ticks),
            ("a b) c", 1, 7, 3, 555)
        );
    }
}
