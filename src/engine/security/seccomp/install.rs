//! Installing a compiled filter: on the calling thread, or in a child between fork and exec
//! through [`command_with_filter`].

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;

use nix::libc;

use super::bpf::{BpfProgram, Insn};

/// `SECCOMP_SET_MODE_FILTER` (linux/seccomp.h).
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// Sets `no_new_privs` on the calling thread: execve can no longer grant privileges (setuid
/// bits, file capabilities), and an unprivileged process may install a filter.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) takes plain integers and touches no
    // memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Installs `insns` as a seccomp filter on the calling thread. Without CAP_SYS_ADMIN the
/// thread must have `no_new_privs` set first (EACCES otherwise). Makes one system call and
/// allocates nothing, so it may run between fork and exec.
fn install_insns(insns: &[Insn]) -> io::Result<()> {
    let len = u16::try_from(insns.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        // The kernel only reads the program; the cast from const is what the C API wants.
        filter: insns.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `Insn` is repr(C) with the same fields, sizes and order as `struct
    // sock_filter`; `prog` points at `len` of them, borrowed for the whole call; the kernel
    // copies the program before returning and keeps no pointer to our memory.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            0 as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Installs `program` on the calling thread, setting `no_new_privs` first when asked.
pub fn install(program: &BpfProgram, no_new_privs: bool) -> io::Result<()> {
    if no_new_privs {
        set_no_new_privs()?;
    }
    install_insns(program.instructions())
}

/// Makes `cmd` install `program` in the child after fork, just before exec (and set
/// `no_new_privs` first when asked). The program is compiled before this call and shared
/// with the child by reference, so the child does no allocation.
pub fn command_with_filter(cmd: &mut Command, program: &BpfProgram, no_new_privs: bool) {
    let insns: Arc<[Insn]> = program.instructions().into();
    // SAFETY: the closure runs in the forked child, where only async-signal-safe work is
    // allowed. It reads the instruction slice allocated before fork (no allocation, no lock)
    // and makes only the prctl and seccomp system calls; errors are plain errno values that
    // std reports back to the parent.
    unsafe {
        cmd.pre_exec(move || {
            if no_new_privs {
                set_no_new_privs()?;
            }
            install_insns(&insns)
        });
    }
}
