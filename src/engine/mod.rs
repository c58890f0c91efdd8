//! The container engine: namespaces, cgroups, rootfs and the shim that runs one container.
//!
//! Built so far (step 3 has started; nothing here is wired into the daemon yet): `spec`
//! (a container-create request resolved against its image into a run spec), `cgroups` (v1
//! and v2 groups with Docker's resource semantics) and `security` (capabilities and Docker's
//! seccomp profile compiled to BPF). Namespaces, the root filesystem, the shim and the
//! container API come next.
//!
//! This is the only module allowed `unsafe` (the crate root denies it): creating namespaces,
//! pivoting the root and exec'ing the container process need raw system calls that neither std
//! nor nix wrap safely. Every `unsafe` block carries a `// SAFETY:` comment saying why it is
//! sound; prefer nix wherever it has a safe wrapper.
#![allow(unsafe_code)]

pub mod cgroups;
pub mod security;
pub mod spec;
