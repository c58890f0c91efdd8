//! `docker top`: the container's processes as `ps` shows them on the host. The default
//! `-ef` is produced natively from /proc in procps' format (UID PID PPID C STIME TTY TIME
//! CMD); other `ps_args` run the host's `ps` as dockerd does (first with `-q <pids>`, then
//! without) and keep the rows whose PID belongs to the container.

use std::process::Command;

use crate::api::container_types::ContainerTop;

mod native;

pub use native::top_ef;

/// Why `top` failed, in Docker's words.
#[derive(Debug, thiserror::Error)]
pub enum TopError {
    /// 400 in Docker (`specifying "k=v" is not allowed`, a bad PID column).
    #[error("{0}")]
    Invalid(String),
    /// 500: `ps` failed or its output made no sense.
    #[error("{0}")]
    Failed(String),
}

/// The processes `pids` (the container's, from its cgroup) listed with `ps_args` (empty
/// means `-ef`).
pub fn top(pids: &[i32], ps_args: &str) -> Result<ContainerTop, TopError> {
    if ps_args.is_empty() || ps_args == "-ef" {
        return top_ef(pids).map_err(|e| TopError::Failed(format!("ps: {e}")));
    }
    validate_args(ps_args)?;
    let args: Vec<&str> = ps_args.split(' ').collect();
    let list: Vec<String> = pids.iter().map(i32::to_string).collect();
    let mut with_pids = args.clone();
    let q = format!("-q{}", list.join(","));
    with_pids.push(&q);
    let output = match run_ps(&with_pids) {
        Ok(out) => out,
        // Some options (such as f) cannot go with q: retry without it, as dockerd does.
        Err(_) => run_ps(&args)?,
    };
    parse_ps_output(&output, pids)
}

fn run_ps(args: &[&str]) -> Result<String, TopError> {
    let out = Command::new("ps")
        .args(args)
        .output()
        .map_err(|e| TopError::Failed(format!("ps: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        let why = if first.is_empty() {
            out.status.to_string()
        } else {
            first.to_string()
        };
        return Err(TopError::Failed(format!("ps: {why}")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Docker refuses `k=PID…` output specifiers other than `pid=…` (they would rename the
/// PID column).
fn validate_args(ps_args: &str) -> Result<(), TopError> {
    let words: Vec<&str> = ps_args.split_ascii_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        if i == 0 && !ps_args.starts_with(char::is_whitespace) {
            continue;
        }
        let Some((k, v)) = word.split_once('=') else {
            continue;
        };
        let v = if v.is_empty() {
            words.get(i + 1).copied().unwrap_or("")
        } else {
            v
        };
        if v.starts_with("PID") && k != "pid" {
            return Err(TopError::Invalid(format!(
                "specifying \"{k}={v}\" is not allowed"
            )));
        }
    }
    Ok(())
}

/// dockerd's `parsePSOutput`: titles from the first line, rows whose PID is one of `pids`
/// (and the thread lines, PID `-`, that follow them), the columns after the last title
/// merged into it.
pub fn parse_ps_output(output: &str, pids: &[i32]) -> Result<ContainerTop, TopError> {
    let mut lines = output.split('\n');
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(String::from)
        .collect();
    let Some(pid_index) = titles.iter().position(|t| t == "PID") else {
        return Err(TopError::Failed(
            "Couldn't find PID field in ps output".to_string(),
        ));
    };
    let mut top = ContainerTop {
        titles,
        processes: Vec::new(),
    };
    let mut in_container = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(pid) = fields.get(pid_index) else {
            continue;
        };
        if *pid == "-" {
            if in_container {
                push_row(&mut top, &fields);
            }
            continue;
        }
        let pid: i32 = pid
            .parse()
            .map_err(|e| TopError::Failed(format!("Unexpected pid '{pid}': {e}")))?;
        in_container = pids.contains(&pid);
        if in_container {
            push_row(&mut top, &fields);
        }
    }
    Ok(top)
}

fn push_row(top: &mut ContainerTop, fields: &[&str]) {
    let last = top.titles.len().saturating_sub(1).min(fields.len());
    let mut row: Vec<String> = fields[..last].iter().map(|f| (*f).to_string()).collect();
    row.push(fields[last..].join(" "));
    top.processes.push(row);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ps_output_like_dockerd() {
        let out = "  PID TTY      STAT   TIME COMMAND\n    1 ?        Ss     0:00 sleep 100\n    - -        Ss     0:00 -\n    7 ?        S      0:00 other\n   42 pts/0    R+     0:00 sh -c x\n";
        let top = parse_ps_output(out, &[1, 42]).unwrap();
        assert_eq!(top.titles, ["PID", "TTY", "STAT", "TIME", "COMMAND"]);
        assert_eq!(top.processes.len(), 3);
        assert_eq!(top.processes[0], ["1", "?", "Ss", "0:00", "sleep 100"]);
        assert_eq!(top.processes[1][0], "-");
        assert_eq!(top.processes[2], ["42", "pts/0", "R+", "0:00", "sh -c x"]);
    }

    #[test]
    fn errors_in_dockers_words() {
        let err = parse_ps_output("USER COMMAND\nroot x\n", &[1]).unwrap_err();
        assert_eq!(err.to_string(), "Couldn't find PID field in ps output");
        let err = validate_args("-o pid,comm -o user=PID").unwrap_err();
        assert_eq!(err.to_string(), "specifying \"user=PID\" is not allowed");
        assert!(validate_args("-o pid=PID").is_ok());
    }

    #[test]
    fn runs_the_hosts_ps_for_other_arguments() {
        if Command::new("ps").arg("--version").output().is_err() {
            eprintln!("SKIPPED (no ps on this host)");
            return;
        }
        let me = std::process::id() as i32;
        let top = top(&[me], "-o pid,comm").unwrap();
        assert_eq!(top.titles, ["PID", "COMMAND"]);
        assert_eq!(top.processes.len(), 1);
        assert_eq!(top.processes[0][0], me.to_string());
    }
}
