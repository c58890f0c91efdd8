//! Docker's seccomp profile format (`github.com/moby/profiles/seccomp` `types.go`): the
//! default profile embedded in the binary, and user profiles given with
//! `--security-opt seccomp=FILE`, parsed the same way.

use serde::Deserialize;

use super::SeccompError;

/// Docker's default profile, a verbatim copy of `seccomp/default.json` from moby/profiles
/// (Apache-2.0, the Moby project's contributors; see shared/reference/README.md).
const DEFAULT_JSON: &str = include_str!("default.json");

/// A whole profile as written in JSON.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// What a syscall no rule matches gets.
    pub default_action: Action,
    /// The errno of `defaultAction` when it is `SCMP_ACT_ERRNO` (EPERM when absent).
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// Older form of `archMap`: a flat list of architectures.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// Native architecture and the sub-architectures allowed alongside it.
    #[serde(default)]
    pub arch_map: Vec<ArchMapEntry>,
    /// The rules, in order.
    #[serde(default)]
    pub syscalls: Vec<SyscallRule>,
}

/// One `archMap` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ArchMapEntry {
    /// `SCMP_ARCH_X86_64` ...
    pub architecture: String,
    /// `SCMP_ARCH_X86`, `SCMP_ARCH_X32` ...; `null` in the file means none.
    #[serde(default)]
    pub sub_architectures: Option<Vec<String>>,
}

/// One entry of `syscalls`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyscallRule {
    /// Older single-name form.
    #[serde(default)]
    pub name: String,
    /// The syscalls this rule is for.
    #[serde(default)]
    pub names: Vec<String>,
    /// What they get when the conditions hold.
    pub action: Action,
    /// The errno for `SCMP_ACT_ERRNO` / the data for `SCMP_ACT_TRACE`.
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// Argument comparisons, all of which must hold (see `resolve` for the OR case).
    #[serde(default)]
    pub args: Option<Vec<ArgCondition>>,
    /// Conditions under which the rule applies at all.
    #[serde(default)]
    pub includes: Filter,
    /// Conditions under which the rule is left out.
    #[serde(default)]
    pub excludes: Filter,
}

/// `includes` / `excludes`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Go architecture names (`amd64`, `arm64` ...).
    #[serde(default)]
    pub arches: Option<Vec<String>>,
    /// Capability names (`CAP_SYS_ADMIN`).
    #[serde(default)]
    pub caps: Option<Vec<String>>,
    /// `major.minor` of the kernel.
    #[serde(default)]
    pub min_kernel: Option<String>,
}

/// One argument comparison (`value`, `valueTwo` as libseccomp's `datum_a`, `datum_b`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArgCondition {
    /// Argument number, 0..=5.
    pub index: u32,
    /// The value compared with, or the mask for `SCMP_CMP_MASKED_EQ`.
    pub value: u64,
    /// The value the masked argument must equal for `SCMP_CMP_MASKED_EQ`.
    #[serde(default)]
    pub value_two: u64,
    /// The comparison.
    pub op: CompareOp,
}

/// libseccomp's comparison operators.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum CompareOp {
    #[serde(rename = "SCMP_CMP_NE")]
    NotEqual,
    #[serde(rename = "SCMP_CMP_LT")]
    LessThan,
    #[serde(rename = "SCMP_CMP_LE")]
    LessOrEqual,
    #[serde(rename = "SCMP_CMP_EQ")]
    Equal,
    #[serde(rename = "SCMP_CMP_GE")]
    GreaterOrEqual,
    #[serde(rename = "SCMP_CMP_GT")]
    GreaterThan,
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEqual,
}

/// libseccomp's actions as the profile names them.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum Action {
    /// `SCMP_ACT_KILL` is libseccomp's old name for killing the thread.
    #[serde(rename = "SCMP_ACT_KILL", alias = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    /// Accepted in a profile but refused when compiling: berth has no notify agent.
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

impl Profile {
    /// Docker's default profile.
    pub fn docker_default() -> Result<Profile, SeccompError> {
        Profile::from_json(DEFAULT_JSON)
    }

    /// Parses a profile (the contents of a `--security-opt seccomp=FILE`), with Docker's
    /// checks on the fields that exclude each other.
    pub fn from_json(text: &str) -> Result<Profile, SeccompError> {
        let profile: Profile = serde_json::from_str(text)
            .map_err(|e| SeccompError::Decode(format!("Decoding seccomp profile failed: {e}")))?;
        if !profile.architectures.is_empty() && !profile.arch_map.is_empty() {
            return Err(SeccompError::Decode(
                "both 'architectures' and 'archMap' are specified in the seccomp profile, use \
                 either 'architectures' or 'archMap'"
                    .to_string(),
            ));
        }
        for rule in &profile.syscalls {
            if !rule.name.is_empty() && !rule.names.is_empty() {
                return Err(SeccompError::Decode(
                    "'name' and 'names' were specified in the seccomp profile, use either \
                     'name' or 'names'"
                        .to_string(),
                ));
            }
        }
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_parses() {
        let p = Profile::docker_default().unwrap();
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(p.default_errno_ret, Some(1));
        assert_eq!(p.arch_map[0].architecture, "SCMP_ARCH_X86_64");
        assert_eq!(
            p.arch_map[0].sub_architectures.as_deref(),
            Some(&["SCMP_ARCH_X86".to_string(), "SCMP_ARCH_X32".to_string()][..])
        );
        assert_eq!(p.syscalls.len(), 33);
        assert!(p.syscalls[0].names.iter().any(|n| n == "read"));
        let clone = p
            .syscalls
            .iter()
            .find(|r| r.names == ["clone"] && r.args.is_some())
            .unwrap();
        let arg = &clone.args.as_ref().unwrap()[0];
        assert_eq!(
            (arg.index, arg.value, arg.op),
            (0, 0x7E02_0000, CompareOp::MaskedEqual)
        );
        assert_eq!(
            clone.excludes.caps.as_deref(),
            Some(&["CAP_SYS_ADMIN".to_string()][..])
        );
    }

    #[test]
    fn bad_profiles_are_refused_with_dockers_words() {
        let err = Profile::from_json("{").unwrap_err().to_string();
        assert!(err.starts_with("Decoding seccomp profile failed:"), "{err}");
        let err = Profile::from_json(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#).unwrap_err();
        assert!(err.to_string().contains("SCMP_ACT_NOPE"), "{err}");
        let both = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
            "archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#;
        assert!(Profile::from_json(both)
            .unwrap_err()
            .to_string()
            .contains("use either 'architectures' or 'archMap'"));
        let names = r#"{"defaultAction":"SCMP_ACT_ALLOW",
            "syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ERRNO"}]}"#;
        assert!(Profile::from_json(names)
            .unwrap_err()
            .to_string()
            .contains("'name' and 'names'"));
    }

    #[test]
    fn minimal_user_profile_parses() {
        let p = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
                {"name":"kill","action":"SCMP_ACT_KILL","args":[
                    {"index":1,"value":9,"op":"SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls[0].errno_ret, Some(13));
        assert_eq!(p.syscalls[1].name, "kill");
        assert_eq!(p.syscalls[1].action, Action::KillThread);
    }
}
