//! The terminal side of `-t`: raw mode on our stdin for as long as a guard lives (restored
//! on every exit path, panics included), and the container's TTY kept at our size (once at
//! start, then on each SIGWINCH).

use std::io::IsTerminal;

use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

use super::container_path;
use crate::api::client::Client;

/// Our stdin in raw mode until dropped.
pub struct RawGuard {
    saved: Termios,
}

impl RawGuard {
    /// Raw mode on stdin when it is a terminal; `None` otherwise.
    pub fn enable() -> Option<RawGuard> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return None;
        }
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        // Output post-processing stays on, as the docker CLI's `term.MakeRaw` keeps it.
        raw.output_flags = saved.output_flags;
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawGuard { saved })
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

/// Our terminal's (rows, columns), from stdout or else stdin.
pub fn size() -> Option<(u16, u16)> {
    crate::engine::term::terminal_size(&std::io::stdout())
        .or_else(|| crate::engine::term::terminal_size(&std::io::stdin()))
}

/// `POST <resize_path>?h=&w=` with our size; `resize_path` is the container's or the
/// exec's `/resize`. Errors are ignored: the process may already be gone.
pub async fn resize(client: &Client, resize_path: &str) {
    let Some((h, w)) = size() else { return };
    let path = format!("{resize_path}?h={h}&w={w}");
    let _ = client
        .send_json::<serde_json::Value>("POST", &path, &[], None)
        .await;
}

/// Resizes now and on every SIGWINCH until the task is aborted.
pub fn spawn_resizer(client: Client, resize_path: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        resize(&client, &resize_path).await;
        let Ok(mut winch) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        else {
            return;
        };
        while winch.recv().await.is_some() {
            resize(&client, &resize_path).await;
        }
    })
}

/// The container's resize path.
pub fn container_resize_path(id: &str) -> String {
    format!("{}/resize", container_path(id))
}
