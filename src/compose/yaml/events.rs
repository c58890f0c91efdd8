//! Parser events → a node graph shaped like go-yaml v3's `yaml.Node` tree.
//!
//! compose-go does not decode YAML straight into values: it first walks go-yaml's node
//! tree (to find `!reset`/`!override` tags, duplicate keys and alias cycles) and decodes
//! the walked tree afterwards. We rebuild that tree from the events of libyaml-safer, a
//! safe port of libyaml, the C parser go-yaml itself was ported from: it accepts what
//! Compose accepts (e.g. a flow list's `]` back at the key's indentation) and words its
//! errors the same. Unlike serde_yaml it gives every node's line, its tag as written, and
//! aliases as aliases (an alias stays a link to its anchored node, so a walk sees sharing).
//! Nodes live in one arena and refer to each other by index; an alias's target can be an
//! ancestor of the alias (`&a [*a]`), so the graph may have cycles: whoever walks it must
//! bound the walk. This module only builds; it never interprets scalars.

use std::collections::HashMap;

use libyaml_safer::{ErrorKind, EventData, Mark, Parser, ScalarStyle};

/// Deepest nesting we accept. go-yaml allows 10000 levels, but every later stage of the
/// loader recurses over the tree and must not overflow the stack; no compose file comes
/// anywhere near this.
pub(super) const MAX_DEPTH: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Scalar,
    Sequence,
    Mapping,
    Alias,
}

#[derive(Clone, Debug)]
pub(super) struct Node {
    pub kind: Kind,
    /// The tag as written and expanded (`!reset`, `tag:yaml.org,2002:str`), or empty.
    pub tag: String,
    /// A scalar's text; an alias's anchor name (go-yaml keeps it there too).
    pub value: String,
    /// A plain (unquoted, non-block) scalar: only those are resolved to non-strings.
    pub plain: bool,
    /// 1-based line of the node's first character.
    pub line: usize,
    /// A sequence's items, or a mapping's keys and values alternating.
    pub children: Vec<usize>,
    /// For an alias, the node it refers to.
    pub target: usize,
}

/// Every node of a YAML stream and the root of each of its documents.
#[derive(Debug, Default)]
pub(super) struct Stream {
    pub nodes: Vec<Node>,
    pub documents: Vec<usize>,
}

/// Why the stream stopped: go-yaml's message, and the 1-based position when the parser
/// had one (`line` is the line go-yaml reports, which for some errors is the line where
/// the construct started).
#[derive(Debug)]
pub(super) struct SyntaxError {
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// Parses every document of `content`. An error stops the stream: the documents
/// completed before it are returned with it (compose-go decodes documents one at a time).
pub(super) fn build(content: &[u8]) -> (Stream, Option<SyntaxError>) {
    let mut builder = Builder {
        stream: Stream::default(),
        open: Vec::new(),
        anchors: HashMap::new(),
        completed: 0,
    };
    let transcoded;
    let mut input = match utf16_to_utf8(content) {
        None => content,
        Some(Ok(utf8)) => {
            transcoded = utf8;
            transcoded.as_slice()
        }
        Some(Err(e)) => return builder.fail(e),
    };
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    loop {
        let event = match parser.parse() {
            Ok(event) => event,
            Err(e) => return builder.fail(parse_error(&e)),
        };
        match builder.push(event.data, event.start_mark) {
            Ok(true) => {}
            Ok(false) => return (builder.stream, None),
            Err(e) => return builder.fail(e),
        }
    }
}

/// UTF-16 input (with its byte order mark, as YAML requires) as UTF-8; `None` for input
/// that is not UTF-16. libyaml-safer's own UTF-16 reader panics on a truncated code unit,
/// so berth decodes it first, with go-yaml's reader errors.
fn utf16_to_utf8(content: &[u8]) -> Option<Result<Vec<u8>, SyntaxError>> {
    let little = match content {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return None,
    };
    let fail = |message: &str| {
        Some(Err(SyntaxError {
            position: None,
            message: message.to_string(),
        }))
    };
    let body = &content[2..];
    if body.len() % 2 != 0 {
        return fail("incomplete UTF-16 character");
    }
    let units = body.chunks_exact(2).map(|pair| {
        let bytes = [pair[0], pair[1]];
        if little {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }
    });
    let mut out = String::with_capacity(body.len());
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => return fail("invalid UTF-16 surrogate pair"),
        }
    }
    Some(Ok(out.into_bytes()))
}

/// go-yaml's `parser.fail`: the context mark's line if it has one, else the problem's;
/// both are 0-based in libyaml and go-yaml adds one only for scanner errors.
fn parse_error(e: &libyaml_safer::Error) -> SyntaxError {
    let bump = usize::from(e.kind() == ErrorKind::Scanner);
    let line_of = |m: Mark| usize::try_from(m.line).unwrap_or(usize::MAX);
    let line = match (e.context_mark(), e.problem_mark()) {
        (Some(c), _) if c.line != 0 => line_of(c) + bump,
        (_, Some(p)) if p.line != 0 => line_of(p) + bump,
        _ => 0,
    };
    let column = e
        .problem_mark()
        .map_or(0, |p| usize::try_from(p.column).unwrap_or(0) + 1);
    SyntaxError {
        position: (line != 0).then_some((line, column)),
        message: e.problem().to_string(),
    }
}

struct Builder {
    stream: Stream,
    /// Collections started and not yet ended, innermost last.
    open: Vec<usize>,
    /// Anchor name → node (a later anchor of the same name replaces an earlier one).
    anchors: HashMap<String, usize>,
    /// How many documents have ended.
    completed: usize,
}

impl Builder {
    /// The stream up to the last complete document, and the error that stopped it.
    fn fail(mut self, err: SyntaxError) -> (Stream, Option<SyntaxError>) {
        self.stream.documents.truncate(self.completed);
        (self.stream, Some(err))
    }

    /// Takes one event; `false` at the end of the stream.
    fn push(&mut self, event: EventData, mark: Mark) -> Result<bool, SyntaxError> {
        match event {
            EventData::StreamEnd => return Ok(false),
            EventData::DocumentEnd { .. } => self.completed = self.stream.documents.len(),
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            } => {
                let plain = style == ScalarStyle::Plain;
                let idx = self.add(Kind::Scalar, tag, value, plain, mark);
                self.anchor(anchor, idx);
            }
            EventData::SequenceStart { anchor, tag, .. } => {
                self.start(Kind::Sequence, anchor, tag, mark)?;
            }
            EventData::MappingStart { anchor, tag, .. } => {
                self.start(Kind::Mapping, anchor, tag, mark)?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                self.open.pop();
            }
            EventData::Alias { anchor } => {
                let Some(&target) = self.anchors.get(&anchor) else {
                    return Err(SyntaxError {
                        position: None,
                        message: format!("unknown anchor '{anchor}' referenced"),
                    });
                };
                let idx = self.add(Kind::Alias, None, anchor, false, mark);
                self.stream.nodes[idx].target = target;
            }
            _ => {}
        }
        Ok(true)
    }

    fn start(
        &mut self,
        kind: Kind,
        anchor: Option<String>,
        tag: Option<String>,
        mark: Mark,
    ) -> Result<(), SyntaxError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                position: Some((line_of(mark), column_of(mark))),
                message: format!("exceeded max depth of {MAX_DEPTH}"),
            });
        }
        let idx = self.add(kind, tag, String::new(), false, mark);
        // Registered before the children, as go-yaml does: `&a [*a]` refers to itself.
        self.anchor(anchor, idx);
        self.open.push(idx);
        Ok(())
    }

    fn add(
        &mut self,
        kind: Kind,
        tag: Option<String>,
        value: String,
        plain: bool,
        mark: Mark,
    ) -> usize {
        let idx = self.stream.nodes.len();
        self.stream.nodes.push(Node {
            kind,
            tag: tag.unwrap_or_default(),
            value,
            plain,
            line: line_of(mark),
            children: Vec::new(),
            target: idx,
        });
        match self.open.last() {
            Some(&parent) => self.stream.nodes[parent].children.push(idx),
            None => self.stream.documents.push(idx),
        }
        idx
    }

    fn anchor(&mut self, anchor: Option<String>, idx: usize) {
        if let Some(name) = anchor {
            self.anchors.insert(name, idx);
        }
    }
}

/// 1-based line of a libyaml mark.
fn line_of(mark: Mark) -> usize {
    usize::try_from(mark.line).unwrap_or(usize::MAX - 1) + 1
}

fn column_of(mark: Mark) -> usize {
    usize::try_from(mark.column).unwrap_or(usize::MAX - 1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Stream {
        let (stream, err) = build(text.as_bytes());
        assert!(err.is_none(), "{err:?}");
        stream
    }

    #[test]
    fn utf16_input_is_decoded_and_a_truncated_unit_is_an_error() {
        let mut le = vec![0xff, 0xfe];
        le.extend("a: 1\n".encode_utf16().flat_map(u16::to_le_bytes));
        let (stream, err) = build(&le);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(stream.nodes[stream.documents[0]].children.len(), 2);
        let (_, err) = build(&[0xff, 0xfe, 0x00, 0x01, 0x00]);
        assert_eq!(
            err.map(|e| e.message),
            Some("incomplete UTF-16 character".into())
        );
    }

    #[test]
    fn mapping_children_alternate_keys_and_values() {
        let s = parse("a: 1\nb: [x, y]\n");
        let root = &s.nodes[s.documents[0]];
        assert_eq!(root.kind, Kind::Mapping);
        assert_eq!(root.children.len(), 4);
        let b = &s.nodes[root.children[3]];
        assert_eq!(b.kind, Kind::Sequence);
        assert_eq!(s.nodes[root.children[2]].line, 2);
    }

    #[test]
    fn aliases_keep_their_anchor_name_and_target() {
        let s = parse("a: &base {x: 1}\nb: *base\n");
        let root = &s.nodes[s.documents[0]];
        let alias = &s.nodes[root.children[3]];
        assert_eq!(alias.kind, Kind::Alias);
        assert_eq!(alias.value, "base");
        assert_eq!(alias.target, root.children[1]);
    }

    #[test]
    fn tags_are_expanded() {
        let s = parse("a: !reset []\nb: !!str 1\n");
        let root = &s.nodes[s.documents[0]];
        assert_eq!(s.nodes[root.children[1]].tag, "!reset");
        assert_eq!(s.nodes[root.children[3]].tag, "tag:yaml.org,2002:str");
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let s = parse("a: \"1\"\nb: 1\n");
        let root = &s.nodes[s.documents[0]];
        assert!(!s.nodes[root.children[1]].plain);
        assert!(s.nodes[root.children[3]].plain);
    }

    #[test]
    fn comment_only_stream_has_no_document() {
        assert!(parse("# nothing\n").documents.is_empty());
        assert!(parse("").documents.is_empty());
    }

    #[test]
    fn explicit_empty_document_is_an_empty_plain_scalar() {
        let s = parse("a: 1\n---\n");
        assert_eq!(s.documents.len(), 2);
        let second = &s.nodes[s.documents[1]];
        assert_eq!((second.kind, second.value.as_str()), (Kind::Scalar, ""));
    }

    #[test]
    fn syntax_error_has_position_and_keeps_earlier_documents() {
        let (s, err) = build(b"a: 1\n---\nb: [1\nc: 2\n");
        let err = err.expect("syntax error");
        // The broken second document is dropped; the first is kept.
        assert_eq!(s.documents.len(), 1);
        // go-yaml names the parser's context line (where the flow list started) without
        // converting it from 0-based: the `[` is on line 3, Compose says line 2.
        assert_eq!(err.position.map(|p| p.0), Some(2));
        assert_eq!(err.message, "did not find expected ',' or ']'");
    }

    #[test]
    fn scanner_errors_are_reported_on_their_own_line() {
        let (_, err) = build(b"a: 1\nb: @x\n");
        let err = err.expect("error");
        assert_eq!(err.position.map(|p| p.0), Some(2));
        assert_eq!(err.message, "found character that cannot start any token");
    }

    #[test]
    fn flow_list_closed_at_the_key_indentation_is_accepted() {
        // Compose (libyaml) accepts this; stricter parsers reject the `]`.
        parse("svc:\n    command: [\n      \"a\"\n    ]\n    b: 1\n");
    }

    #[test]
    fn unknown_anchor_is_named() {
        let (_, err) = build(b"a: *nope\n");
        assert_eq!(
            err.expect("error").message,
            "unknown anchor 'nope' referenced"
        );
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let mut text = String::new();
        for i in 0..MAX_DEPTH + 5 {
            text.push_str(&" ".repeat(i));
            text.push_str("a:\n");
        }
        let (_, err) = build(text.as_bytes());
        assert!(err.expect("error").message.contains("max depth"));
    }
}
