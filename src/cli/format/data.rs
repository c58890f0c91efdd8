//! `Data`: the values templates run on, a JSON tree that keeps object keys in order, with
//! Go's ways of printing it (`%v`, `encoding/json`) and Go's `json.Indent` for raw answers.

use std::fmt::Write as _;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value whose objects keep the order of their keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    List(Vec<Data>),
    Map(Vec<(String, Data)>),
}

impl Data {
    /// Any serialisable value, fields in their declaration order.
    pub fn from_serialize<T: serde::Serialize>(value: &T) -> Data {
        // Serialising our own types to JSON cannot fail (no non-string map keys), and the
        // text we just produced always parses.
        serde_json::to_string(value)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Data::Null)
    }

    /// An object from `(key, value)` pairs, in that order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Data)>) -> Data {
        Data::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn str(s: impl Into<String>) -> Data {
        Data::Str(s.into())
    }

    pub fn int(n: i64) -> Data {
        Data::Number(n.into())
    }

    /// The member `key` of an object: exact name first, then ignoring ASCII case, because
    /// Go templates name struct fields (`APIVersion`) where the JSON says `ApiVersion`.
    pub fn get(&self, key: &str) -> Option<&Data> {
        let Data::Map(pairs) = self else {
            return None;
        };
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .or_else(|| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v)
    }

    /// Whether a missing member should be an error (a Go struct) rather than `<no value>`
    /// (a Go map): objects whose keys are all exported-looking names are taken as structs.
    pub fn looks_like_struct(&self) -> bool {
        match self {
            Data::Map(pairs) => {
                !pairs.is_empty()
                    && pairs
                        .iter()
                        .all(|(k, _)| k.starts_with(|c: char| c.is_ascii_uppercase()))
            }
            _ => false,
        }
    }

    /// Go's notion of "true" in `if`, `and`, `or`, `not`.
    pub fn is_truthy(&self) -> bool {
        match self {
            Data::Null => false,
            Data::Bool(b) => *b,
            Data::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Data::Str(s) => !s.is_empty(),
            Data::List(l) => !l.is_empty(),
            Data::Map(m) => !m.is_empty(),
        }
    }

    /// The Go type name used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Data::Null => "interface {}",
            Data::Bool(_) => "bool",
            Data::Number(_) => "float64",
            Data::Str(_) => "string",
            Data::List(_) => "[]interface {}",
            Data::Map(_) => "map[string]interface {}",
        }
    }

    /// `fmt.Sprint(v)` as text/template prints an action's value.
    pub fn to_go_string(&self) -> String {
        match self {
            Data::Null => "<no value>".into(),
            Data::Str(s) => s.clone(),
            other => {
                let mut out = String::new();
                write_go_value(&mut out, other);
                out
            }
        }
    }

    /// What Docker's template `json` function prints: Go's encoder, compact, HTML escaping
    /// off (`"<none>"` stays as it is).
    pub fn to_go_json(&self) -> String {
        let mut out = String::new();
        write_json(&mut out, self, false);
        out
    }

    /// `json.Marshal(v)` with HTML escaping on (`"\u003cnone\u003e"`): what the docker CLI's
    /// list contexts print for `{{json .}}`, since they marshal themselves with `json.Marshal`.
    pub fn to_go_json_html_escaped(&self) -> String {
        let mut out = String::new();
        write_json(&mut out, self, true);
        out
    }
}

/// `%v` of a value nested in a slice or map.
fn write_go_value(out: &mut String, value: &Data) {
    match value {
        Data::Null => out.push_str("<nil>"),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::Number(n) => out.push_str(&n.to_string()),
        Data::Str(s) => out.push_str(s),
        Data::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go_value(out, item);
            }
            out.push(']');
        }
        Data::Map(pairs) => {
            // fmt prints maps with their keys sorted.
            let mut sorted: Vec<&(String, Data)> = pairs.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push_str("map[");
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go_value(out, v);
            }
            out.push(']');
        }
    }
}

fn write_json(out: &mut String, value: &Data, html: bool) {
    match value {
        Data::Null => out.push_str("null"),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::Number(n) => out.push_str(&n.to_string()),
        Data::Str(s) => write_json_string(out, s, html),
        Data::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, html);
            }
            out.push(']');
        }
        Data::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k, html);
                out.push(':');
                write_json(out, v, html);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Go's encoder writes it: `<`, `>`, `&` escaped only when `html` is on
/// (`SetEscapeHTML`), U+2028/9 always (Go does that unconditionally).
pub fn write_json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '<' | '>' | '&' if html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Indent(dst, src, "", indent)`: re-indents JSON text without touching strings
/// or numbers (so the daemon's own escaping is kept, as the docker CLI keeps it).
pub fn indent_json(src: &str, indent: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // Set after an opening bracket: the newline is written lazily so `[]`/`{}` stay compact.
    let mut pending_open = false;
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if pending_open {
            pending_open = false;
            if c != ']' && c != '}' {
                newline(&mut out, indent, depth);
            }
        }
        match c {
            '{' | '[' => {
                out.push(c);
                depth += 1;
                pending_open = true;
            }
            '}' | ']' => {
                let was_empty = out.ends_with('{') || out.ends_with('[');
                depth = depth.saturating_sub(1);
                if !was_empty {
                    newline(&mut out, indent, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, indent, depth);
            }
            ':' => out.push_str(": "),
            '"' => {
                in_string = true;
                out.push('"');
            }
            c => out.push(c),
        }
    }
    out
}

fn newline(out: &mut String, indent: &str, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str(indent);
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Data::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Data, E> {
        Ok(Data::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut pairs: Vec<(String, Data)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Data>()? {
            // A repeated key keeps its first place and takes the last value, as Go decodes.
            match pairs.iter_mut().find(|(existing, _)| *existing == k) {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            }
        }
        Ok(Data::Map(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Data {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn keys_keep_their_order() {
        let d = parse(r#"{"b":1,"a":{"z":true,"y":null}}"#);
        assert_eq!(d.to_go_json(), r#"{"b":1,"a":{"z":true,"y":null}}"#);
    }

    #[test]
    fn json_escapes_like_go() {
        assert_eq!(
            Data::str("<none> & \"x\"\n\u{2028}").to_go_json(),
            r#""<none> & \"x\"\n\u2028""#
        );
        assert_eq!(
            Data::str("<a&b>").to_go_json_html_escaped(),
            r#""\u003ca\u0026b\u003e""#
        );
    }

    #[test]
    fn go_printing_of_lists_and_maps() {
        let d = parse(r#"{"L":["a","b"],"M":{"z":"1","a":"2"},"N":null}"#);
        assert_eq!(d.get("L").map(Data::to_go_string).as_deref(), Some("[a b]"));
        assert_eq!(
            d.get("M").map(Data::to_go_string).as_deref(),
            Some("map[a:2 z:1]")
        );
        assert_eq!(
            d.get("N").map(Data::to_go_string).as_deref(),
            Some("<no value>")
        );
    }

    #[test]
    fn lookup_falls_back_to_ascii_case() {
        let d = parse(r#"{"ApiVersion":"1.43","Id":"x"}"#);
        assert_eq!(d.get("APIVersion"), Some(&Data::str("1.43")));
        assert_eq!(d.get("ID"), Some(&Data::str("x")));
        assert!(d.looks_like_struct());
        assert!(!parse(r#"{"com.example":"x"}"#).looks_like_struct());
    }

    #[test]
    fn indent_matches_go_json_indent() {
        let src =
            r#"[{"Id":"sha256:1","RepoTags":[],"Config":{"Cmd":["sh"],"Labels":{}},"S":"a,b:{"}]"#;
        let want = "[\n    {\n        \"Id\": \"sha256:1\",\n        \"RepoTags\": [],\n        \"Config\": {\n            \"Cmd\": [\n                \"sh\"\n            ],\n            \"Labels\": {}\n        },\n        \"S\": \"a,b:{\"\n    }\n]";
        assert_eq!(indent_json(src, "    "), want);
    }

    #[test]
    fn truthiness_follows_go() {
        assert!(!Data::str("").is_truthy());
        assert!(!Data::int(0).is_truthy());
        assert!(!Data::List(vec![]).is_truthy());
        assert!(Data::str("x").is_truthy());
        assert!(Data::int(2).is_truthy());
    }
}
