//! Text shown to people: text from user code made safe to show in a terminal, a Markdown
//! document or a comment (a name never carries a raw line end or control character: an escape
//! sequence could clear the screen or retitle the terminal; a line end could start a new Markdown
//! row or heading), and terminal tables fitted to the width (`fit`).

pub mod fit;

/// Minutes as a person reads them: `35 min`, `2 h 10 min`, `3 h`.
pub fn minutes(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Minutes in a narrow cell: `35m`, `2h10m`, `3h`.
pub fn minutes_short(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

/// `s` on one line with every control character (C0, DEL, C1) and Unicode line or paragraph
/// separator written as a visible escape: `\n`, `\r`, `\t`, `\x1b`, `\u2028`.
pub fn inline(s: &str) -> String {
    escape(s, false)
}

/// `s` with control characters escaped as in [`inline`]; `keep_lines` keeps `\n` and `\t` raw.
fn escape(s: &str, keep_lines: bool) -> String {
    let kept = |c: char| keep_lines && matches!(c, '\n' | '\t');
    if !s.chars().any(|c| needs_escape(c) && !kept(c)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if kept(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text for the terminal that may span lines (a diagnostic's message): like [`inline`], but line
/// ends and tabs are kept.
pub fn multiline(s: &str) -> String {
    escape(s, true)
}

/// A Markdown table cell: `inline`, with `|` escaped.
pub fn md_cell(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

fn needs_escape(c: char) -> bool {
    let n = c as u32;
    n < 0x20 || (0x7f..0xa0).contains(&n) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_and_escapes_become_visible() {
        assert_eq!(inline("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(inline("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(inline("x\u{2028}y\u{85}"), "x\\u2028y\\x85");
        assert_eq!(inline("plain é"), "plain é");
        assert_eq!(md_cell("a|b\nc"), "a\\|b\\nc");
        assert_eq!(multiline("a\n\u{1b}[2J\tb"), "a\n\\x1b[2J\tb");
        assert_eq!(
            multiline("C:\\temp"),
            "C:\\temp",
            "a backslash-t in text stays text"
        );
    }
}
