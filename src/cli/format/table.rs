//! Docker's list output: the `--format` argument (`table ...`, `json`, a raw template),
//! rows rendered through the template, and Go's `text/tabwriter` column layout that the
//! docker CLI puts tables through (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`).

use super::{Data, Template, TemplateError};

/// What a `--format` value asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListFormat {
    /// A header line and tabwriter columns.
    pub table: bool,
    /// The row template, with `\t`/`\n` typed by the user already turned into tab/newline.
    pub template: String,
}

impl ListFormat {
    /// Docker's reading of `--format`: empty or `table` -> `default_table`, `json` -> one
    /// JSON object per line, `table <tmpl>` -> a table of `<tmpl>`, else a raw template.
    pub fn parse(format: &str, default_table: &str) -> ListFormat {
        let format = match format.trim() {
            "" | "table" => default_table,
            "json" => "{{json .}}",
            _ => format,
        };
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let template = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        ListFormat { table, template }
    }
}

/// Renders `rows` (and, for a table, the `header` context) as the docker CLI does.
pub fn render_list(
    format: &ListFormat,
    header: &Data,
    rows: &[Data],
) -> Result<String, TemplateError> {
    let template = Template::parse(&format.template)?;
    let mut body = String::new();
    if format.table {
        body.push_str(&template.execute_header(header)?);
        body.push('\n');
    }
    for row in rows {
        body.push_str(&template.execute_row(row)?);
        body.push('\n');
    }
    Ok(if format.table {
        tabwrite(&body, 10, 3)
    } else {
        body
    })
}

/// Go's `text/tabwriter` with padding character `' '` and no flags: tab-terminated cells
/// are aligned in columns of width `max(minwidth, widest cell + padding)`; a column runs
/// over consecutive lines that have that cell, and a line without tabs ends every column.
pub fn tabwrite(text: &str, minwidth: usize, padding: usize) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let pieces: Vec<&str> = text.split('\n').collect();
    let last = pieces.len() - 1;
    let mut block: Vec<Vec<&str>> = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let cells: Vec<&str> = piece.split('\t').collect();
        let single = cells.len() == 1;
        block.push(cells);
        // Go flushes after a completed line with one cell; the unfinished last line is
        // written at the end without a newline.
        if (single && i < last) || i == last {
            let layout = Layout {
                lines: &block,
                minwidth,
                padding,
                partial_last: i == last,
            };
            let mut widths = Vec::new();
            layout.format(&mut out, &mut widths, 0, block.len());
            block.clear();
        }
    }
    out
}

struct Layout<'a> {
    lines: &'a [Vec<&'a str>],
    minwidth: usize,
    padding: usize,
    /// Whether the block's last line is the unterminated end of the text.
    partial_last: bool,
}

impl Layout<'_> {
    /// Go's recursive column pass over `lines[line0..line1]` for column `widths.len()`.
    fn format(&self, out: &mut String, widths: &mut Vec<usize>, mut line0: usize, line1: usize) {
        let column = widths.len();
        let has_column = |line: &Vec<&str>| column + 1 < line.len();
        let mut this = line0;
        while this < line1 {
            if !has_column(&self.lines[this]) {
                this += 1;
                continue;
            }
            self.write_lines(out, widths, line0, this);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 && has_column(&self.lines[this]) {
                width = width.max(self.lines[this][column].chars().count() + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(out, widths, line0, this);
            widths.pop();
            line0 = this;
        }
        self.write_lines(out, widths, line0, line1);
    }

    fn write_lines(&self, out: &mut String, widths: &[usize], line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                out.push_str(cell);
                if let Some(&w) = widths.get(j) {
                    let len = cell.chars().count();
                    out.extend(std::iter::repeat_n(' ', w.saturating_sub(len)));
                }
            }
            if !(self.partial_last && i + 1 == self.lines.len()) {
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_table_layout_matches_docker() {
        let text = "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n\
                    busybox\tlatest\t0123456789ab\t2 weeks ago\t4.26MB\n\
                    <none>\t<none>\tabcdefabcdef\tAbout an hour ago\t1.24kB\n";
        let want = "REPOSITORY   TAG       IMAGE ID       CREATED             SIZE\n\
                    busybox      latest    0123456789ab   2 weeks ago         4.26MB\n\
                    <none>       <none>    abcdefabcdef   About an hour ago   1.24kB\n";
        assert_eq!(tabwrite(text, 10, 3), want);
    }

    #[test]
    fn a_line_without_tabs_ends_the_columns() {
        let text = "a\tb\nlong-line\nxxxxxxxxxxxxxx\ty\n";
        assert_eq!(tabwrite(text, 1, 1), "a b\nlong-line\nxxxxxxxxxxxxxx y\n");
    }

    #[test]
    fn ragged_lines_form_column_blocks() {
        // The second column only spans the lines that have a third cell.
        let text = "a\tbb\tc\nddd\te\n";
        assert_eq!(tabwrite(text, 0, 1), "a   bb c\nddd e\n");
    }

    #[test]
    fn unterminated_last_line_has_no_newline() {
        assert_eq!(tabwrite("a\tb", 0, 1), "a b");
    }

    #[test]
    fn format_values_as_docker_reads_them() {
        let default = "table {{.ID}}\t{{.Size}}";
        assert_eq!(
            ListFormat::parse("", default),
            ListFormat {
                table: true,
                template: "{{.ID}}\t{{.Size}}".into()
            }
        );
        assert_eq!(ListFormat::parse("json", default).template, "{{json .}}");
        let raw = ListFormat::parse("{{.ID}}\\t{{.Tag}}", default);
        assert!(!raw.table);
        assert_eq!(raw.template, "{{.ID}}\t{{.Tag}}");
        assert!(ListFormat::parse("table {{.ID}}", default).table);
    }

    #[test]
    fn render_list_runs_header_and_rows() {
        let format = ListFormat::parse("table {{.ID}}\t{{.Tag}}", "");
        let header = Data::map([("ID", Data::str("IMAGE ID")), ("Tag", Data::str("TAG"))]);
        let rows = [Data::map([
            ("ID", Data::str("abc")),
            ("Tag", Data::str("latest")),
        ])];
        assert_eq!(
            render_list(&format, &header, &rows).expect("renders"),
            "IMAGE ID   TAG\nabc        latest\n"
        );
        let json = ListFormat::parse("json", "");
        assert_eq!(
            render_list(&json, &header, &rows).expect("renders"),
            "{\"ID\":\"abc\",\"Tag\":\"latest\"}\n"
        );
        let rows = [Data::map([("Tag", Data::str("<none>"))])];
        let both = ListFormat::parse("{{json .}} {{json .Tag}}", "");
        assert_eq!(
            render_list(&both, &header, &rows).expect("renders"),
            "{\"Tag\":\"\\u003cnone\\u003e\"} \"<none>\"\n"
        );
    }
}
