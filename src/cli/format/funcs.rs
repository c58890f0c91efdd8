//! The functions templates may call, as the docker CLI offers them: Go's builtins (`and or
//! not len index print printf println eq ne lt le gt ge`) and Docker's (`json split join
//! title lower upper pad truncate`). Each takes evaluated arguments and returns a value or
//! Go's error text.

use super::Data;

const FUNCTIONS: &[&str] = &[
    "and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt",
    "ge", "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// Docker's header functions: in a table header they return their first argument.
pub(super) const HEADER_FUNCTIONS: &[&str] = &[
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

pub(super) fn is_function(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

fn arity(name: &str, args: &[Data], want: usize) -> Result<(), String> {
    if args.len() == want {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ))
    }
}

fn text_of(d: &Data) -> String {
    d.to_go_string()
}

fn int_of(d: &Data) -> Result<i64, String> {
    match d {
        Data::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| format!("{n} is not an integer")),
        other => Err(format!("expected integer; found {}", other.to_go_string())),
    }
}

pub(super) fn call_function(name: &str, args: Vec<Data>) -> Result<Data, String> {
    match name {
        "json" => {
            arity(name, &args, 1)?;
            Ok(Data::Str(args[0].to_go_json()))
        }
        "lower" | "upper" | "title" => {
            arity(name, &args, 1)?;
            let s = text_of(&args[0]);
            Ok(Data::Str(match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                _ => title(&s),
            }))
        }
        "split" => {
            arity(name, &args, 2)?;
            let (s, sep) = (text_of(&args[0]), text_of(&args[1]));
            Ok(Data::List(s.split(sep.as_str()).map(Data::str).collect()))
        }
        "join" => {
            arity(name, &args, 2)?;
            let Data::List(items) = &args[0] else {
                return Err(format!(
                    "wrong type for value; expected []string; got {}",
                    args[0].type_name()
                ));
            };
            let parts: Vec<String> = items.iter().map(text_of).collect();
            Ok(Data::Str(parts.join(&text_of(&args[1]))))
        }
        "pad" => {
            arity(name, &args, 3)?;
            let (before, after) = (
                int_of(&args[1])?.max(0) as usize,
                int_of(&args[2])?.max(0) as usize,
            );
            Ok(Data::Str(format!(
                "{}{}{}",
                " ".repeat(before),
                text_of(&args[0]),
                " ".repeat(after)
            )))
        }
        "truncate" => {
            arity(name, &args, 2)?;
            let (s, n) = (text_of(&args[0]), int_of(&args[1])?.max(0) as usize);
            // Go slices bytes; cut on a character boundary at or below `n`.
            let mut end = n.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Ok(Data::Str(s[..end].to_owned()))
        }
        "len" => {
            arity(name, &args, 1)?;
            match &args[0] {
                Data::Str(s) => Ok(Data::int(s.len() as i64)),
                Data::List(l) => Ok(Data::int(l.len() as i64)),
                Data::Map(m) => Ok(Data::int(m.len() as i64)),
                other => Err(format!("len of type {}", other.type_name())),
            }
        }
        "index" => index(args),
        "not" => {
            arity(name, &args, 1)?;
            Ok(Data::Bool(!args[0].is_truthy()))
        }
        "and" => Ok(args
            .iter()
            .find(|a| !a.is_truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Data::Null)),
        "or" => Ok(args
            .iter()
            .find(|a| a.is_truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Data::Null)),
        "eq" => {
            let (first, rest) = args
                .split_first()
                .ok_or("missing argument for comparison")?;
            Ok(Data::Bool(rest.iter().any(|other| equal(first, other))))
        }
        "ne" => {
            arity(name, &args, 2)?;
            Ok(Data::Bool(!equal(&args[0], &args[1])))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(name, &args, 2)?;
            let ord = compare(&args[0], &args[1])?;
            Ok(Data::Bool(match name {
                "lt" => ord.is_lt(),
                "le" => ord.is_le(),
                "gt" => ord.is_gt(),
                _ => ord.is_ge(),
            }))
        }
        "print" => Ok(Data::Str(sprint(&args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(text_of).collect();
            Ok(Data::Str(format!("{}\n", parts.join(" "))))
        }
        "printf" => {
            let (fmt, rest) = args.split_first().ok_or("missing format")?;
            Ok(Data::Str(sprintf(&text_of(fmt), rest)))
        }
        other => Err(format!("function {other:?} not defined")),
    }
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if at_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_start = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn index(args: Vec<Data>) -> Result<Data, String> {
    let mut iter = args.into_iter();
    let mut current = iter
        .next()
        .ok_or("wrong number of args for index: want at least 1 got 0")?;
    for key in iter {
        current = match (&current, &key) {
            (Data::Map(pairs), Data::Str(k)) => pairs
                .iter()
                .find(|(name, _)| name == k)
                .map_or(Data::Null, |(_, v)| v.clone()),
            (Data::List(items), Data::Number(_)) => {
                let i = int_of(&key)?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| format!("error calling index: index out of range: {i}"))?
            }
            (Data::Null, _) => Data::Null,
            (other, _) => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(current)
}

fn equal(a: &Data, b: &Data) -> bool {
    match (a, b) {
        (Data::Number(x), Data::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Data, b: &Data) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Data::Number(x), Data::Number(y)) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y))
            .ok_or_else(|| "invalid type for comparison".into()),
        (Data::Str(x), Data::Str(y)) => Ok(x.cmp(y)),
        _ => Err("incompatible types for comparison".into()),
    }
}

/// `fmt.Sprint`: a space between operands when neither side is a string.
fn sprint(args: &[Data]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !matches!(arg, Data::Str(_)) && !matches!(args[i - 1], Data::Str(_)) {
            out.push(' ');
        }
        out.push_str(&text_of(arg));
    }
    out
}

/// `fmt.Sprintf` for the verbs templates use: `%s %v %d %q %t %x %%`, flags `-` and `0`,
/// width and precision.
fn sprintf(fmt: &str, args: &[Data]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut zero = false;
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' | ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let width = take_number(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(take_number(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let mut text = match verb {
            'q' => {
                let mut s = String::new();
                super::data::write_json_string(&mut s, &text_of(arg), false);
                s
            }
            'x' => match arg {
                Data::Number(_) => int_of(arg).map(|i| format!("{i:x}")).unwrap_or_default(),
                other => text_of(other).bytes().map(|b| format!("{b:02x}")).collect(),
            },
            'd' => match int_of(arg) {
                Ok(i) => i.to_string(),
                Err(_) => format!("%!d({})", text_of(arg)),
            },
            _ => text_of(arg),
        };
        if let (Some(p), 's' | 'v') = (precision, verb) {
            text = text.chars().take(p).collect();
        }
        let len = text.chars().count();
        match width {
            Some(w) if w > len && left => {
                text.push_str(&" ".repeat(w - len));
            }
            Some(w) if w > len => {
                let pad = if zero && verb == 'd' { "0" } else { " " };
                text = format!("{}{text}", pad.repeat(w - len));
            }
            _ => {}
        }
        out.push_str(&text);
    }
    for extra in args {
        out.push_str(&format!("%!(EXTRA {})", text_of(extra)));
    }
    out
}

fn take_number(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        chars.next();
    }
    n
}
