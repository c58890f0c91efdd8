//! Request parameters: URL query strings (`?a=1&b=x`), Docker's boolean spelling, and the
//! `filters` JSON parameter in both its shapes (`{"k":["v"]}` and the old `{"k":{"v":true}}`).

use std::collections::BTreeMap;

use super::errors::ApiError;

/// `%XX` and (in queries) `+` decoded; invalid escapes are kept as written.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A parsed query string; a name may repeat (`names=a&names=b`).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        let pairs = query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k, true), percent_decode(v, true))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` when present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Docker's `BoolValue`: anything but empty, `0`, `no`, `false`, `none` is true.
    pub fn bool(&self, name: &str) -> bool {
        self.get(name).is_some_and(is_true)
    }

    /// `filters`, checked against the keys the endpoint knows.
    pub fn filters(&self, allowed: &[&str]) -> Result<Filters, ApiError> {
        let filters = Filters::parse(self.get("filters").unwrap_or(""))?;
        filters.check_keys(allowed)?;
        Ok(filters)
    }
}

fn is_true(v: &str) -> bool {
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "no" | "false" | "none"
    )
}

/// Docker's `filters.Args`: a key and the values any of which may match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn parse(json: &str) -> Result<Filters, ApiError> {
        if json.trim().is_empty() {
            return Ok(Filters::default());
        }
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| ApiError::bad_request(format!("invalid filter: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ApiError::bad_request("invalid filter: not an object"));
        };
        let mut out = BTreeMap::new();
        for (key, values) in map {
            out.insert(key, filter_values(&values)?);
        }
        Ok(Filters(out))
    }

    fn check_keys(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad_request(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// True when `key` is absent or one of its values satisfies `matches`.
    pub fn any(&self, key: &str, matches: impl Fn(&str) -> bool) -> bool {
        match self.0.get(key) {
            None => true,
            Some(values) => values.iter().any(|v| matches(v)),
        }
    }

    /// A boolean filter (`dangling=true`): `None` when absent, an error when not a boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        let Some(values) = self.0.get(key) else {
            return Ok(None);
        };
        let mut result = None;
        for v in values {
            let b = match v.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(ApiError::bad_request(format!("Invalid filter '{key}={v}'"))),
            };
            result = Some(result.unwrap_or(false) || b);
        }
        Ok(result)
    }
}

/// `["a","b"]` or `{"a":true,"b":true}` (the pre-1.22 shape).
fn filter_values(values: &serde_json::Value) -> Result<Vec<String>, ApiError> {
    match values {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s.clone()),
                other => Ok(other.to_string()),
            })
            .collect(),
        serde_json::Value::Object(map) => Ok(map
            .iter()
            .filter(|(_, on)| on.as_bool().unwrap_or(false))
            .map(|(k, _)| k.clone())
            .collect()),
        _ => Err(ApiError::bad_request(
            "invalid filter: values must be a list",
        )),
    }
}

/// Docker's glob (`path.Match`): `*` (not across `/`), `?`, `[...]` classes, `\` escapes.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len())
            .take_while(|&i| i == 0 || t[i - 1] != '/')
            .any(|i| glob_at(&p[1..], &t[i..])),
        Some('?') => t.first().is_some_and(|&c| c != '/') && glob_at(&p[1..], &t[1..]),
        Some('[') => match (t.first(), class_end(p)) {
            (Some(&c), Some(end)) if c != '/' && class_matches(&p[1..end], c) => {
                glob_at(&p[end + 1..], &t[1..])
            }
            _ => false,
        },
        Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && glob_at(&p[2..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && glob_at(&p[1..], &t[1..]),
    }
}

fn class_end(p: &[char]) -> Option<usize> {
    p.iter().skip(2).position(|&c| c == ']').map(|i| i + 2)
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negate, class) = match class.first() {
        Some('^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            found |= class[i] <= c && c <= class[i + 2];
            i += 3;
        } else {
            found |= class[i] == c;
            i += 1;
        }
    }
    found != negate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_and_repeats() {
        let q = Query::parse(Some("names=a%2Fb&names=c&force=1&noprune=false&x=a+b"));
        assert_eq!(q.all("names"), ["a/b", "c"]);
        assert!(q.bool("force"));
        assert!(!q.bool("noprune"));
        assert!(!q.bool("absent"));
        assert_eq!(q.get("x"), Some("a b"));
    }

    #[test]
    fn filters_take_both_shapes() {
        let f = Filters::parse(r#"{"dangling":["true"],"label":{"a=b":true,"c":false}}"#)
            .expect("parses");
        assert_eq!(f.bool("dangling").expect("bool"), Some(true));
        assert_eq!(f.values("label"), ["a=b"]);
        assert!(f.any("absent", |_| false));
    }

    #[test]
    fn unknown_filter_key_is_a_bad_request() {
        let q = Query::parse(Some("filters=%7B%22nope%22%3A%5B%22x%22%5D%7D"));
        let err = q.filters(&["dangling"]).expect_err("unknown key");
        assert_eq!(err.message, "invalid filter 'nope'");
        assert!(Filters::parse("{bad").is_err());
    }

    #[test]
    fn glob_is_path_match() {
        assert!(glob_match("busy*", "busybox"));
        assert!(glob_match("busybox:*", "busybox:latest"));
        assert!(!glob_match("*", "org/app"));
        assert!(glob_match("*/app", "org/app"));
        assert!(glob_match("b?sy[a-c]ox", "busybox"));
        assert!(!glob_match("b?sy[^a-c]ox", "busybox"));
    }

    #[test]
    fn percent_decode_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%41%zz+", false), "A%zz+");
    }
}
