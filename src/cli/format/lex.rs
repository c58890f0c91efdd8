//! The tokens of a template action (`.Config.Cmd`, `$v.A`, `"text"`, `3`, `(`, `|`, `:=`)
//! and the lexer that makes them, with Go's string-literal escapes.

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Dot,
    Field(Vec<String>),
    Var(String, Vec<String>),
    Str(String),
    Num(String),
    Ident(String),
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub tok: Tok,
    /// Whether whitespace separates it from the previous token (`(x).A` vs `(x) .A`).
    pub spaced: bool,
}

/// Tokenises an action body.
pub(super) fn lex(body: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = body.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '|' => {
                i += 1;
                Tok::Pipe
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Declare
            }
            '=' => {
                i += 1;
                Tok::Assign
            }
            '"' => Tok::Str(lex_quoted(&chars, &mut i)?),
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or("unterminated raw quoted string")?;
                let s: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                Tok::Str(s)
            }
            '.' if !chars.get(i + 1).is_some_and(|c| is_ident_char(*c)) => {
                i += 1;
                Tok::Dot
            }
            '.' => Tok::Field(lex_fields(&chars, &mut i)),
            '$' => {
                i += 1;
                let name = lex_word(&chars, &mut i);
                let fields = if chars.get(i) == Some(&'.') {
                    lex_fields(&chars, &mut i)
                } else {
                    Vec::new()
                };
                Tok::Var(if name.is_empty() { "$".into() } else { name }, fields)
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                Tok::Num(chars[start..i].iter().collect())
            }
            c if is_ident_char(c) => Tok::Ident(lex_word(&chars, &mut i)),
            other => return Err(format!("unexpected {other:?} in command")),
        };
        tokens.push(Token { tok, spaced });
        spaced = false;
    }
    Ok(tokens)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex_word(chars: &[char], i: &mut usize) -> String {
    let start = *i;
    while *i < chars.len() && is_ident_char(chars[*i]) {
        *i += 1;
    }
    chars[start..*i].iter().collect()
}

/// `.A.B.C` starting at a `.`.
fn lex_fields(chars: &[char], i: &mut usize) -> Vec<String> {
    let mut fields = Vec::new();
    while chars.get(*i) == Some(&'.') && chars.get(*i + 1).is_some_and(|c| is_ident_char(*c)) {
        *i += 1;
        fields.push(lex_word(chars, i));
    }
    fields
}

/// A Go interpreted string literal starting at `"`.
fn lex_quoted(chars: &[char], i: &mut usize) -> Result<String, String> {
    let mut out = String::new();
    *i += 1;
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match c {
            '"' => return Ok(out),
            '\\' => {
                let e = chars.get(*i).copied().ok_or("unterminated quoted string")?;
                *i += 1;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' => '\\',
                    '"' => '"',
                    '\'' => '\'',
                    other => return Err(format!("unknown escape sequence: \\{other}")),
                });
            }
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

pub(super) fn describe(tok: &Tok) -> String {
    match tok {
        Tok::RParen => "\")\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Ident(i) => format!("<{i}>"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_fields_variables_and_literals() {
        let toks: Vec<Tok> = lex(r#".Config.Cmd $v.A $ "a\tb" 3 (x).Y"#)
            .expect("lexes")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            toks,
            vec![
                Tok::Field(vec!["Config".into(), "Cmd".into()]),
                Tok::Var("v".into(), vec!["A".into()]),
                Tok::Var("$".into(), vec![]),
                Tok::Str("a\tb".into()),
                Tok::Num("3".into()),
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::RParen,
                Tok::Field(vec!["Y".into()]),
            ]
        );
    }
}
