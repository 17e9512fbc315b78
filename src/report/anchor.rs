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

    /// The 1-based line of `text` the anchor points at: the last needle found, on a line that is
    /// neither blank nor a comment, inside the scope.
    pub fn resolve(&self, lines: &[&str]) -> Option<u32> {
        self.resolve_with(lines, &mut Scopes::default())
    }

    /// [`Anchor::resolve`] with the ranges of the scopes already looked up in `lines` (a
    /// module's entries share a few scopes; looking each up once keeps resolving linear).
    pub fn resolve_with(&self, lines: &[&str], scopes: &mut Scopes) -> Option<u32> {
        let (start, end) = *scopes
            .0
            .entry(self.scope.clone())
            .or_insert_with(|| scope_range(lines, &self.scope))
            .as_ref()?;
        let mut at = start;
        for needle in &self.needles {
            at = (at..end).find(|&i| {
                let t = lines[i].trim_start();
                !t.is_empty() && !t.starts_with('#') && lines[i].contains(needle.as_str())
            })?;
        }
        u32::try_from(at + 1).ok()
    }
}

/// The line ranges of the scopes looked up in one module text.
#[derive(Debug, Default)]
pub struct Scopes(std::collections::HashMap<Scope, Option<(usize, usize)>>);

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

/// The half-open line range of a scope.
fn scope_range(lines: &[&str], scope: &Scope) -> Option<(usize, usize)> {
    match scope {
        Scope::Head(name) | Scope::Body(name) => {
            let def = format!("def {name}(");
            let adef = format!("async def {name}(");
            let is_def = |l: &&str| {
                let t = l.trim_start();
                t.starts_with(&def) || t.starts_with(&adef)
            };
            // A module-level function before a method or a nested function of the same name.
            let at = lines
                .iter()
                .position(|l| indent(l) == 0 && is_def(l))
                .or_else(|| lines.iter().position(is_def))?;
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
