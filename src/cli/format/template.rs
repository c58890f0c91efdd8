//! A subset of Go's text/template, parsed: text, `{{pipeline}}` with `|`, fields and nested
//! fields (`.Config.Cmd`), variables (`$`, `$x := ...`), string/number/bool literals,
//! parenthesised pipelines, `if`/`else if`/`else`/`end`, `range` (with `$i, $v :=`),
//! `with`, comments and `{{-`/`-}}` trimming. Functions are resolved in `exec`.
//!
//! Errors read as Go's (`template: :1: unclosed action`); the CLI adds Docker's
//! `template parsing error: ` prefix.

use super::exec;
use super::funcs;
use super::lex::{describe, lex, Tok, Token};
use super::Data;

/// A parsed template, ready to run on any `Data`.
#[derive(Clone, Debug)]
pub struct Template {
    pub(super) nodes: Vec<Node>,
}

/// A parse or execution error, worded as Go's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {0}")]
pub struct TemplateError(pub String);

#[derive(Clone, Debug)]
pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
}

/// `$a, $b := cmd | cmd`, with its position for error messages.
#[derive(Clone, Debug)]
pub(super) struct Pipe {
    pub decl: Vec<String>,
    pub cmds: Vec<Vec<Arg>>,
    pub line: usize,
    pub col: usize,
    /// The action's source text, for `at <...>` in execution errors.
    pub text: String,
}

#[derive(Clone, Debug)]
pub(super) enum Arg {
    Dot,
    /// `.A.B` on dot.
    Field(Vec<String>),
    /// `$x.A.B`; `$` is the name of the root variable.
    Var(String, Vec<String>),
    Literal(Data),
    Func(String),
    /// `(pipeline).A.B`
    Sub(Box<Pipe>, Vec<String>),
}

impl Template {
    /// Parses `text`; unknown functions are reported here, as Go does.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let actions = split_actions(text)?;
        let mut parser = Parser {
            items: actions,
            pos: 0,
        };
        let (nodes, end) = parser.parse_list()?;
        if let Some(word) = end {
            return Err(TemplateError(format!(
                "{}: unexpected {{{{{word}}}}}",
                parser.line()
            )));
        }
        Ok(Template { nodes })
    }

    /// Runs the template on `dot` and returns its output.
    pub fn execute(&self, dot: &Data) -> Result<String, TemplateError> {
        exec::execute(self, dot, exec::Mode::Value)
    }

    /// Runs it on one row of a docker CLI list (`images`, `history`, ...).
    pub fn execute_row(&self, dot: &Data) -> Result<String, TemplateError> {
        exec::execute(self, dot, exec::Mode::ListContext)
    }

    /// Runs it on a table header context: Docker's header functions pass their first
    /// argument through (`{{.Name | upper}}` heads the column `NAME`).
    pub fn execute_header(&self, dot: &Data) -> Result<String, TemplateError> {
        exec::execute(self, dot, exec::Mode::Header)
    }
}

/// One piece of the source: text, or an action's inside with its position.
enum Item {
    Text(String),
    Action {
        body: String,
        line: usize,
        col: usize,
    },
}

/// Cuts `text` into text and actions, applying `{{-` and `-}}` trimming and dropping comments.
fn split_actions(text: &str) -> Result<Vec<Item>, TemplateError> {
    let mut items = Vec::new();
    let mut rest = text;
    let mut consumed = 0usize;
    let mut trim_next_text = false;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        if trim_next_text {
            before = before.trim_start();
        }
        let after_open = &rest[start + 2..];
        let trim_left = after_open.starts_with("- ")
            || after_open.starts_with("-\t")
            || after_open.starts_with("-\n");
        if trim_left {
            before = before.trim_end();
        }
        if !before.is_empty() {
            items.push(Item::Text(before.to_owned()));
        }
        let inner_start = if trim_left { 2 } else { 0 };
        let line = 1 + text[..consumed + start].matches('\n').count();
        let col = consumed + start - text[..consumed + start].rfind('\n').map_or(0, |i| i + 1);
        let Some(close) = find_close(&after_open[inner_start..]) else {
            return Err(TemplateError(format!(":{line}: unclosed action")));
        };
        let mut body = &after_open[inner_start..inner_start + close];
        trim_next_text = body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-");
        if trim_next_text {
            body = &body[..body.len() - 2];
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            items.push(Item::Action {
                body: body.to_owned(),
                line,
                col: col + 2,
            });
        }
        let advance = start + 2 + inner_start + close + 2;
        consumed += advance;
        rest = &rest[advance..];
    }
    let tail = if trim_next_text {
        rest.trim_start()
    } else {
        rest
    };
    if !tail.is_empty() {
        items.push(Item::Text(tail.to_owned()));
    }
    Ok(items)
}

/// The offset of `}}` closing an action, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

struct Parser {
    items: Vec<Item>,
    pos: usize,
}

impl Parser {
    fn line(&self) -> String {
        match self.items.get(self.pos.saturating_sub(1)) {
            Some(Item::Action { line, .. }) => format!(":{line}"),
            _ => ":1".into(),
        }
    }

    /// Parses nodes up to an `else`/`end` (returned) or the end of input.
    fn parse_list(&mut self) -> Result<(Vec<Node>, Option<String>), TemplateError> {
        let mut nodes = Vec::new();
        while self.pos < self.items.len() {
            let index = self.pos;
            self.pos += 1;
            let (body, line, col) = match &self.items[index] {
                Item::Text(t) => {
                    nodes.push(Node::Text(t.clone()));
                    continue;
                }
                Item::Action { body, line, col } => (body.clone(), *line, *col),
            };
            let keyword = body.split_whitespace().next().unwrap_or("");
            let rest = body[keyword.len()..].trim();
            match keyword {
                "end" => return Ok((nodes, Some("end".into()))),
                "else" => return Ok((nodes, Some(format!("else {rest}").trim().to_owned()))),
                "if" | "range" | "with" => {
                    let pipe = parse_pipe(rest, line, col, true)?;
                    nodes.push(self.parse_block(keyword, pipe)?);
                }
                "" => return Err(TemplateError(format!(":{line}: missing value for command"))),
                "define" | "template" | "block" | "break" | "continue" => {
                    return Err(TemplateError(format!(
                        ":{line}: {keyword} is not supported by berth's templates"
                    )))
                }
                _ => nodes.push(Node::Action(parse_pipe(&body, line, col, true)?)),
            }
        }
        Ok((nodes, None))
    }

    /// The body and `else` branch of `if`/`range`/`with`; `else if` nests another `if`.
    fn parse_block(&mut self, keyword: &str, pipe: Pipe) -> Result<Node, TemplateError> {
        let (body, end) = self.parse_list()?;
        let else_nodes = match end.as_deref() {
            Some("end") => Vec::new(),
            Some("else") => {
                let (nodes, end) = self.parse_list()?;
                if end.as_deref() != Some("end") {
                    return Err(self.unexpected_eof(end));
                }
                nodes
            }
            Some(other) if other.starts_with("else if ") || other.starts_with("else with ") => {
                let rest = &other["else ".len()..];
                let (inner_kw, cond) = rest.split_once(' ').unwrap_or((rest, ""));
                let (line, col) = self.current_position();
                let inner = parse_pipe(cond.trim(), line, col, true)?;
                // The nested block consumes the shared `{{end}}`.
                vec![self.parse_block(inner_kw, inner)?]
            }
            other => return Err(self.unexpected_eof(other.map(str::to_owned))),
        };
        Ok(match keyword {
            "if" => Node::If(pipe, body, else_nodes),
            "range" => Node::Range(pipe, body, else_nodes),
            _ => Node::With(pipe, body, else_nodes),
        })
    }

    fn current_position(&self) -> (usize, usize) {
        match self.items.get(self.pos.saturating_sub(1)) {
            Some(Item::Action { line, col, .. }) => (*line, *col),
            _ => (1, 0),
        }
    }

    fn unexpected_eof(&self, found: Option<String>) -> TemplateError {
        match found {
            Some(word) => TemplateError(format!("{}: unexpected {{{{{word}}}}}", self.line())),
            None => TemplateError(format!("{}: unexpected EOF", self.line())),
        }
    }
}

/// Parses an action's body as `[$v[, $w] :=] command [| command]...`.
fn parse_pipe(
    body: &str,
    line: usize,
    col: usize,
    allow_decl: bool,
) -> Result<Pipe, TemplateError> {
    let tokens = lex(body).map_err(|e| TemplateError(format!(":{line}: {e}")))?;
    let mut pos = 0;
    let pipe = parse_tokens(&tokens, &mut pos, line, col, body, allow_decl)?;
    if pos < tokens.len() {
        return Err(TemplateError(format!(
            ":{line}: unexpected {} in operand",
            describe(&tokens[pos].tok)
        )));
    }
    Ok(pipe)
}

fn parse_tokens(
    tokens: &[Token],
    pos: &mut usize,
    line: usize,
    col: usize,
    text: &str,
    allow_decl: bool,
) -> Result<Pipe, TemplateError> {
    let err = |msg: String| TemplateError(format!(":{line}: {msg}"));
    let mut decl = Vec::new();
    if allow_decl {
        decl = parse_declaration(tokens, pos);
    }
    let mut cmds: Vec<Vec<Arg>> = vec![Vec::new()];
    while let Some(token) = tokens.get(*pos) {
        let arg = match &token.tok {
            Tok::RParen => break,
            Tok::Pipe => {
                if cmds.last().is_some_and(Vec::is_empty) {
                    return Err(err("missing command".into()));
                }
                cmds.push(Vec::new());
                *pos += 1;
                continue;
            }
            Tok::Dot => Arg::Dot,
            Tok::Field(f) => Arg::Field(f.clone()),
            Tok::Var(v, f) => Arg::Var(v.clone(), f.clone()),
            Tok::Str(s) => Arg::Literal(Data::Str(s.clone())),
            Tok::Num(n) => Arg::Literal(
                parse_number(n).ok_or_else(|| err(format!("bad number syntax: {n:?}")))?,
            ),
            Tok::Ident(name) => match name.as_str() {
                "true" => Arg::Literal(Data::Bool(true)),
                "false" => Arg::Literal(Data::Bool(false)),
                "nil" => Arg::Literal(Data::Null),
                _ if funcs::is_function(name) => Arg::Func(name.clone()),
                _ => return Err(err(format!("function {name:?} not defined"))),
            },
            Tok::LParen => {
                *pos += 1;
                let inner = parse_tokens(tokens, pos, line, col, text, false)?;
                if tokens.get(*pos).map(|t| &t.tok) != Some(&Tok::RParen) {
                    return Err(err("unclosed left paren".into()));
                }
                let mut fields = Vec::new();
                if let Some(Token {
                    tok: Tok::Field(f),
                    spaced: false,
                }) = tokens.get(*pos + 1)
                {
                    fields = f.clone();
                    *pos += 1;
                }
                Arg::Sub(Box::new(inner), fields)
            }
            other => return Err(err(format!("unexpected {} in operand", describe(other)))),
        };
        *pos += 1;
        if let Some(cmd) = cmds.last_mut() {
            cmd.push(arg);
        }
    }
    if cmds.iter().any(Vec::is_empty) {
        return Err(err("missing value for command".into()));
    }
    Ok(Pipe {
        decl,
        cmds,
        line,
        col,
        text: text.to_owned(),
    })
}

/// `$x :=`, `$i, $v :=`: the declared names (without `$`), or none.
fn parse_declaration(tokens: &[Token], pos: &mut usize) -> Vec<String> {
    let var = |t: Option<&Token>| match t.map(|t| &t.tok) {
        Some(Tok::Var(name, fields)) if fields.is_empty() => Some(name.clone()),
        _ => None,
    };
    let is = |t: Option<&Token>, want: &Tok| t.map(|t| &t.tok) == Some(want);
    if let Some(a) = var(tokens.get(*pos)) {
        if is(tokens.get(*pos + 1), &Tok::Declare) || is(tokens.get(*pos + 1), &Tok::Assign) {
            *pos += 2;
            return vec![a];
        }
        if is(tokens.get(*pos + 1), &Tok::Comma) {
            if let Some(b) = var(tokens.get(*pos + 2)) {
                if is(tokens.get(*pos + 3), &Tok::Declare) {
                    *pos += 4;
                    return vec![a, b];
                }
            }
        }
    }
    Vec::new()
}

fn parse_number(text: &str) -> Option<Data> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Data::int(i));
    }
    let f: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(f).map(Data::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        Template::parse(text)
            .expect_err("must not parse")
            .to_string()
    }

    #[test]
    fn unknown_function_is_a_parse_error() {
        assert_eq!(
            parse_err("{{nope .ID}}"),
            r#"template: :1: function "nope" not defined"#
        );
    }

    #[test]
    fn unclosed_action_and_missing_end() {
        assert_eq!(parse_err("{{.ID"), "template: :1: unclosed action");
        assert_eq!(parse_err("{{if .A}}x"), "template: :1: unexpected EOF");
        assert_eq!(parse_err("x{{end}}"), "template: :1: unexpected {{end}}");
    }

    #[test]
    fn comments_and_trim_markers() {
        let t = Template::parse("a  {{- /* c */ -}}  b {{- \"x\" }}").expect("parses");
        assert_eq!(t.execute(&Data::Null).expect("runs"), "abx");
    }
}
