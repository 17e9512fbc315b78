//! Terminal tables that fit: the width to fit (`COLUMNS`, else the terminal's, else none) and
//! a renderer that shortens the widest text columns, cutting cells with `…`, until a table fits.

use comfy_table::{Cell, CellAlignment, Table, presets};

/// Where a cell too long for its column is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Never cut (numbers, short codes).
    Never,
    /// Keep the start: `marketing_fa…`.
    End,
    /// Keep the end, for paths with a line: `…/orders_etl.py:33`.
    Start,
}

/// One column of a fitted table.
pub struct Column<'r, R> {
    /// Header text.
    pub header: &'static str,
    /// Right-aligned (numbers).
    pub right: bool,
    /// How a long cell is shortened.
    pub cut: Cut,
    /// Left out (last optional first) when the table cannot fit with it.
    pub optional: bool,
    /// The cell of a row.
    pub cell: Box<dyn Fn(&R) -> String + 'r>,
}

impl<'r, R> Column<'r, R> {
    /// A text column cut at the end.
    pub fn text(header: &'static str, cell: impl Fn(&R) -> String + 'r) -> Self {
        Column {
            header,
            right: false,
            cut: Cut::End,
            optional: false,
            cell: Box::new(cell),
        }
    }

    /// A right-aligned number column, never cut.
    pub fn number(header: &'static str, cell: impl Fn(&R) -> usize + 'r) -> Self {
        Column {
            header,
            right: true,
            cut: Cut::Never,
            optional: false,
            cell: Box::new(move |r| cell(r).to_string()),
        }
    }

    /// The same column with another way of cutting.
    pub fn cut(mut self, cut: Cut) -> Self {
        self.cut = cut;
        self
    }

    /// The same column, left out when the table cannot fit with it.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// The width output should fit: a positive `COLUMNS`, else the terminal's when stdout is one,
/// else none (a pipe or a file gets whole cells).
pub fn target_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(c);
    }
    Table::new().width().map(usize::from)
}

/// Columns are drawn as `│ a ┆ b │`: three characters each, one more at the end.
const BORDER_PER_COLUMN: usize = 3;

/// The narrowest a cut column gets: its header, and at least a few characters of content.
fn min_width(header: &str) -> usize {
    header.chars().count().max(6)
}

/// Renders rows as a table no wider than `width` (when it is known and the columns' minimum
/// widths allow), cutting the widest cuttable columns first.
pub fn render<R>(columns: &[Column<'_, R>], rows: &[R], width: Option<usize>) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|c| (c.cell)(r)).collect())
        .collect();
    let full: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([c.header.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Shown columns and their widths: shrink the widest cuttable ones; when that is not
    // enough, leave out the last optional column and start again.
    let mut shown: Vec<usize> = (0..columns.len()).collect();
    let mut widths = full.clone();
    if let Some(limit) = width {
        loop {
            widths = full.clone();
            let mut total: usize = shown.iter().map(|&i| widths[i]).sum::<usize>()
                + BORDER_PER_COLUMN * shown.len()
                + 1;
            while total > limit {
                let widest = shown
                    .iter()
                    .copied()
                    .filter(|&i| {
                        columns[i].cut != Cut::Never && widths[i] > min_width(columns[i].header)
                    })
                    .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
                let Some(i) = widest else { break };
                widths[i] -= 1;
                total -= 1;
            }
            let optional = shown.iter().rposition(|&i| columns[i].optional);
            match optional {
                Some(k) if total > limit => {
                    shown.remove(k);
                }
                _ => break,
            }
        }
    }
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header(shown.iter().map(|&i| columns[i].header));
    for row in &cells {
        table.add_row(shown.iter().map(|&i| {
            let cell = Cell::new(shorten(&row[i], widths[i], columns[i].cut));
            if columns[i].right {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    let mut out = table.to_string();
    out.push('\n');
    out
}

/// `text` cut to `width` characters with `…` where `cut` says, or as it is when it fits.
pub fn shorten(text: &str, width: usize, cut: Cut) -> String {
    let n = text.chars().count();
    if n <= width || cut == Cut::Never || width == 0 {
        return text.to_string();
    }
    match cut {
        Cut::Start => {
            let tail: String = text.chars().skip(n - (width - 1)).collect();
            format!("…{tail}")
        }
        _ => {
            let head: String = text.chars().take(width - 1).collect();
            format!("{head}…")
        }
    }
}

/// `line` wrapped to `width` after its separators (`,`, `;`, `:`, `·`), continuation lines
/// indented four more than the line; each line ends with a newline. As it is without a width; a
/// piece longer than the width stays whole.
pub fn wrap(line: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return format!("{line}\n");
    };
    let body = line.trim_start_matches(' ');
    let lead = &line[..line.len() - body.len()];
    // Pieces end after a separator, so `3 nodes` never splits.
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for word in body.split(' ') {
        if !piece.is_empty() {
            piece.push(' ');
        }
        piece.push_str(word);
        if word == "·" || word.ends_with([',', ';', ':']) {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    let mut out = String::new();
    let mut current = lead.to_string();
    let mut empty = true;
    for piece in pieces {
        let len = current.chars().count();
        if !empty && len + 1 + piece.chars().count() > width {
            out.push_str(current.trim_end());
            out.push('\n');
            current = format!("{lead}    ");
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(&piece);
        empty = false;
    }
    out.push_str(current.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column<'static, (String, String, usize)>> {
        vec![
            Column::text("name", |r: &(String, String, usize)| r.0.clone()),
            Column::text("file:line", |r: &(String, String, usize)| r.1.clone()).cut(Cut::Start),
            Column::number("nodes", |r: &(String, String, usize)| r.2),
        ]
    }

    fn rows() -> Vec<(String, String, usize)> {
        vec![
            (
                "a_rather_long_pipeline_name".into(),
                "corpus/airflow/very/deep/folder/orders_etl.py:33".into(),
                3,
            ),
            ("short".into(), "b.py:1".into(), 12345),
        ]
    }

    #[test]
    fn a_table_is_cut_to_the_width_and_keeps_the_line_numbers() {
        let out = render(&columns(), &rows(), Some(50));
        for line in out.lines() {
            assert!(line.chars().count() <= 50, "{line:?} in\n{out}");
        }
        assert!(out.contains("…/orders_etl.py:33"), "{out}");
        assert!(out.contains("a_rather_l"), "{out}");
        assert!(out.contains("12345"), "{out}");
    }

    #[test]
    fn an_optional_column_is_left_out_when_nothing_else_fits() {
        let mut cols = columns();
        cols[2] = Column::number("nodes", |r: &(String, String, usize)| r.2).optional();
        let out = render(&cols, &rows(), Some(28));
        assert!(!out.contains("nodes"), "{out}");
        for line in out.lines() {
            assert!(line.chars().count() <= 28, "{line:?} in\n{out}");
        }
        assert!(render(&cols, &rows(), Some(60)).contains("nodes"));
    }

    #[test]
    fn without_a_width_cells_are_whole() {
        let out = render(&columns(), &rows(), None);
        assert!(out.contains("corpus/airflow/very/deep/folder/orders_etl.py:33"));
        assert!(!out.contains('…'));
    }

    #[test]
    fn summary_lines_wrap_at_spaces() {
        assert_eq!(
            wrap("x: 1 a, 22 bb, 3 c", Some(10)),
            "x: 1 a,\n    22 bb,\n    3 c\n"
        );
        assert_eq!(wrap("  e: 1 a, 2 b", Some(9)), "  e: 1 a,\n      2 b\n");
        assert_eq!(wrap("a bb ccc", None), "a bb ccc\n");
    }

    #[test]
    fn shorten_cuts_at_either_end() {
        assert_eq!(shorten("abcdef", 4, Cut::End), "abc…");
        assert_eq!(shorten("abcdef", 4, Cut::Start), "…def");
        assert_eq!(shorten("abcdef", 4, Cut::Never), "abcdef");
        assert_eq!(shorten("abc", 4, Cut::End), "abc");
    }
}
