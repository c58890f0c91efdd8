//! `spawn_exec`: a process in a running container (`docker exec`). The intermediate child
//! joins the init's namespaces (mount last, after every other namespace file is open), the
//! grandchild (in the PID namespace) joins the cgroup through the caller, then gets the
//! container's user (or the exec's), rlimits and confinement (or every capability and no
//! filter for `--privileged`), and execs.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::sched::setns;
use nix::unistd::{chdir, Pid};

use super::container::user_error;
use super::fork::{spawn_two, ErrorPipe};
use super::spec::{ExecSpec, InitSpec, NamespaceKind};
use super::{confine, namespaces, process, RuntimeError, Stdio, Step};
use crate::engine::cgroups::Cgroup;
use crate::engine::security::Confinement;
use crate::engine::spec::user::resolve_user;

/// The order of joining: the mount namespace last, since it changes what `/proc` is.
const JOIN_ORDER: [NamespaceKind; 6] = [
    NamespaceKind::Ipc,
    NamespaceKind::Uts,
    NamespaceKind::Net,
    NamespaceKind::Pid,
    NamespaceKind::Cgroup,
    NamespaceKind::Mount,
];

/// See [`super::spawn_exec`].
pub(super) fn spawn(
    container: &InitSpec,
    container_pid: Pid,
    exec: &ExecSpec,
    stdio: Stdio,
    cgroup: &Cgroup,
) -> Result<Pid, RuntimeError> {
    let confinement = if exec.privileged {
        confine::privileged_exec(&container.process)
    } else {
        confine::for_container(&container.process, container.privileged)?
    };
    spawn_two(
        || join_container(container_pid),
        move |err| run(container, exec, &confinement, stdio, err),
        cgroup,
    )
}

/// Joins every namespace of `pid` that differs from ours.
fn join_container(pid: Pid) -> Result<(), RuntimeError> {
    let mut files = Vec::new();
    for kind in JOIN_ORDER {
        let name = namespaces::proc_name(kind);
        let theirs = format!("/proc/{pid}/ns/{name}");
        let step = || format!("joining namespace {theirs}");
        let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).step(step())?;
        let meta = std::fs::metadata(&theirs).step(step())?;
        if meta.ino() == ours.ino() && meta.dev() == ours.dev() {
            continue;
        }
        files.push((kind, File::open(&theirs).step(step())?, theirs));
    }
    for (kind, file, path) in files {
        setns(file.as_fd(), namespaces::flag(kind)).step(format!("joining namespace {path}"))?;
    }
    Ok(())
}

/// The exec process, in the container's namespaces and cgroup.
fn run(
    container: &InitSpec,
    exec: &ExecSpec,
    confinement: &Confinement,
    stdio: Stdio,
    _err: &mut ErrorPipe,
) -> Result<i32, RuntimeError> {
    let p = &container.process;
    let user_spec = if exec.user.is_empty() {
        &p.user
    } else {
        &exec.user
    };
    let user = resolve_user(Path::new("/"), user_spec, &p.group_add).map_err(user_error)?;
    let env = process::with_home(&exec.env, &user.home);
    let program = process::look_path(&exec.args, &env)?;
    let argv = process::c_strings(&exec.args)?;
    let envp = process::c_strings(&env)?;
    process::set_rlimits(&p.rlimits)?;
    process::install_stdio(stdio, false)?;
    let cwd = [exec.cwd.as_str(), p.cwd.as_str(), "/"]
        .into_iter()
        .find(|c| !c.is_empty())
        .unwrap_or("/");
    chdir(cwd).step(format!("changing to the working directory {cwd}"))?;
    confine::switch_and_confine(confinement, &user)?;
    process::reset_signals();
    match process::exec(&program, &argv, &envp)? {}
}
