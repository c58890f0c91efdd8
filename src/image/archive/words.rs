//! The Dockerfile word rules that `--change` lines need: splitting an instruction's
//! arguments into words (quotes kept, as the Dockerfile parser does) and the shell-like
//! processing of one word (quote removal, `\` escapes, `$VAR` and `${VAR...}` expansion
//! against the image's environment, as BuildKit's `shell.Lex`).
//!
//! Pure string functions; nothing else of the Dockerfile language lives here.

/// Splits on unquoted whitespace, keeping quotes and escapes inside the words.
pub(super) fn split_words(rest: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            (_, '\\') => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                continue;
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Removes quotes and escapes and expands variables from `env` (`KEY=value` entries).
pub(super) fn process_word(word: &str, env: &[String]) -> Result<String, String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\'' => {
                let end = find(&chars, i + 1, '\'')
                    .ok_or("unexpected end of statement while looking for matching single-quote")?;
                out.extend(&chars[i + 1..end]);
                i = end + 1;
            }
            '"' => i = double_quoted(&chars, i + 1, env, &mut out)?,
            '$' => i = dollar(&chars, i + 1, env, &mut out)?,
            '\\' => {
                match chars.get(i + 1) {
                    Some(&c) => out.push(c),
                    None => out.push('\\'),
                }
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn find(chars: &[char], from: usize, wanted: char) -> Option<usize> {
    (from..chars.len()).find(|&j| chars[j] == wanted)
}

/// Inside `"..."`: `$` expands, `\` escapes only `"`, `$` and `\`. Returns the index after
/// the closing quote.
fn double_quoted(
    chars: &[char],
    mut i: usize,
    env: &[String],
    out: &mut String,
) -> Result<usize, String> {
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok(i + 1),
            '$' => i = dollar(chars, i + 1, env, out)?,
            '\\' if matches!(chars.get(i + 1), Some('"' | '$' | '\\')) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err("unexpected end of statement while looking for matching double-quote".into())
}

/// After a `$`: `${NAME}`, `${NAME:-word}`, `${NAME:+word}` (and without the colon), or
/// `$NAME`; a `$` before anything else is literal. Returns the index after the expansion.
fn dollar(chars: &[char], i: usize, env: &[String], out: &mut String) -> Result<usize, String> {
    if chars.get(i) == Some(&'{') {
        let close = find(chars, i + 1, '}').ok_or("missing '}'")?;
        let body: String = chars[i + 1..close].iter().collect();
        out.push_str(&braced(&body, env)?);
        return Ok(close + 1);
    }
    let end = (i..chars.len())
        .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
        .unwrap_or(chars.len());
    if end == i {
        out.push('$');
        return Ok(i);
    }
    let name: String = chars[i..end].iter().collect();
    out.push_str(lookup(env, &name).unwrap_or_default());
    Ok(end)
}

fn braced(body: &str, env: &[String]) -> Result<String, String> {
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, modifier) = body.split_at(name_end);
    if name.is_empty() {
        return Err(format!("bad substitution: ${{{body}}}"));
    }
    let value = lookup(env, name);
    let (colon, rest) = match modifier.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, modifier),
    };
    let set = match value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    let word = |w: &str| process_word(w, env);
    match rest.chars().next() {
        None if !colon => Ok(value.unwrap_or_default().to_string()),
        Some('-') => {
            if set {
                Ok(value.unwrap_or_default().to_string())
            } else {
                word(&rest[1..])
            }
        }
        Some('+') => {
            if set {
                word(&rest[1..])
            } else {
                Ok(String::new())
            }
        }
        Some('?') => {
            if set {
                Ok(value.unwrap_or_default().to_string())
            } else {
                Err(format!("{name}: {}", word(&rest[1..])?))
            }
        }
        _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
    }
}

fn lookup<'a>(env: &'a [String], name: &str) -> Option<&'a str> {
    env.iter().rev().find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<String> {
        vec!["HOME=/root".into(), "EMPTY=".into()]
    }

    #[test]
    fn words_keep_quotes_and_split_on_spaces() {
        assert_eq!(
            split_words(r#"A=1  B="two words" C=a\ b"#),
            ["A=1", r#"B="two words""#, r"C=a\ b"]
        );
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(process_word(r#""two words""#, &env()).unwrap(), "two words");
        assert_eq!(process_word(r"a\ b", &env()).unwrap(), "a b");
        assert_eq!(process_word(r#"'$HOME'"#, &env()).unwrap(), "$HOME");
        assert_eq!(process_word(r#""a\"b\n""#, &env()).unwrap(), "a\"b\\n");
        assert!(process_word("'open", &env()).is_err());
    }

    #[test]
    fn variables_expand_from_the_environment() {
        assert_eq!(process_word("$HOME/bin", &env()).unwrap(), "/root/bin");
        assert_eq!(process_word("${HOME}x", &env()).unwrap(), "/rootx");
        assert_eq!(process_word("${NOPE:-dflt}", &env()).unwrap(), "dflt");
        assert_eq!(process_word("${EMPTY:-dflt}", &env()).unwrap(), "dflt");
        assert_eq!(process_word("${EMPTY-dflt}", &env()).unwrap(), "");
        assert_eq!(process_word("${HOME:+set}", &env()).unwrap(), "set");
        assert_eq!(process_word("$NOPE.", &env()).unwrap(), ".");
        assert_eq!(process_word("a$", &env()).unwrap(), "a$");
        assert_eq!(process_word(r#""$HOME""#, &env()).unwrap(), "/root");
    }
}
