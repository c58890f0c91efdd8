//! `--user` and `--group-add` against the image's `/etc/passwd` and `/etc/group`, with
//! runc's rules (`GetExecUser`, `GetAdditionalGroups`) and error texts.
//!
//! Called at start, once the rootfs is mounted. Missing files are tolerated: numeric ids
//! still work, names fail with `unable to find user x: no matching entries in passwd file`.
//! Paths are joined lexically under the rootfs; the caller passes a rootfs that it has made
//! safe to read (symlinks in the image are its business, not this parser's).

use std::path::Path;

use super::SpecError;

/// The identity the container process runs as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups as moby's `getUser` builds them: the primary gid, the user's
    /// memberships (only when no group was given explicitly), then `--group-add` (without
    /// duplicates among themselves, as runc's `GetAdditionalGroups`).
    pub additional_gids: Vec<u32>,
    /// From passwd, `/` when unknown; becomes `HOME` unless the env sets it.
    pub home: String,
}

/// One `/etc/passwd` line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

/// One `/etc/group` line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

const MAX_ID: i64 = 2_147_483_647;
const RANGE_ERROR: &str = "uids and gids must be in range 0-2147483647";

/// Reads `<rootfs>/etc/passwd` and `<rootfs>/etc/group` and resolves `user` and
/// `group_add` against them.
pub fn resolve_user(
    rootfs: &Path,
    user: &str,
    group_add: &[String],
) -> Result<ResolvedUser, SpecError> {
    let passwd = read_optional(&rootfs.join("etc/passwd"))?;
    let group = read_optional(&rootfs.join("etc/group"))?;
    resolve_user_from(user, group_add, passwd.as_deref(), group.as_deref())
}

/// The same from file contents; `None` is a missing file.
pub fn resolve_user_from(
    user: &str,
    group_add: &[String],
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<ResolvedUser, SpecError> {
    let users = passwd.map(parse_passwd).unwrap_or_default();
    let groups = group.map(parse_groups).unwrap_or_default();
    let mut resolved = exec_user(user, &users, &groups)?;
    resolved.additional_gids.insert(0, resolved.gid);
    let mut added: Vec<u32> = Vec::new();
    for extra in group_add {
        let gid = match groups.iter().find(|g| g.name == *extra) {
            Some(g) => g.gid,
            None => {
                let gid: i64 = extra.parse().map_err(|_| {
                    SpecError::User(format!(
                        "Unable to find group {extra}: no matching entries in group file"
                    ))
                })?;
                to_id(gid)?
            }
        };
        if !added.contains(&gid) {
            added.push(gid);
        }
    }
    resolved.additional_gids.extend(added);
    Ok(resolved)
}

/// runc's `GetExecUser` with root (uid 0, gid 0, home `/`) as the default.
fn exec_user(
    spec: &str,
    users: &[PasswdEntry],
    groups: &[GroupEntry],
) -> Result<ResolvedUser, SpecError> {
    let (user_arg, group_arg) = spec.split_once(':').unwrap_or((spec, ""));
    let uid_arg = user_arg.parse::<i64>().ok();
    let gid_arg = group_arg.parse::<i64>().ok();
    let mut out = ResolvedUser {
        home: "/".into(),
        ..ResolvedUser::default()
    };

    let matched = users.iter().find(|u| match (user_arg, uid_arg) {
        ("", _) => u.uid == 0,
        // A numeric argument is always a uid, even if a user has that name.
        (_, Some(uid)) => i64::from(u.uid) == uid,
        (name, None) => u.name == name,
    });
    match (matched, uid_arg) {
        (Some(u), _) => {
            out.uid = u.uid;
            out.gid = u.gid;
            out.home = u.home.clone();
        }
        (None, _) if user_arg.is_empty() => {}
        (None, Some(uid)) => out.uid = to_id(uid)?,
        (None, None) => {
            return Err(SpecError::User(format!(
                "unable to find user {user_arg}: no matching entries in passwd file"
            )))
        }
    }

    if !group_arg.is_empty() {
        let found = groups.iter().find(|g| match gid_arg {
            Some(gid) => i64::from(g.gid) == gid,
            None => g.name == group_arg,
        });
        out.gid = match (found, gid_arg) {
            (Some(g), _) => g.gid,
            (None, Some(gid)) => to_id(gid)?,
            (None, None) => {
                return Err(SpecError::User(format!(
                    "unable to find group {group_arg}: no matching entries in group file"
                )))
            }
        };
    } else if let Some(u) = matched {
        // Supplementary groups only in the implicit form, as runc does.
        out.additional_gids = groups
            .iter()
            .filter(|g| g.members.contains(&u.name))
            .map(|g| g.gid)
            .collect();
    }
    Ok(out)
}

fn to_id(n: i64) -> Result<u32, SpecError> {
    if (0..=MAX_ID).contains(&n) {
        // In range by the check above.
        Ok(n as u32)
    } else {
        Err(SpecError::User(RANGE_ERROR.into()))
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, SpecError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SpecError::Read {
            path: path.display().to_string(),
            detail: e.to_string(),
        }),
    }
}

/// `name:password:uid:gid:gecos:home:shell`; unparsable numbers read as 0 like runc.
fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or_default();
            PasswdEntry {
                name: field(0).to_string(),
                uid: field(2).parse().unwrap_or(0),
                gid: field(3).parse().unwrap_or(0),
                home: field(5).to_string(),
            }
        })
        .collect()
}

/// `name:password:gid:member,member`.
fn parse_groups(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or_default();
            GroupEntry {
                name: field(0).to_string(),
                gid: field(2).parse().unwrap_or(0),
                members: field(3)
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect(),
            }
        })
        .collect()
}

/// `env` with `HOME=<home>` appended when no entry sets `HOME` (runc does this at exec).
pub fn with_home(mut env: Vec<String>, home: &str) -> Vec<String> {
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={home}"));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        app:x:1000:1000:App:/home/app:/bin/sh\n\
        \n\
        1234:x:42:42::/home/numeric:/bin/sh\n";
    const GROUP: &str = "root:x:0:\n\
        app:x:1000:\n\
        audio:x:29:app,other\n\
        video:x:44:app\n\
        staff:x:50:other\n";

    fn resolve(user: &str, add: &[&str]) -> Result<ResolvedUser, String> {
        let add: Vec<String> = add.iter().map(|s| s.to_string()).collect();
        resolve_user_from(user, &add, Some(PASSWD), Some(GROUP)).map_err(|e| e.to_string())
    }

    fn user(uid: u32, gid: u32, groups: &[u32], home: &str) -> Result<ResolvedUser, String> {
        Ok(ResolvedUser {
            uid,
            gid,
            additional_gids: groups.to_vec(),
            home: home.into(),
        })
    }

    #[test]
    fn empty_user_is_root_with_roots_home() {
        assert_eq!(resolve("", &[]), user(0, 0, &[0], "/root"));
    }

    #[test]
    fn a_name_gets_its_ids_home_and_memberships() {
        assert_eq!(
            resolve("app", &[]),
            user(1000, 1000, &[1000, 29, 44], "/home/app")
        );
    }

    #[test]
    fn a_number_is_always_a_uid() {
        assert_eq!(
            resolve("1000", &[]),
            user(1000, 1000, &[1000, 29, 44], "/home/app")
        );
        // A user named `1234` is not matched by the number 1234.
        assert_eq!(resolve("1234", &[]), user(1234, 0, &[0], "/"));
    }

    #[test]
    fn an_explicit_group_replaces_the_gid_and_drops_memberships() {
        assert_eq!(
            resolve("app:staff", &[]),
            user(1000, 50, &[50], "/home/app")
        );
        assert_eq!(resolve("app:44", &[]), user(1000, 44, &[44], "/home/app"));
        assert_eq!(resolve("5000:6000", &[]), user(5000, 6000, &[6000], "/"));
    }

    #[test]
    fn unknown_names_are_runcs_errors() {
        assert_eq!(
            resolve("nobody", &[]),
            Err("unable to find user nobody: no matching entries in passwd file".into())
        );
        assert_eq!(
            resolve("app:nogroup", &[]),
            Err("unable to find group nogroup: no matching entries in group file".into())
        );
        assert_eq!(
            resolve("", &["nogroup"]),
            Err("Unable to find group nogroup: no matching entries in group file".into())
        );
    }

    #[test]
    fn out_of_range_ids_are_refused() {
        assert_eq!(resolve("4294967296", &[]), Err(RANGE_ERROR.into()));
        assert_eq!(resolve("0:-1", &[]), Err(RANGE_ERROR.into()));
    }

    #[test]
    fn group_add_follows_the_primary_gid_and_memberships_like_moby() {
        assert_eq!(
            resolve("app", &["audio", "staff", "777", "staff"]),
            user(1000, 1000, &[1000, 29, 44, 29, 50, 777], "/home/app")
        );
    }

    #[test]
    fn missing_files_allow_numbers_and_refuse_names() {
        assert_eq!(
            resolve_user_from("5:6", &["7".into()], None, None),
            Ok(ResolvedUser {
                uid: 5,
                gid: 6,
                additional_gids: vec![6, 7],
                home: "/".into()
            })
        );
        assert_eq!(
            resolve_user_from("app", &[], None, None).map_err(|e| e.to_string()),
            Err("unable to find user app: no matching entries in passwd file".into())
        );
    }

    #[test]
    fn reads_the_files_under_a_rootfs_and_tolerates_their_absence() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(resolve_user(dir.path(), "0", &[]).map(|u| u.uid), Ok(0));
        std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
        std::fs::write(dir.path().join("etc/passwd"), PASSWD).expect("write");
        std::fs::write(dir.path().join("etc/group"), GROUP).expect("write");
        assert_eq!(
            resolve_user(dir.path(), "app", &["staff".into()]).map_err(|e| e.to_string()),
            user(1000, 1000, &[1000, 29, 44, 50], "/home/app")
        );
    }

    #[test]
    fn home_is_added_only_when_unset() {
        assert_eq!(
            with_home(vec!["A=1".into()], "/root"),
            vec!["A=1", "HOME=/root"]
        );
        assert_eq!(with_home(vec!["HOME=/x".into()], "/root"), vec!["HOME=/x"]);
    }
}
