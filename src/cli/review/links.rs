//! Links of a review page: relative `href`s from the page's folder to the source files, and the
//! names of the per-pipeline pages.

use std::path::{Component, Path, PathBuf};

/// The absolute, symlink-resolved form of `path`: canonical for its longest existing ancestor,
/// with the rest appended (a page's folder may not exist yet).
fn resolved(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut head = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(head) {
            return Some(rest.iter().rev().fold(c, |p, part| p.join(part)));
        }
        rest.push(head.file_name()?.to_owned());
        head = head.parent()?;
    }
}

/// A relative URL from the folder `from` to the file `to` (`../dags/etl.py`), each segment
/// percent-encoded so that no name can end the attribute, start a scheme (`javascript:`) or a
/// fragment; `None` when there is no relative path (another drive, an unresolvable path).
pub fn relative_href(from: &Path, to: &Path) -> Option<String> {
    let (from, to) = (resolved(from)?, resolved(to)?);
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    if a.first() != b.first() {
        return None;
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut segments: Vec<String> = vec!["..".to_string(); a.len() - common];
    for c in &b[common..] {
        match c {
            Component::Normal(s) => segments.push(encode_segment(&s.to_string_lossy())),
            _ => return None,
        }
    }
    (!segments.is_empty()).then(|| segments.join("/"))
}

/// Percent-encodes one path segment: everything but ASCII letters, digits and `-._~`.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file name of pipeline number `index`'s own page: `0042-orders_etl.html` (the number keeps
/// names unique, the id, reduced to letters, digits, `-` and `_` and cut at 60, keeps them legible).
pub fn page_name(index: usize, id: &str) -> String {
    let slug: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    format!("{index:04}-{slug}.html")
}

/// Whether a file name is one [`page_name`] makes.
pub fn is_page_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".html") else {
        return false;
    };
    let Some((number, slug)) = stem.split_once('-') else {
        return false;
    };
    number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The folder of per-pipeline pages beside `out`: `review.html` → `review-pipelines`.
pub fn pages_folder(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "review".into());
    out.with_file_name(format!("{stem}-pipelines"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_are_relative_and_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("dags/odd name#1:\"x\".py");
        std::fs::create_dir_all(src.parent().unwrap()).unwrap();
        std::fs::write(&src, "").unwrap();
        let out = dir.path().join("site/new");
        assert_eq!(
            relative_href(&out, &src).as_deref(),
            Some("../../dags/odd%20name%231%3A%22x%22.py")
        );
        assert_eq!(
            relative_href(dir.path(), &src).as_deref(),
            Some("dags/odd%20name%231%3A%22x%22.py")
        );
    }

    #[test]
    fn page_names_are_recognised() {
        let n = page_name(7, "a/b c<d>");
        assert_eq!(n, "0007-a_b_c_d_.html");
        assert!(is_page_name(&n));
        assert!(!is_page_name("notes.html") && !is_page_name("0007-x.txt"));
        assert_eq!(
            pages_folder(Path::new("out/review.html")),
            Path::new("out/review-pipelines")
        );
    }
}
