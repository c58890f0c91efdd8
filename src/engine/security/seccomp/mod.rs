//! Seccomp: Docker's profile format (with the default profile embedded), resolution of its
//! capability, architecture and kernel conditions, compilation to classic BPF without
//! libseccomp, and installation.
//!
//! ```text
//! Profile::docker_default() / Profile::from_json(file)   profile.rs
//!   -> resolve(&profile, &Target { caps, arch, kernel })  resolve.rs
//!   -> compile(&resolved) -> BpfProgram                   bpf.rs
//!   -> install(&program, no_new_privs) | command_with_filter(cmd, ...)   install.rs
//! ```
//! [`program_for`] does the first three steps; `--security-opt seccomp=unconfined` means no
//! program at all (the caller simply installs none).
//!
//! Not done yet: the sub-architectures of the profile's `archMap` (i386 and x32 on x86_64,
//! arm on aarch64) are not given their own rules: their syscalls get the bad-arch action
//! (kill), so 32-bit binaries do not run in a container; `SCMP_ACT_NOTIFY` is refused; only
//! x86_64 and aarch64 have syscall tables.

pub mod bpf;
pub mod install;
pub mod profile;
pub mod resolve;
mod syscalls_aarch64;
mod syscalls_x86_64;
#[cfg(test)]
mod tests;

pub use bpf::{compile, BpfProgram, Insn};
pub use install::{command_with_filter, install, set_no_new_privs};
pub use profile::Profile;
pub use resolve::{resolve, KernelVersion, Target};

/// Why a profile could not be turned into a filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeccompError {
    /// The profile is not valid JSON of the right shape (Docker's wording inside).
    #[error("{0}")]
    Decode(String),
    /// The kernel version (running or `minKernel`) could not be read.
    #[error("{0}")]
    Kernel(String),
    /// A feature berth does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// The program does not fit the kernel's or classic BPF's limits.
    #[error("seccomp filter too large (at instruction {0})")]
    TooLarge(usize),
    /// The host's architecture has no syscall table here.
    #[error("seccomp is not supported on this architecture")]
    UnsupportedArch,
}

/// An architecture a filter can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86_64 (`SCMP_ARCH_X86_64`, Go's `amd64`).
    X86_64,
    /// aarch64 (`SCMP_ARCH_AARCH64`, Go's `arm64`).
    Aarch64,
}

impl Arch {
    /// The architecture this binary runs on, if it has a syscall table.
    pub fn host() -> Result<Arch, SeccompError> {
        if cfg!(target_arch = "x86_64") {
            Ok(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Ok(Arch::Aarch64)
        } else {
            Err(SeccompError::UnsupportedArch)
        }
    }

    /// Go's `runtime.GOARCH`, which the profile's `includes.arches` are compared with.
    pub fn go_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    /// The `AUDIT_ARCH_*` value in `seccomp_data.arch`.
    pub fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 => 0xC000_003E,
            Arch::Aarch64 => 0xC000_00B7,
        }
    }

    /// Whether x32 syscalls arrive with this architecture's `AUDIT_ARCH` (and must be told
    /// apart by their number).
    pub fn has_x32(self) -> bool {
        self == Arch::X86_64
    }

    /// The number of a syscall on this architecture; `None` for one it does not have.
    pub fn syscall_number(self, name: &str) -> Option<u32> {
        let table = match self {
            Arch::X86_64 => syscalls_x86_64::SYSCALLS,
            Arch::Aarch64 => syscalls_aarch64::SYSCALLS,
        };
        table
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| table[i].1)
    }
}

/// Resolves and compiles `profile` for a container with bounding capabilities `caps`, on
/// this host's architecture and running kernel.
pub fn program_for(
    profile: &Profile,
    caps: crate::engine::security::caps::CapSet,
) -> Result<BpfProgram, SeccompError> {
    let target = Target {
        caps,
        arch: Arch::host()?,
        kernel: KernelVersion::running()?,
    };
    compile(&resolve(profile, &target)?)
}
