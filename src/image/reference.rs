//! Image references normalised like Docker's: `busybox` is `docker.io/library/busybox:latest`.
//!
//! Grammar and errors follow distribution/reference
//! (`ParseNormalizedNamed`, `TagNameOnly`, `FamiliarName`, `FamiliarString`), written as a small
//! hand parser instead of its regular expressions. Pure: no I/O. Only `sha256` digests are
//! accepted, because that is all the store can hold.
//!
//! ```text
//! reference := name [ ":" tag ] [ "@" digest ]
//! name      := [domain "/"] path-component ["/" path-component]*
//! domain    := (domain-name | "[" ipv6 "]") [":" port]
//! path-component := [a-z0-9]+ ((["._"] | "__" | "-"+) [a-z0-9]+)*
//! tag       := [\w][\w.-]{0,127}
//! ```

use std::fmt;
use std::str::FromStr;

use super::digest::Digest;

/// Docker Hub, the domain of names that do not start with one.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub, rewritten to `docker.io`.
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`busybox` is `library/busybox`).
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag `TagNameOnly` adds.
pub const DEFAULT_TAG: &str = "latest";
/// Longest name (domain and path), as distribution's `NameTotalLengthMax`.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest tag.
const TAG_LENGTH_MAX: usize = 128;

/// A parsed, normalised reference: `domain/path[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `docker.io`, `127.0.0.1:5000`, `localhost`, ...
    pub domain: String,
    /// `library/busybox`, `org/app`
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a string is not a valid reference; the message is Docker's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    /// The repository part (`library/Busybox`, `Org/app`) has capitals.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// Capitals somewhere the grammar has no other reading for.
    #[error("invalid reference format: repository name must be lowercase")]
    NameContainsUppercase,
    #[error("repository name must have at least one component")]
    Empty,
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// A bare 64-hex string, which Docker reserves for image IDs.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    #[error("invalid tag format")]
    InvalidTag,
    /// The digest part is malformed (go-digest's wording: `invalid checksum digest length`,
    /// `invalid checksum digest format`, `unsupported digest algorithm`).
    #[error("{0}")]
    InvalidDigest(&'static str),
}

impl Reference {
    /// Parses and normalises like `ParseNormalizedNamed` (no default tag added).
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        if is_hex64(s) {
            return Err(ReferenceError::HexName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::Uppercase(remote_name.to_string()));
        }
        parse_full(&format!("{domain}/{remainder}"))
    }

    /// The same reference with `latest` when it has neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(self) -> Reference {
        if self.is_name_only() {
            Reference {
                tag: Some(DEFAULT_TAG.to_string()),
                ..self
            }
        } else {
            self
        }
    }

    /// Neither tag nor digest (`IsNameOnly`).
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The name with `tag` (validated) and no digest, as `WithTag(TrimNamed(r), tag)`.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::InvalidTag);
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.trimmed()
        })
    }

    /// The name with `digest` and no tag (`WithDigest(TrimNamed(r), d)`).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.trimmed()
        }
    }

    /// The name alone, without tag or digest (`TrimNamed`).
    pub fn trimmed(&self) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }

    /// `docker.io/library/busybox` (no tag or digest).
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// `busybox`, `org/app`, `127.0.0.1:5000/app`: the name as Docker shows it.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            // `library/a/b` keeps its prefix: only one-component official names are shortened.
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// `busybox:latest`, `busybox@sha256:...`: the whole reference as Docker shows it.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest.as_str());
        }
    }
}

impl fmt::Display for Reference {
    /// The full normalised form, `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse_normalized(s)
    }
}

impl serde::Serialize for Reference {
    /// The full form, so that a stored reference reads back unchanged.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse_normalized(&s).map_err(serde::de::Error::custom)
    }
}

/// True for a valid tag, `[\w][\w.-]{0,127}`.
pub fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let first_ok = bytes.next().is_some_and(is_word);
    first_ok && tag.len() <= TAG_LENGTH_MAX && bytes.all(|b| is_word(b) || b == b'.' || b == b'-')
}

/// True for exactly 64 lowercase hex digits: an image ID without its `sha256:`.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Docker's `splitDockerDomain`: the first component is a domain only when it looks like
/// one (a dot, a port, `localhost`, or capitals, which a path may not have).
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest)) if looks_like_domain(first) => (first.to_string(), rest.to_string()),
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first
}

/// distribution's `Parse` on `domain/path[:tag][@digest]`, where the domain is already split
/// off by `split_docker_domain`.
fn parse_full(s: &str) -> Result<Reference, ReferenceError> {
    match parse_parts(s) {
        Err(ReferenceError::InvalidFormat) if parse_parts(&s.to_lowercase()).is_ok() => {
            Err(ReferenceError::NameContainsUppercase)
        }
        other => other,
    }
}

fn parse_parts(s: &str) -> Result<Reference, ReferenceError> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    let (name, tag) = split_tag(rest);
    let (domain, path) = name.split_once('/').ok_or(ReferenceError::InvalidFormat)?;
    let grammar_ok = is_domain(domain)
        && is_path(path)
        && tag.is_none_or(is_tag)
        && digest.is_none_or(is_digest_shape);
    if !grammar_ok {
        return Err(ReferenceError::InvalidFormat);
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    Ok(Reference {
        domain: domain.to_string(),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(parse_digest).transpose()?,
    })
}

/// Splits `name[:tag]`. A colon is a tag separator only after the last `/`; before it, it
/// can only be the domain's port.
fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (s, None),
    }
}

/// `host[:port]`, host a DNS name (capitals allowed) or a bracketed IPv6 address.
fn is_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        let addr_ok = !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        if !addr_ok {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host.is_empty() && domain.starts_with('[') || is_domain_name(host);
    port_ok && host_ok
}

fn is_domain_name(host: &str) -> bool {
    host.split('.').all(|c| {
        let b = c.as_bytes();
        let edge = |x: Option<&u8>| x.is_some_and(u8::is_ascii_alphanumeric);
        edge(b.first())
            && edge(b.last())
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
    })
}

fn is_path(path: &str) -> bool {
    path.split('/').all(is_path_component)
}

/// `[a-z0-9]+ ((["._"] | "__" | "-"+) [a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if !(b.first().is_some_and(|x| alnum(*x)) && b.last().is_some_and(|x| alnum(*x))) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let ok = match &b[start..i] {
            b"." | b"_" | b"__" => true,
            sep => sep.iter().all(|x| *x == b'-'),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The shape distribution's regular expression accepts before go-digest validates:
/// `algorithm:hex{32,}` with `algorithm := [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*`.
fn is_digest_shape(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = !alg.is_empty()
        && alg.split(['-', '_', '+', '.']).all(|part| {
            part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Parse` for an already well-shaped digest; only sha256 is supported here.
fn parse_digest(d: &str) -> Result<Digest, ReferenceError> {
    let (alg, hex) = d.split_once(':').ok_or(ReferenceError::InvalidFormat)?;
    if alg != "sha256" {
        return Err(ReferenceError::InvalidDigest(
            "unsupported digest algorithm",
        ));
    }
    if hex.len() != 64 {
        return Err(ReferenceError::InvalidDigest(
            "invalid checksum digest length",
        ));
    }
    Digest::from_hex(hex)
        .map_err(|_| ReferenceError::InvalidDigest("invalid checksum digest format"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    /// Parses `input` and checks its full (`Display`) and familiar forms.
    fn check(input: &str, full: &str, familiar: &str) {
        let r =
            Reference::parse_normalized(input).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
        assert_eq!(r.to_string(), full, "full form of {input:?}");
        assert_eq!(r.familiar(), familiar, "familiar form of {input:?}");
        // The full form is a fixed point of normalisation.
        assert_eq!(Reference::parse_normalized(full), Ok(r));
    }

    fn check_err(input: &str, message: &str) {
        match Reference::parse_normalized(input) {
            Ok(r) => panic!("{input:?} accepted as {r}"),
            Err(e) => assert_eq!(e.to_string(), message, "error for {input:?}"),
        }
    }

    fn parts(input: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse_normalized(input).unwrap();
        (r.domain, r.path, r.tag, r.digest.map(|d| d.to_string()))
    }

    #[test]
    fn official_images_get_docker_io_and_library() {
        check("busybox", "docker.io/library/busybox", "busybox");
        check(
            "busybox:1.36",
            "docker.io/library/busybox:1.36",
            "busybox:1.36",
        );
        check("library/busybox", "docker.io/library/busybox", "busybox");
        check("docker.io/busybox", "docker.io/library/busybox", "busybox");
        check(
            "docker.io/library/busybox",
            "docker.io/library/busybox",
            "busybox",
        );
    }

    #[test]
    fn index_docker_io_is_docker_io() {
        check(
            "index.docker.io/busybox",
            "docker.io/library/busybox",
            "busybox",
        );
        check(
            "index.docker.io/org/app:v1",
            "docker.io/org/app:v1",
            "org/app:v1",
        );
    }

    #[test]
    fn user_repositories_keep_their_namespace() {
        check("org/app", "docker.io/org/app", "org/app");
        check(
            "org/team/app:v2",
            "docker.io/org/team/app:v2",
            "org/team/app:v2",
        );
        // Only one-component official names lose `library/` when shown.
        check("library/a/b", "docker.io/library/a/b", "library/a/b");
    }

    #[test]
    fn first_component_is_a_domain_only_when_it_looks_like_one() {
        assert_eq!(parts("localhost/app").0, "localhost");
        assert_eq!(parts("localhost:5000/app").0, "localhost:5000");
        assert_eq!(parts("127.0.0.1:5000/app").0, "127.0.0.1:5000");
        assert_eq!(parts("example.com/app").0, "example.com");
        assert_eq!(parts("test:5000/repo").0, "test:5000");
        assert_eq!(parts("Upper/app").0, "Upper");
        assert_eq!(parts("sub-dom1.foo.com/bar/baz/quux").1, "bar/baz/quux");
        assert_eq!(parts("xn--n3h.com/myimage:xn--n3h.com").0, "xn--n3h.com");
        // No dot, port or `localhost`: a path component on Docker Hub.
        assert_eq!(
            parts("local/app"),
            ("docker.io".into(), "local/app".into(), None, None)
        );
        check(
            "127.0.0.1:5000/app:v1",
            "127.0.0.1:5000/app:v1",
            "127.0.0.1:5000/app:v1",
        );
        check("localhost/app", "localhost/app", "localhost/app");
    }

    #[test]
    fn ipv6_domains_in_brackets() {
        assert_eq!(parts("[2001:db8::1]:5000/repo").0, "[2001:db8::1]:5000");
        assert_eq!(parts("[2001:db8::1]/repo:tag").0, "[2001:db8::1]");
        check_err("[fe80::1%eth0]:5000/repo", "invalid reference format");
        check_err("2001:db8::1:5000/repo", "invalid reference format");
        check_err("[2001:db8::1]:/repo", "invalid reference format");
        check_err("[]:5000/repo", "invalid reference format");
    }

    #[test]
    fn without_a_slash_a_colon_is_a_tag() {
        assert_eq!(
            parts("test.com:5000"),
            (
                "docker.io".into(),
                "library/test.com".into(),
                Some("5000".into()),
                None
            )
        );
        assert_eq!(parts("foo_bar.com:8080").2.as_deref(), Some("8080"));
        assert_eq!(parts("foo/foo_bar.com:8080").1, "foo/foo_bar.com");
        assert_eq!(parts("localhost:5000").1, "library/localhost");
    }

    #[test]
    fn tags_and_digests() {
        let d = format!("sha256:{HEX}");
        assert_eq!(
            parts(&format!("test:5000/repo@{d}")),
            ("test:5000".into(), "repo".into(), None, Some(d.clone()))
        );
        assert_eq!(
            parts(&format!("test:5000/repo:tag@{d}")),
            (
                "test:5000".into(),
                "repo".into(),
                Some("tag".into()),
                Some(d.clone())
            )
        );
        check(
            &format!("busybox@{d}"),
            &format!("docker.io/library/busybox@{d}"),
            &format!("busybox@{d}"),
        );
        check(
            &format!("busybox:1@{d}"),
            &format!("docker.io/library/busybox:1@{d}"),
            &format!("busybox:1@{d}"),
        );
        // Capitals are fine in tags.
        assert_eq!(parts("lowercase:Uppercase").2.as_deref(), Some("Uppercase"));
        assert_eq!(
            parts("a:_under.score-1").2.as_deref(),
            Some("_under.score-1")
        );
    }

    #[test]
    fn tag_length_and_shape() {
        let max = "a".repeat(128);
        assert_eq!(parts(&format!("repo:{max}")).2, Some(max.clone()));
        check_err(&format!("repo:{max}a"), "invalid reference format");
        check_err("repo:", "invalid reference format");
        check_err("repo:-tag", "invalid reference format");
        check_err("repo:.tag", "invalid reference format");
        check_err("repo:t@g", "invalid reference format");
        check_err("repo:a:b", "invalid reference format");
    }

    #[test]
    fn bad_digests_use_go_digest_wording() {
        check_err(
            &format!("repo@sha256:{}", &HEX[1..]),
            "invalid checksum digest length",
        );
        check_err(
            &format!("repo@sha512:{HEX}{HEX}"),
            "unsupported digest algorithm",
        );
        check_err(
            &format!("repo@invaliddigest:{HEX}"),
            "unsupported digest algorithm",
        );
        check_err(
            &format!("repo@sha256:{}", HEX.replace('f', "F")),
            "invalid checksum digest format",
        );
        // Too short for the grammar at all.
        check_err("repo@sha256:abc", "invalid reference format");
        check_err("repo@", "invalid reference format");
        check_err(&format!("@sha256:{HEX}"), "invalid reference format");
    }

    #[test]
    fn capitals_in_the_repository_are_refused_with_its_name() {
        check_err(
            "Busybox",
            "invalid reference format: repository name (library/Busybox) must be lowercase",
        );
        check_err(
            "Uppercase:tag",
            "invalid reference format: repository name (library/Uppercase) must be lowercase",
        );
        check_err(
            "test:5000/Uppercase/lowercase:tag",
            "invalid reference format: repository name (Uppercase/lowercase) must be lowercase",
        );
        check_err(
            "org/App",
            "invalid reference format: repository name (org/App) must be lowercase",
        );
        // Capitals in the domain are allowed.
        assert_eq!(parts("Example.COM/app").0, "Example.COM");
    }

    #[test]
    fn sixty_four_hex_digits_are_not_a_name() {
        check_err(
            HEX,
            &format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
        );
        // One digit more or less is an ordinary name.
        assert_eq!(parts(&HEX[1..]).1, format!("library/{}", &HEX[1..]));
        assert!(Reference::parse_normalized(&format!("{HEX}0")).is_ok());
    }

    #[test]
    fn path_component_separators() {
        for ok in ["a-b", "a--b", "a_b", "a__b", "a.b", "a.b-c_d", "a0", "0a"] {
            assert!(Reference::parse_normalized(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "a___b",
            "a..b",
            "a._b",
            "-a",
            "a-",
            "_a",
            "a_",
            ".a",
            "a/",
            "/a",
            "a//b",
            "aa/asdf$$^/aa",
            "a b",
        ] {
            check_err(bad, "invalid reference format");
        }
    }

    #[test]
    fn empty_and_stray_forms_are_invalid() {
        check_err("", "invalid reference format");
        check_err(":justtag", "invalid reference format");
        check_err("docker.io/", "invalid reference format");
        check_err("example.com/", "invalid reference format");
        check_err("-example.com/app", "invalid reference format");
        check_err("example-.com/app", "invalid reference format");
    }

    #[test]
    fn name_length_counts_the_domain() {
        // 255 characters of name in all, counting `example.com/`.
        let path = "a".repeat(255 - "example.com/".len());
        assert!(Reference::parse_normalized(&format!("example.com/{path}")).is_ok());
        check_err(
            &format!("example.com/{path}a"),
            "repository name must not be more than 255 characters",
        );
        // Docker Hub names count `docker.io/library/` too.
        let short = "a".repeat(255 - "docker.io/library/".len());
        assert!(Reference::parse_normalized(&short).is_ok());
        check_err(
            &format!("{short}b"),
            "repository name must not be more than 255 characters",
        );
    }

    #[test]
    fn default_tag_only_for_bare_names() {
        let tagged = |s: &str| {
            Reference::parse_normalized(s)
                .unwrap()
                .with_default_tag()
                .to_string()
        };
        assert_eq!(tagged("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(tagged("busybox:1"), "docker.io/library/busybox:1");
        let d = format!("sha256:{HEX}");
        assert_eq!(
            tagged(&format!("busybox@{d}")),
            format!("docker.io/library/busybox@{d}")
        );
    }

    #[test]
    fn with_tag_validates_and_drops_the_digest() {
        let r = Reference::parse_normalized(&format!("app:1@sha256:{HEX}")).unwrap();
        assert_eq!(
            r.with_tag("v2").unwrap().to_string(),
            "docker.io/library/app:v2"
        );
        assert_eq!(r.with_tag("no/slash"), Err(ReferenceError::InvalidTag));
        assert_eq!(ReferenceError::InvalidTag.to_string(), "invalid tag format");
        let d = Digest::from_hex(HEX).unwrap();
        assert_eq!(r.with_digest(d.clone()).tag, None);
        assert_eq!(r.trimmed().name(), "docker.io/library/app");
    }

    #[test]
    fn familiar_name_of_other_registries_is_the_full_name() {
        let r = Reference::parse_normalized("quay.io/library/x:1").unwrap();
        assert_eq!(r.familiar_name(), "quay.io/library/x");
        assert_eq!(r.name(), "quay.io/library/x");
    }

    #[test]
    fn serde_round_trips_through_the_full_form() {
        let r = Reference::parse_normalized("busybox:1").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/library/busybox:1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
        assert!(serde_json::from_str::<Reference>("\"Bad\"").is_err());
        assert_eq!(
            "busybox".parse::<Reference>().unwrap().path,
            "library/busybox"
        );
    }
}
