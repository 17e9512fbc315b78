//! Import resolution: local names to qualified names, so readers match `af.task` and `t` alike.

use crate::python::ast::{self, Expr, Stmt};
use std::collections::HashMap;

/// Local name → fully qualified dotted name, from a module's import statements.
#[derive(Debug, Default, Clone)]
pub struct ImportMap {
    names: HashMap<String, String>,
    /// Every module path imported (for framework detection).
    pub modules: Vec<String>,
    /// Modules imported with `*`.
    pub star_modules: Vec<String>,
}

impl ImportMap {
    /// Collects the imports of a module, including those nested in `if`/`try` blocks.
    pub fn from_suite(suite: &[Stmt]) -> ImportMap {
        let mut map = ImportMap::default();
        map.collect(suite);
        map
    }

    fn collect(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::Import(s) => {
                    for alias in &s.names {
                        let module = alias.name.to_string();
                        self.modules.push(module.clone());
                        match &alias.asname {
                            Some(asname) => {
                                self.names.insert(asname.to_string(), module);
                            }
                            None => {
                                let top = module.split('.').next().unwrap_or(&module).to_string();
                                self.names.insert(top.clone(), top);
                            }
                        }
                    }
                }
                Stmt::ImportFrom(s) => {
                    let level = s.level as usize;
                    let module = format!(
                        "{}{}",
                        ".".repeat(level),
                        s.module.as_ref().map_or("", |m| m.as_str())
                    );
                    self.modules.push(module.clone());
                    for alias in &s.names {
                        if alias.name.as_str() == "*" {
                            self.star_modules.push(module.clone());
                            continue;
                        }
                        let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                        let sep = if module.ends_with('.') || module.is_empty() {
                            ""
                        } else {
                            "."
                        };
                        self.names
                            .insert(local, format!("{module}{sep}{}", alias.name));
                    }
                }
                Stmt::If(s) => {
                    self.collect(&s.body);
                    for clause in &s.elif_else_clauses {
                        self.collect(&clause.body);
                    }
                }
                Stmt::Try(s) => {
                    self.collect(&s.body);
                    // `except*` handlers were never read for imports.
                    if !s.is_star {
                        for h in &s.handlers {
                            let ast::ExceptHandler::ExceptHandler(h) = h;
                            self.collect(&h.body);
                        }
                    }
                    self.collect(&s.orelse);
                    self.collect(&s.finalbody);
                }
                _ => {}
            }
        }
    }

    /// The qualified name a local name is bound to by an import.
    pub fn get(&self, local: &str) -> Option<&str> {
        self.names.get(local).map(String::as_str)
    }

    /// The qualified dotted name of a `Name` / `Attribute` chain, resolving its head through the
    /// imports; unimported heads are returned as written.
    /// Chains longer than [`MAX_DOTTED`] name nothing importable and give `None`.
    pub fn qualify(&self, expr: &Expr) -> Option<String> {
        let mut attrs: Vec<&str> = Vec::new();
        let mut at = expr;
        while let Expr::Attribute(a) = at {
            if attrs.len() == MAX_DOTTED {
                return None;
            }
            attrs.push(a.attr.as_str());
            at = &a.value;
        }
        let Expr::Name(n) = at else {
            return None;
        };
        let mut out = self
            .get(n.id.as_str())
            .map_or_else(|| n.id.to_string(), str::to_string);
        for attr in attrs.iter().rev() {
            out.push('.');
            out.push_str(attr);
        }
        Some(out)
    }

    /// True when any import comes from `package` or one of its submodules.
    pub fn imports_from(&self, package: &str) -> bool {
        self.modules
            .iter()
            .any(|m| m == package || m.starts_with(&format!("{package}.")))
    }
}

/// Longest dotted name [`ImportMap::qualify`] resolves (real module paths are a handful of parts).
pub const MAX_DOTTED: usize = 64;

/// The last component of a dotted name (`airflow.sdk.task` → `task`).
pub fn last_part(qualified: &str) -> &str {
    qualified.rsplit('.').next().unwrap_or(qualified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str) -> (ImportMap, ast::Suite) {
        let suite = crate::python::parse::parse_suite(src).unwrap();
        (ImportMap::from_suite(&suite), suite)
    }

    #[test]
    fn resolves_aliases() {
        let (m, _) = map(
            "from airflow.sdk import dag as d, task\nimport airflow.sdk as af\nimport pendulum\nimport os.path\n",
        );
        assert_eq!(m.get("d"), Some("airflow.sdk.dag"));
        assert_eq!(m.get("task"), Some("airflow.sdk.task"));
        assert_eq!(m.get("af"), Some("airflow.sdk"));
        assert_eq!(m.get("os"), Some("os"));
        assert!(m.imports_from("airflow"));
        assert!(!m.imports_from("air"));
    }

    #[test]
    fn qualifies_attribute_chains() {
        let (m, _) = map("import airflow.sdk as af\n");
        let e = crate::python::parse::parse_expression("af.task.bash").unwrap();
        assert_eq!(m.qualify(&e).as_deref(), Some("airflow.sdk.task.bash"));
    }

    #[test]
    fn reads_conditional_imports() {
        let (m, _) = map(
            "try:\n    from airflow.sdk import dag\nexcept ImportError:\n    from airflow.decorators import dag\n",
        );
        assert_eq!(m.get("dag"), Some("airflow.decorators.dag"));
        assert_eq!(m.modules.len(), 2);
    }
}
