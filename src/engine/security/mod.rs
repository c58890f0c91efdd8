//! Container security: capabilities and seccomp, computed the way Docker computes them and
//! applied to a process.
//!
//! - [`caps`]: [`caps::CapSet`] (a bit mask), Docker's default 14, `--cap-add`/`--cap-drop`/
//!   `--privileged` via [`caps::tweak`], and [`caps::CapSet::apply_to_current_thread`].
//! - [`seccomp`]: Docker's profile format and default profile, resolution for a container's
//!   capabilities, architecture and kernel, compilation to classic BPF, installation.
//! - [`Confinement`]: both together, applied in the right order (capabilities, then
//!   `no_new_privs`, then the filter) to the calling thread or to a child [`Command`]
//!   between fork and exec.
//!
//! Not here yet: masked and read-only paths, user/group switching, rlimits; nothing is wired
//! into the container init or the daemon yet.

pub mod caps;
pub mod seccomp;

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use caps::CapSet;
use seccomp::BpfProgram;

/// What to restrict a process to, prepared in full before any fork.
#[derive(Debug, Clone)]
pub struct Confinement {
    /// The capabilities to keep (`None` leaves them as they are, and counts as still holding
    /// CAP_SYS_ADMIN when deciding whether the filter needs `no_new_privs`).
    pub caps: Option<CapSet>,
    /// The kernel's highest capability number ([`caps::kernel_last_cap`]).
    pub last_cap: u32,
    /// Set `no_new_privs` (`--security-opt no-new-privileges`).
    pub no_new_privs: bool,
    /// The seccomp filter (`None` for `seccomp=unconfined`).
    pub seccomp: Option<BpfProgram>,
}

impl Confinement {
    /// Applies everything to the calling thread. Makes only system calls and allocates
    /// nothing, so it may run between fork and exec. Capabilities go first, while the
    /// thread still holds CAP_SETPCAP; without CAP_SYS_ADMIN left, a filter needs
    /// `no_new_privs`, which is then set even if not asked for (runc does the same).
    pub fn apply_to_current_thread(&self) -> io::Result<()> {
        if let Some(set) = &self.caps {
            set.apply_to_current_thread(self.last_cap)?;
        }
        let keeps_admin = self.caps.is_none_or(|c| c.contains(21));
        if self.no_new_privs || (self.seccomp.is_some() && !keeps_admin) {
            seccomp::set_no_new_privs()?;
        }
        if let Some(program) = &self.seccomp {
            seccomp::install(program, false)?;
        }
        Ok(())
    }

    /// Makes `cmd` apply this confinement in the child, just before exec.
    pub fn apply_to_command(self, cmd: &mut Command) {
        // SAFETY: the closure runs in the forked child, where only async-signal-safe work is
        // allowed: `apply_to_current_thread` reads data prepared before fork and makes only
        // prctl, capset and seccomp system calls, allocating nothing and taking no lock.
        unsafe {
            cmd.pre_exec(move || self.apply_to_current_thread());
        }
    }
}
