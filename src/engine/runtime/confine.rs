//! The [`Confinement`] of a container or exec process, computed before any fork: Docker's
//! capabilities with `--cap-add`/`--cap-drop`/`--privileged`, the seccomp filter (the
//! default profile, `seccomp=unconfined`, or a profile sent inline as Docker's CLI does)
//! and `no-new-privileges`.

use crate::engine::security::caps::{self, CapSet};
use crate::engine::security::seccomp::{self, Profile};
use crate::engine::security::Confinement;
use crate::engine::spec::user::ResolvedUser;

use super::spec::ProcessSpec;
use super::{process, RuntimeError, Step};

/// What `--security-opt` asks for.
#[derive(Debug, Default, PartialEq)]
struct SecurityOpts<'a> {
    no_new_privs: bool,
    unconfined: bool,
    /// An inline profile (`seccomp=<JSON>`).
    profile: Option<&'a str>,
}

/// Reads the options berth handles; the others (apparmor, label) are ignored.
fn parse(opts: &[String]) -> SecurityOpts<'_> {
    let mut out = SecurityOpts::default();
    for opt in opts {
        // Docker accepts both `key=value` and the old `key:value`.
        let (key, value) = opt.split_once(['=', ':']).unwrap_or((opt.as_str(), ""));
        match key {
            "no-new-privileges" => out.no_new_privs = value.is_empty() || value == "true",
            "seccomp" if value == "unconfined" => out.unconfined = true,
            "seccomp" => out.profile = Some(value),
            _ => {}
        }
    }
    out
}

/// The confinement of a container's process.
pub(super) fn for_container(
    process: &ProcessSpec,
    privileged: bool,
) -> Result<Confinement, RuntimeError> {
    let last_cap = caps::kernel_last_cap();
    let set = caps::tweak(
        CapSet::docker_default(),
        &process.cap_add,
        &process.cap_drop,
        privileged,
        last_cap,
    )
    .step("setting capabilities")?;
    let set = if privileged { within_ours(set) } else { set };
    let opts = parse(&process.security_opt);
    let seccomp = if privileged || opts.unconfined {
        None
    } else {
        let step = "loading seccomp profile";
        let profile = match opts.profile {
            Some(json) => Profile::from_json(json).step(step)?,
            None => Profile::docker_default().step(step)?,
        };
        Some(seccomp::program_for(&profile, set).step(step)?)
    };
    Ok(Confinement {
        caps: Some(set),
        last_cap,
        no_new_privs: opts.no_new_privs,
        seccomp,
    })
}

/// Switches to `user` and confines the process, in runc's order. Without
/// `no-new-privileges` the filter goes in first, while the process still holds
/// CAP_SYS_ADMIN, so `no_new_privs` stays off as in Docker (the default profile allows the
/// setgroups, setuid, capset and execve calls that follow). With it, `no_new_privs` is set
/// first and the filter installed last, right before exec.
pub(super) fn switch_and_confine(
    confinement: &Confinement,
    user: &ResolvedUser,
) -> Result<(), RuntimeError> {
    let step = "applying capabilities and seccomp";
    if confinement.no_new_privs {
        seccomp::set_no_new_privs().step(step)?;
    }
    let mut filter = confinement.seccomp.as_ref();
    if let (Some(program), false) = (filter, confinement.no_new_privs) {
        if seccomp::install(program, false).is_err() {
            // Without CAP_SYS_ADMIN here (a restricted host), the kernel wants
            // `no_new_privs`, as runc's fallback does.
            seccomp::install(program, true).step(step)?;
        }
        filter = None;
    }
    process::switch_user(user)?;
    if let Some(set) = &confinement.caps {
        set.apply_to_current_thread(confinement.last_cap)
            .step(step)?;
    }
    if let Some(program) = filter {
        seccomp::install(program, false).step(step)?;
    }
    Ok(())
}

/// `docker exec --privileged`: every capability, no filter, but the container's
/// `no-new-privileges`.
pub(super) fn privileged_exec(process: &ProcessSpec) -> Confinement {
    let last_cap = caps::kernel_last_cap();
    Confinement {
        caps: Some(within_ours(CapSet::all_up_to(last_cap))),
        last_cap,
        no_new_privs: parse(&process.security_opt).no_new_privs,
        seccomp: None,
    }
}

/// `set` without the capabilities this process does not hold itself: `--privileged` means
/// everything we have (a nested or restricted host lacks some, and asking for them fails).
fn within_ours(set: CapSet) -> CapSet {
    let ours = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapPrm:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        });
    match ours {
        Some(bits) => CapSet(set.0 & bits),
        None => set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_opts_in_both_spellings() {
        let opts = [
            "no-new-privileges".to_string(),
            "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}".to_string(),
            "apparmor=unconfined".to_string(),
        ];
        let parsed = parse(&opts);
        assert!(parsed.no_new_privs);
        assert_eq!(
            parsed.profile,
            Some("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}")
        );
        let opts = [
            "seccomp:unconfined".to_string(),
            "no-new-privileges=false".to_string(),
        ];
        let parsed = parse(&opts);
        assert!(parsed.unconfined && !parsed.no_new_privs);
    }

    #[test]
    fn privileged_gets_no_filter() {
        let c = for_container(&ProcessSpec::default(), true).unwrap();
        assert!(c.seccomp.is_none());
        let c = for_container(&ProcessSpec::default(), false).unwrap();
        assert_eq!(c.caps, Some(CapSet::docker_default()));
    }
}
