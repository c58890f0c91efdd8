//! The size of the terminal on a descriptor (`TIOCGWINSZ`), for the CLI's `-t` resize:
//! nix has no safe wrapper for it and the CLI may not use `unsafe`.

use std::os::fd::AsRawFd;

/// (rows, columns) of the terminal `fd` is, or `None` when it is not a terminal.
pub fn terminal_size(fd: &impl AsRawFd) -> Option<(u16, u16)> {
    let mut ws = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize through the pointer, which is a live, exclusively
    // borrowed local; a bad descriptor only makes the call fail.
    let rc = unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && (ws.ws_row > 0 || ws.ws_col > 0)).then_some((ws.ws_row, ws.ws_col))
}
