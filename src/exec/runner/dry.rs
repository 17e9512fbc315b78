//! The dry runner: every attempt succeeds unless a `--fail` fault names it or its body raises
//! `NotImplementedError` first (a stub); `--hang` makes it hang until its timeout. Deterministic; `ORCHMIG_DRY_SLEEP_MS` adds a real pause per attempt
//! (only for tests that kill a run in the middle).

use std::collections::BTreeMap;

use super::{Attempt, Input, Outcome, Runner};
use crate::exec::fault::Faults;
use crate::ir::SourceFile;

/// The dry runner.
pub struct DryRunner {
    faults: Faults,
    sleep_ms: u64,
    /// Outputs known by key: forced ones, restored ones and those computed from bodies that
    /// only return an expression.
    outputs: BTreeMap<String, serde_json::Value>,
    /// Per (pipeline, node index): the expression its body only returns, if so.
    returned: std::collections::HashMap<(String, usize), Option<crate::python::ast::Expr>>,
}

impl DryRunner {
    /// A dry runner with these faults.
    pub fn new(faults: Faults) -> DryRunner {
        let sleep_ms = std::env::var("ORCHMIG_DRY_SLEEP_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .min(10_000);
        DryRunner {
            faults,
            sleep_ms,
            outputs: BTreeMap::new(),
            returned: std::collections::HashMap::new(),
        }
    }
}

impl DryRunner {
    /// The result of a step whose body only returns an expression (after an optional
    /// docstring) that can be told from known inputs: a gate's `return bool(report["ok"])`, a
    /// branch's `return "load"`. Anything else is unknown, as before. A step's body is parsed
    /// once per run, not once per attempt.
    fn pure_output(&mut self, a: &Attempt) -> Option<serde_json::Value> {
        let c = a.node.callable.as_ref().filter(|c| !c.is_async)?;
        if a.node.operator.is_some() || a.node.mapping.is_some() {
            return None;
        }
        let expr = self
            .returned
            .entry((a.pipeline.id.clone(), a.node_index))
            .or_insert_with(|| returned_expr(&c.body))
            .as_ref()?;
        let mut names = BTreeMap::new();
        for p in &c.params {
            if let Some(v) = p
                .default
                .as_deref()
                .and_then(crate::exec::condition::literal)
            {
                names.insert(p.name.clone(), v);
            }
        }
        for (param, input) in &a.inputs {
            let v = match input {
                Input::Json(v) => Some(v.clone()),
                Input::Output(k) => self.outputs.get(k).cloned(),
                Input::Expr(e) => crate::exec::condition::literal(e),
                _ => None,
            };
            match v {
                Some(v) => names.insert(param.clone(), v),
                None => names.remove(param),
            };
        }
        crate::exec::condition::evaluate(expr, &names)
    }
}

/// Whether a body raises `NotImplementedError` before doing anything else, past its early
/// returns (`if …: return None`, a ported guard): a step orchmig wrote as a stub fails.
fn raises_first(body: &str) -> bool {
    let mut in_guard = false;
    for line in body.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let top = !line.starts_with([' ', '\t']);
        if !top {
            // Continuation of a guard's test or its `return None`.
            if in_guard {
                continue;
            }
            return false;
        }
        if line.starts_with("if ") || line.starts_with(')') {
            in_guard = true;
            continue;
        }
        return line.starts_with("raise NotImplementedError(");
    }
    false
}

/// The expression a body only returns (after an optional docstring), if that is all it does;
/// `x = EXPR` then `return x` (a generated step's shape) returns `EXPR`.
fn returned_expr(body: &str) -> Option<crate::python::ast::Expr> {
    use crate::python::ast::{Expr, Stmt};
    let body = crate::python::parse::parse_body_text(body)?;
    let stmts: Vec<&Stmt> = body
        .iter()
        .filter(|s| !matches!(s, Stmt::Expr(e) if e.value.is_string_literal_expr()))
        .collect();
    match stmts.as_slice() {
        [Stmt::Return(r)] => r.value.as_deref().cloned(),
        [Stmt::Assign(a), Stmt::Return(r)] => match (a.targets.as_slice(), r.value.as_deref()) {
            ([Expr::Name(t)], Some(Expr::Name(x))) if t.id == x.id => Some((*a.value).clone()),
            _ => None,
        },
        _ => None,
    }
}

impl Runner for DryRunner {
    fn name(&self) -> &'static str {
        "dry"
    }

    fn runs_bodies(&self) -> bool {
        false
    }

    fn attempt(&mut self, a: &Attempt) -> Outcome {
        if self.sleep_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.sleep_ms));
        }
        if self.faults.hangs(a.path, a.partition, a.attempt) {
            return Outcome {
                timed_out: true,
                error: Some("injected hang (--hang): killed at its timeout".into()),
                ..Outcome::default()
            };
        }
        if self.faults.fails(a.path, a.partition, a.attempt) {
            return Outcome::failure(format!(
                "injected failure (--fail) of attempt {}",
                a.attempt
            ));
        }
        if let Some(c) = &a.node.callable
            && raises_first(&c.body)
        {
            return Outcome::failure(
                "the step raises NotImplementedError first (a step orchmig has no port of)",
            );
        }
        let mut outcome = Outcome::success();
        if let Some(v) = self.pure_output(a) {
            self.outputs.insert(a.key.clone(), v.clone());
            outcome.truthy = crate::exec::condition::truthy(&v);
            outcome.len = match &v {
                serde_json::Value::Array(x) => Some(x.len()),
                serde_json::Value::Object(x) => Some(x.len()),
                _ => None,
            };
            outcome.output = Some(v);
            outcome.known = true;
        }
        outcome
    }

    fn condition(
        &mut self,
        _file: &SourceFile,
        expr: &str,
        params: &BTreeMap<String, Input>,
    ) -> Option<bool> {
        // Only values known without running Python (parameters, forced outputs) take part.
        let known = params
            .iter()
            .filter_map(|(k, v)| match v {
                Input::Json(j) => Some((k.clone(), j.clone())),
                Input::Expr(e) => crate::exec::condition::literal(e).map(|j| (k.clone(), j)),
                _ => None,
            })
            .collect();
        crate::exec::condition::truth(expr, &known)
    }

    fn restore(&mut self, key: &str, value: &serde_json::Value) {
        self.outputs.insert(key.to_string(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::raises_first;

    #[test]
    fn a_stub_raises_first_past_its_early_returns() {
        assert!(raises_first(
            "raise NotImplementedError(\n    \"no port\"\n)\n"
        ));
        assert!(raises_first(
            "if not (\n    a\n    and b\n):\n    return None\nif c != \"x\":\n    return None\nraise NotImplementedError(\"no port\")\n"
        ));
        assert!(!raises_first(
            "x = 1\nraise NotImplementedError(\"later\")\n"
        ));
        assert!(!raises_first(
            "if x:\n    print(x)\n    raise NotImplementedError()\n"
        ));
        assert!(!raises_first("return 1\n"));
    }
}
