//! `spawn_container`: the steps of a container's init between the second fork and exec,
//! in runc's order. Everything that can be computed before forking is (the confinement,
//! with its seccomp program).

use std::path::Path;

use nix::unistd::{chdir, sethostname, Pid};

use super::fork::{spawn_two, ErrorPipe};
use super::spec::{InitSpec, NamespaceKind};
use super::{
    cgroupfs, confine, dev, init, masks, mounts, namespaces, process, rootfs, RuntimeError, Stdio,
    Step,
};
use crate::engine::cgroups::Cgroup;
use crate::engine::security::Confinement;
use crate::engine::spec::user::resolve_user;

/// See [`super::spawn_container`].
pub(super) fn spawn(spec: &InitSpec, stdio: Stdio, cgroup: &Cgroup) -> Result<Pid, RuntimeError> {
    let confinement = confine::for_container(&spec.process, spec.privileged)?;
    spawn_two(
        || namespaces::enter(&spec.namespaces),
        move |err| run(spec, &confinement, stdio, err),
        cgroup,
    )
}

/// The container's init, in its namespaces and cgroup.
fn run(
    spec: &InitSpec,
    confinement: &Confinement,
    stdio: Stdio,
    err: &mut ErrorPipe,
) -> Result<i32, RuntimeError> {
    namespaces::enter_cgroup(&spec.namespaces)?;
    build_root(spec)?;
    let creates = |kind| namespaces::creates(&spec.namespaces, kind);
    if creates(NamespaceKind::Uts) {
        if !spec.hostname.is_empty() {
            sethostname(&spec.hostname).step("setting the hostname")?;
        }
        if !spec.domainname.is_empty() {
            set_domainname(&spec.domainname)?;
        }
    }
    if creates(NamespaceKind::Net) {
        process::loopback_up()?;
    }
    let p = &spec.process;
    let user = resolve_user(Path::new("/"), &p.user, &p.group_add).map_err(user_error)?;
    let env = process::with_home(&p.env, &user.home);
    let program = process::look_path(&p.args, &env)?;
    let argv = process::c_strings(&p.args)?;
    let envp = process::c_strings(&env)?;
    process::set_rlimits(&p.rlimits)?;
    process::install_stdio(stdio, true)?;
    let cwd = if p.cwd.is_empty() {
        "/"
    } else {
        p.cwd.as_str()
    };
    chdir(cwd).step(format!("changing to the working directory {cwd}"))?;
    confine::switch_and_confine(confinement, &user)?;
    if spec.init {
        return init::run(&program, &argv, &envp, err);
    }
    process::reset_signals();
    match process::exec(&program, &argv, &envp)? {}
}

/// Mounts, pivots and locks down the root filesystem.
fn build_root(spec: &InitSpec) -> Result<(), RuntimeError> {
    let root = &spec.rootfs.target;
    rootfs::make_private()?;
    rootfs::mount_root(&spec.rootfs)?;
    rootfs::mount_proc_sys(root, spec.privileged)?;
    cgroupfs::mount_cgroupfs(root, &spec.cgroup.name, spec.privileged)?;
    dev::mount_dev(root, spec)?;
    mounts::mount_all(root, &spec.mounts, &spec.copy_up)?;
    rootfs::pivot(root)?;
    process::make_cwd(&spec.process.cwd)?;
    process::write_sysctls(&spec.sysctls)?;
    masks::apply(&spec.masked_paths, &spec.readonly_paths)?;
    if spec.rootfs.read_only {
        rootfs::remount_readonly()?;
    }
    Ok(())
}

/// Docker's user errors are shown bare ("unable to find user x: no matching entries in
/// passwd file"): split at the first ": " so that `step: detail` reads the same.
pub(super) fn user_error(e: crate::engine::spec::SpecError) -> RuntimeError {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((step, detail)) => RuntimeError::new(step, detail),
        None => RuntimeError::new("resolving the user", text),
    }
}

/// setdomainname(2), which nix does not wrap.
fn set_domainname(name: &str) -> Result<(), RuntimeError> {
    // SAFETY: the pointer and length describe `name`'s bytes, which live for the call.
    let rc = unsafe { nix::libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if rc < 0 {
        return Err(RuntimeError::new(
            "setting the domain name",
            nix::errno::Errno::last(),
        ));
    }
    Ok(())
}
