//! The container engine: namespaces, cgroups, rootfs and the shim that runs one container.
//!
//! - `spec`: a container-create request resolved against its image into a run spec.
//! - `cgroups`: v1 and v2 groups with Docker's resource semantics.
//! - `security`: capabilities and Docker's seccomp profile compiled to BPF.
//! - `runtime`: namespaces, the overlay root, mounts and the process of one container or
//!   exec, from an [`runtime::InitSpec`].
//! - `shim`: the per-container parent process and the daemon's client for it.
//! - `logs`: Docker's json-file log format, written by the shim, read by the daemon.
//! - `archive`: `docker cp`: stat, tar and confined extraction inside a container's root.
//! - `fsdiff`: `docker diff` of an overlay upper directory against the image's layers.
//! - `procs`: `docker top`: the container's processes, `ps -ef` from /proc or the host's `ps`.
//!
//! This is the only module allowed `unsafe` (the crate root denies it): creating namespaces,
//! pivoting the root and exec'ing the container process need raw system calls that neither std
//! nor nix wrap safely. Every `unsafe` block carries a `// SAFETY:` comment saying why it is
//! sound; prefer nix wherever it has a safe wrapper.
#![allow(unsafe_code)]

pub mod archive;
pub mod cgroups;
pub mod fsdiff;
pub mod logs;
pub mod mount_options;
pub mod procs;
pub mod runtime;
pub mod security;
pub mod shim;
pub mod spec;
pub mod term;
