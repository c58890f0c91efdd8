//! Running a parsed template: scopes and variables, field lookup, pipelines, and calls into
//! `funcs`.

use super::funcs::{call_function, HEADER_FUNCTIONS};
use super::template::{Arg, Node, Pipe, Template, TemplateError};
use super::Data;

/// How a template runs: on a plain value, a table header, or a docker CLI list context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Value,
    Header,
    /// `{{json .}}` of the context itself is HTML-escaped, as the docker CLI's contexts
    /// marshal themselves with `json.Marshal`.
    ListContext,
}

pub(super) fn execute(t: &Template, dot: &Data, mode: Mode) -> Result<String, TemplateError> {
    let mut state = State {
        out: String::new(),
        vars: vec![("$".into(), dot.clone())],
        mode,
    };
    state.walk(&t.nodes, dot)?;
    Ok(state.out)
}

struct State {
    out: String,
    /// Variables in scope, innermost last; the first is `$`, the template's data.
    vars: Vec<(String, Data)>,
    mode: Mode,
}

/// A failure at a pipe, worded as Go's `ExecError`.
fn exec_error(pipe: &Pipe, at: &str, msg: impl std::fmt::Display) -> TemplateError {
    TemplateError(format!(
        ":{}:{}: executing \"\" at <{}>: {msg}",
        pipe.line, pipe.col, at
    ))
}

impl State {
    fn walk(&mut self, nodes: &[Node], dot: &Data) -> Result<(), TemplateError> {
        for node in nodes {
            match node {
                Node::Text(text) => self.out.push_str(text),
                Node::Action(pipe) => {
                    let value = self.eval_pipe(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        self.out.push_str(&value.to_go_string());
                    } else {
                        self.declare(&pipe.decl, value);
                    }
                }
                Node::If(pipe, then, otherwise) => {
                    let mark = self.vars.len();
                    let value = self.eval_pipe(pipe, dot)?;
                    let truthy = value.is_truthy();
                    self.declare(&pipe.decl, value);
                    self.walk(if truthy { then } else { otherwise }, dot)?;
                    self.vars.truncate(mark);
                }
                Node::With(pipe, body, otherwise) => {
                    let mark = self.vars.len();
                    let value = self.eval_pipe(pipe, dot)?;
                    if value.is_truthy() {
                        self.declare(&pipe.decl, value.clone());
                        self.walk(body, &value)?;
                    } else {
                        self.walk(otherwise, dot)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range(pipe, body, otherwise) => self.range(pipe, body, otherwise, dot)?,
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        pipe: &Pipe,
        body: &[Node],
        otherwise: &[Node],
        dot: &Data,
    ) -> Result<(), TemplateError> {
        let value = self.eval_pipe(pipe, dot)?;
        let entries: Vec<(Data, Data)> = match value {
            Data::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Data::int(i as i64), v))
                .collect(),
            Data::Map(mut pairs) => {
                // Go ranges over a map in key order.
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs.into_iter().map(|(k, v)| (Data::Str(k), v)).collect()
            }
            Data::Null => Vec::new(),
            other => {
                return Err(exec_error(
                    pipe,
                    &pipe.text,
                    format!("range can't iterate over {}", other.to_go_string()),
                ))
            }
        };
        if entries.is_empty() {
            return self.walk(otherwise, dot);
        }
        for (key, item) in entries {
            let mark = self.vars.len();
            match pipe.decl.as_slice() {
                [v] => self.vars.push((v.clone(), item.clone())),
                [k, v] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), item.clone()));
                }
                _ => {}
            }
            self.walk(body, &item)?;
            self.vars.truncate(mark);
        }
        Ok(())
    }

    fn declare(&mut self, names: &[String], value: Data) {
        if let Some(name) = names.last() {
            match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value,
                None => self.vars.push((name.clone(), value)),
            }
        }
    }

    fn eval_pipe(&mut self, pipe: &Pipe, dot: &Data) -> Result<Data, TemplateError> {
        let mut previous = None;
        for cmd in &pipe.cmds {
            previous = Some(self.eval_command(pipe, cmd, dot, previous)?);
        }
        Ok(previous.unwrap_or(Data::Null))
    }

    fn eval_command(
        &mut self,
        pipe: &Pipe,
        cmd: &[Arg],
        dot: &Data,
        piped: Option<Data>,
    ) -> Result<Data, TemplateError> {
        let Some(first) = cmd.first() else {
            return Ok(Data::Null);
        };
        if let Arg::Func(name) = first {
            let mut args = Vec::with_capacity(cmd.len());
            for arg in &cmd[1..] {
                args.push(self.eval_arg(pipe, arg, dot)?);
            }
            args.extend(piped);
            return self.call(pipe, name, args);
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err(exec_error(
                pipe,
                &pipe.text,
                format!(
                    "can't give argument to non-function {}",
                    describe_arg(first)
                ),
            ));
        }
        self.eval_arg(pipe, first, dot)
    }

    fn eval_arg(&mut self, pipe: &Pipe, arg: &Arg, dot: &Data) -> Result<Data, TemplateError> {
        match arg {
            Arg::Dot => Ok(dot.clone()),
            Arg::Literal(d) => Ok(d.clone()),
            Arg::Field(fields) => walk_fields(pipe, dot, fields, ""),
            Arg::Var(name, fields) => {
                let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(TemplateError(format!(
                        ":{}: undefined variable: ${}",
                        pipe.line,
                        name.trim_start_matches('$')
                    )));
                };
                let prefix = if name == "$" {
                    "$".to_owned()
                } else {
                    format!("${name}")
                };
                walk_fields(pipe, &value.clone(), fields, &prefix)
            }
            Arg::Func(name) => self.call(pipe, name, Vec::new()),
            Arg::Sub(inner, fields) => {
                let value = self.eval_pipe(inner, dot)?;
                walk_fields(pipe, &value, fields, "")
            }
        }
    }

    fn call(&self, pipe: &Pipe, name: &str, args: Vec<Data>) -> Result<Data, TemplateError> {
        if self.mode == Mode::Header && HEADER_FUNCTIONS.contains(&name) {
            return Ok(args.into_iter().next().unwrap_or(Data::Null));
        }
        if self.mode == Mode::ListContext
            && name == "json"
            && args.len() == 1
            && args[0] == self.vars[0].1
        {
            return Ok(Data::Str(args[0].to_go_json_html_escaped()));
        }
        call_function(name, args)
            .map_err(|msg| exec_error(pipe, name, format!("error calling {name}: {msg}")))
    }
}

fn describe_arg(arg: &Arg) -> String {
    match arg {
        Arg::Dot => ".".into(),
        Arg::Field(f) => format!(".{}", f.join(".")),
        Arg::Var(v, f) if f.is_empty() => format!("${}", v.trim_start_matches('$')),
        Arg::Var(v, f) => format!("${}.{}", v.trim_start_matches('$'), f.join(".")),
        Arg::Literal(d) => d.to_go_string(),
        Arg::Func(n) => n.clone(),
        Arg::Sub(..) => "(...)".into(),
    }
}

/// `.A.B` on `value`: a missing member of a struct-like object is an error (as a Go
/// struct field would be), of a map `<no value>`.
fn walk_fields(
    pipe: &Pipe,
    value: &Data,
    fields: &[String],
    prefix: &str,
) -> Result<Data, TemplateError> {
    let mut current = value.clone();
    for (i, field) in fields.iter().enumerate() {
        let at = format!("{prefix}.{}", fields[..=i].join("."));
        current = match &current {
            Data::Map(_) => match current.get(field) {
                Some(v) => v.clone(),
                None if current.looks_like_struct() => {
                    return Err(exec_error(
                        pipe,
                        &at,
                        format!("can't evaluate field {field} in type struct"),
                    ))
                }
                None => Data::Null,
            },
            Data::Null => Data::Null,
            other => {
                return Err(exec_error(
                    pipe,
                    &at,
                    format!("can't evaluate field {field} in type {}", other.type_name()),
                ))
            }
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> Data {
        serde_json::from_str(json).expect("valid JSON")
    }

    fn run(template: &str, dot: &str) -> String {
        Template::parse(template)
            .expect("parses")
            .execute(&data(dot))
            .expect("runs")
    }

    fn run_err(template: &str, dot: &str) -> String {
        Template::parse(template)
            .expect("parses")
            .execute(&data(dot))
            .expect_err("fails")
            .to_string()
    }

    #[test]
    fn fields_nested_fields_and_tabs() {
        let dot = r#"{"ID":"abc","Config":{"Cmd":["sh","-c"],"Labels":{"a":"1"}}}"#;
        assert_eq!(run("{{.ID}}\t{{.Config.Cmd}}", dot), "abc\t[sh -c]");
        assert_eq!(run("{{.Config.Labels}}", dot), "map[a:1]");
        assert_eq!(run("{{.Config.Labels.missing}}", dot), "<no value>");
    }

    #[test]
    fn missing_struct_field_is_an_error() {
        assert_eq!(
            run_err("{{.Nope}}", r#"{"ID":"x"}"#),
            "template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type struct"
        );
    }

    #[test]
    fn json_join_index_case_functions() {
        let dot = r#"{"Tags":["a","b"],"M":{"k":"v"},"Name":"Web"}"#;
        assert_eq!(run("{{json .Tags}}", dot), r#"["a","b"]"#);
        assert_eq!(run("{{join .Tags \", \"}}", dot), "a, b");
        assert_eq!(run("{{index .M \"k\"}} {{index .Tags 1}}", dot), "v b");
        assert_eq!(run("{{upper .Name}} {{.Name | lower}}", dot), "WEB web");
        assert_eq!(
            run("{{json .}}", dot),
            r#"{"Tags":["a","b"],"M":{"k":"v"},"Name":"Web"}"#
        );
        assert_eq!(run("{{split \"a:b\" \":\"}}", dot), "[a b]");
        assert_eq!(
            run("{{truncate .Name 2}}|{{pad .Name 1 2}}|", dot),
            "We| Web  |"
        );
    }

    #[test]
    fn printf_basics() {
        let dot = r#"{"N":"web","C":3}"#;
        assert_eq!(run(r#"{{printf "%s-%d" .N .C}}"#, dot), "web-3");
        assert_eq!(
            run(r#"{{printf "%-5s|%3d|%q" .N .C .N}}"#, dot),
            "web  |  3|\"web\""
        );
        assert_eq!(run(r#"{{printf "%.2s" .N}}"#, dot), "we");
    }

    #[test]
    fn if_else_if_else() {
        let t = "{{if eq .A \"x\"}}X{{else if .B}}B{{else}}none{{end}}";
        assert_eq!(run(t, r#"{"A":"x","B":true}"#), "X");
        assert_eq!(run(t, r#"{"A":"y","B":true}"#), "B");
        assert_eq!(run(t, r#"{"A":"y","B":false}"#), "none");
        assert_eq!(run("{{if not .A}}empty{{end}}", r#"{"A":""}"#), "empty");
        assert_eq!(
            run("{{if and .A .B}}both{{end}}", r#"{"A":"1","B":2}"#),
            "both"
        );
    }

    #[test]
    fn range_with_variables_and_else() {
        let dot = r#"{"L":["a","b"],"M":{"z":"1","a":"2"},"E":[]}"#;
        assert_eq!(run("{{range .L}}[{{.}}]{{end}}", dot), "[a][b]");
        assert_eq!(
            run("{{range $i, $v := .L}}{{$i}}={{$v}} {{end}}", dot),
            "0=a 1=b "
        );
        assert_eq!(
            run("{{range $k, $v := .M}}{{$k}}:{{$v}};{{end}}", dot),
            "a:2;z:1;"
        );
        assert_eq!(run("{{range .E}}x{{else}}none{{end}}", dot), "none");
        assert_eq!(run("{{range .L}}{{$.M.a}}{{end}}", dot), "22");
    }

    #[test]
    fn with_and_variables() {
        let dot = r#"{"C":{"V":"1.43"},"X":""}"#;
        assert_eq!(run("{{with .C}}v{{.V}}{{end}}", dot), "v1.43");
        assert_eq!(run("{{with .X}}y{{else}}n{{end}}", dot), "n");
        assert_eq!(run("{{$v := .C.V}}{{$v}}", dot), "1.43");
        assert_eq!(run("{{(index .C \"V\")}}", dot), "1.43");
    }

    #[test]
    fn header_mode_passes_function_arguments_through() {
        let t = Template::parse("{{.Name | upper}}\t{{json .ID}}").expect("parses");
        let header = data(r#"{"Name":"NAME","ID":"IMAGE ID"}"#);
        assert_eq!(t.execute_header(&header).expect("runs"), "NAME\tIMAGE ID");
    }

    #[test]
    fn argument_to_non_function_is_an_error() {
        assert!(run_err("{{.A | .B}}", r#"{"A":"1","B":"2"}"#)
            .contains("can't give argument to non-function .B"));
    }
}
