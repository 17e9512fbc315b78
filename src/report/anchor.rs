//! Output anchors: where in a generated module the code of a ledger entry is, found once the
//! module text is final.

use serde::Serialize;

/// The generated line that implements an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The generated file (its name, or its path below `--out`).
    pub path: String,
    /// 1-based line in that file.
    pub line: u32,
}

/// The part of a generated module an anchor is looked up in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The decorator and `def` line(s) of the function of this name.
    Head(String),
    /// The body of the function of this name.
    Body(String),
    /// The first top-level statement that starts with this text, with its continuation lines.
    Statement(String),
    /// The whole module.
    Module,
}

/// What a writer gives when it consumes a construct: a scope and needles, each looked up from
/// the line where the previous one was found; the entry points at the last needle's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Where to look.
    pub scope: Scope,
    /// What to look for, in order (none: the scope's first line).
    pub needles: Vec<String>,
}

impl Anchor {
    /// The first line of a scope (the decorator of a function, a statement's first line).
    pub fn at(scope: Scope) -> Anchor {
        Anchor {
            scope,
            needles: Vec::new(),
        }
    }

    /// `needle` in the decorator or signature of function `func`.
    pub fn head(func: &str, needle: impl Into<String>) -> Anchor {
        Anchor {
            scope: Scope::Head(func.into()),
            needles: vec![needle.into()],
        }
    }

    /// `needle` in the body of function `func`.
    pub fn body(func: &str, needle: impl Into<String>) -> Anchor {
        Anchor {
            scope: Scope::Body(func.into()),
            needles: vec![needle.into()],
        }
    }

    /// `needle` in the top-level statement that starts with `start`.
    pub fn statement(start: &str, needle: impl Into<String>) -> Anchor {
        Anchor {
            scope: Scope::Statement(start.into()),
            needles: vec![needle.into()],
        }
    }

    /// The same anchor, then `needle` from the line found so far.
    pub fn then(mut self, needle: impl Into<String>) -> Anchor {
        self.needles.push(needle.into());
        self
    }

    /// The 1-based line of `lines` the anchor points at: the last needle found, on a line that
    /// is neither blank nor a comment, inside the scope.
    pub fn resolve(&self, lines: &[&str]) -> Option<u32> {
        resolve_all(lines, &[self])[0]
    }
}

/// [`Anchor::resolve`] for many anchors over one module text, in time linear in the text and
/// the matches: each scope is found once and scanned once for all its anchors' needles
/// (Aho-Corasick), then each needle is a binary search in the lines it occurs on. (A DAG of
/// 10,000 tasks has 10,000 anchors in one scope; scanning it once per anchor was quadratic.)
pub fn resolve_all(lines: &[&str], anchors: &[&Anchor]) -> Vec<Option<u32>> {
    use std::collections::HashMap;
    /// One scope: its range, its needles (pattern ids) and the lines each occurs on.
    struct Index<'n> {
        range: Option<(usize, usize)>,
        ids: HashMap<&'n str, usize>,
        lines: Vec<Vec<usize>>,
    }
    let defs = Defs::of(lines);
    let mut scopes: HashMap<&Scope, Index> = HashMap::new();
    for a in anchors {
        let index = scopes.entry(&a.scope).or_insert_with(|| Index {
            range: scope_range(lines, &defs, &a.scope),
            ids: HashMap::new(),
            lines: Vec::new(),
        });
        for n in &a.needles {
            let next = index.ids.len();
            index.ids.entry(n.as_str()).or_insert(next);
        }
    }
    for index in scopes.values_mut() {
        index.lines = vec![Vec::new(); index.ids.len()];
        let Some((start, end)) = index.range else {
            continue;
        };
        let mut patterns = vec![""; index.ids.len()];
        for (n, &id) in &index.ids {
            patterns[id] = n;
        }
        if patterns.is_empty() {
            continue;
        }
        let code = |i: &usize| {
            let t = lines[*i].trim_start();
            !t.is_empty() && !t.starts_with('#')
        };
        // A small scope (a function's head or body) is searched directly; an automaton pays off
        // only for a big one (a DAG body holding every task).
        if (end - start) * patterns.len() <= 4096 {
            for (id, needle) in patterns.iter().enumerate() {
                index.lines[id] = (start..end)
                    .filter(code)
                    .filter(|&i| lines[i].contains(needle))
                    .collect();
            }
            continue;
        }
        let Ok(ac) = aho_corasick::AhoCorasick::new(&patterns) else {
            continue;
        };
        for i in (start..end).filter(code) {
            for m in ac.find_overlapping_iter(lines[i]) {
                let seen = &mut index.lines[m.pattern().as_usize()];
                if seen.last() != Some(&i) {
                    seen.push(i);
                }
            }
        }
    }
    anchors
        .iter()
        .map(|a| {
            let index = &scopes[&a.scope];
            let (start, _) = index.range?;
            let mut at = start;
            for n in &a.needles {
                let on = &index.lines[index.ids[n.as_str()]];
                at = *on.get(on.partition_point(|&l| l < at))?;
            }
            u32::try_from(at + 1).ok()
        })
        .collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn closes(t: &str) -> bool {
    t.starts_with(')') || t.starts_with(']') || t.starts_with('}')
}

/// The first line after `from` that ends a block opened at indentation `level`.
fn block_end(lines: &[&str], from: usize, level: usize, top: bool) -> usize {
    (from..lines.len())
        .find(|&i| {
            let t = lines[i].trim_start();
            !t.is_empty() && indent(lines[i]) <= level && !(top && closes(t))
        })
        .unwrap_or(lines.len())
}

/// Where each function of a module is defined: name → (its first module-level `def` line, its
/// first `def` line at any level). Built once per module text.
#[derive(Default)]
struct Defs(std::collections::HashMap<String, (Option<usize>, usize)>);

impl Defs {
    fn of(lines: &[&str]) -> Defs {
        let mut defs: std::collections::HashMap<String, (Option<usize>, usize)> =
            std::collections::HashMap::new();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let Some(rest) = t
                .strip_prefix("def ")
                .or_else(|| t.strip_prefix("async def "))
            else {
                continue;
            };
            let Some(name) = rest.split_once('(').map(|(n, _)| n) else {
                continue;
            };
            let entry = defs.entry(name.to_string()).or_insert((None, i));
            if entry.0.is_none() && indent(l) == 0 {
                entry.0 = Some(i);
            }
        }
        Defs(defs)
    }
}

/// The half-open line range of a scope.
fn scope_range(lines: &[&str], defs: &Defs, scope: &Scope) -> Option<(usize, usize)> {
    match scope {
        Scope::Head(name) | Scope::Body(name) => {
            // A module-level function before a method or a nested function of the same name.
            let &(top, any) = defs.0.get(name.as_str())?;
            let at = top.unwrap_or(any);
            let level = indent(lines[at]);
            // The signature ends at the first line at the def's level that ends with `:`.
            let sig_end = (at..lines.len())
                .find(|&i| {
                    (i == at || indent(lines[i]) == level) && lines[i].trim_end().ends_with(':')
                })
                .unwrap_or(at);
            if matches!(scope, Scope::Body(_)) {
                return Some((sig_end + 1, block_end(lines, sig_end + 1, level, false)));
            }
            // Decorators: the lines above, up to a blank line or a statement at the def's level.
            let mut start = at;
            while start > 0 {
                let l = lines[start - 1];
                let t = l.trim_start();
                let part = !t.is_empty()
                    && (indent(l) > level
                        || (indent(l) == level && (t.starts_with('@') || closes(t))));
                if !part {
                    break;
                }
                start -= 1;
            }
            Some((start, sig_end + 1))
        }
        Scope::Module => Some((0, lines.len())),
        Scope::Statement(prefix) => {
            let at = lines
                .iter()
                .position(|l| indent(l) == 0 && l.starts_with(prefix.as_str()))?;
            Some((at, block_end(lines, at + 1, 0, true)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "import x\n\n\n@task(\n    retries=3,\n    # retries in a comment\n)\ndef load(\n    a,\n) -> int:\n    retries = 1\n    return a\n\n\n@flow\ndef main():\n    load(1)\n\n\nif __name__ == \"__main__\":\n    main.serve(\n        name=\"x\",\n        tags=[\"a\"],\n    )\n";

    fn at(a: Anchor) -> Option<u32> {
        let lines: Vec<&str> = MODULE.lines().collect();
        a.resolve(&lines)
    }

    #[test]
    fn anchors_resolve_inside_their_scope() {
        assert_eq!(at(Anchor::head("load", "retries")), Some(5));
        assert_eq!(at(Anchor::head("load", "@task")), Some(4));
        assert_eq!(at(Anchor::body("load", "retries")), Some(11));
        assert_eq!(at(Anchor::head("main", "retries")), None);
        assert_eq!(at(Anchor::body("main", "load(")), Some(17));
        assert_eq!(at(Anchor::statement("if __name__", "tags=")), Some(23));
        assert_eq!(
            at(Anchor::statement("if __name__", "main.serve").then("name=")),
            Some(22)
        );
        assert_eq!(at(Anchor::head("nowhere", "x")), None);
        // A method of the same name earlier in the module is not the function.
        let lines = [
            "class C:",
            "    def load(self):",
            "        pass",
            "",
            "def load():",
            "    x",
        ];
        assert_eq!(Anchor::body("load", "x").resolve(&lines), Some(6));
    }
}
