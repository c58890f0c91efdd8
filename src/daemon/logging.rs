//! The daemon's structured logs: tracing events to stderr (which is `<root>/daemon.log` when
//! the CLI started the daemon), compact one-line format, `info` or `debug` level.
//!
//! `RUST_LOG` overrides the level for debugging one module.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) leaves the first in place.
pub fn init(debug: bool) {
    let level = if debug { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .compact()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
