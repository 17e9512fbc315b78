//! A step's inputs as expressions of the dag body (an upstream's variable, an operator's
//! `.output`), and chained calls such as `.partial(...).expand(...)`.

use crate::emit::plan::{Plan, Source};
use crate::ir::NodeKind;
use crate::python::print::{self as python, Expr, identifier};

/// A step's input as an expression in the dag body.
pub(super) fn input_expr(plan: &Plan, s: &Source) -> Expr {
    match s {
        // External assets are not steps in Airflow: their value is not passed.
        Source::Step(i) if plan.steps[*i].node.kind == NodeKind::ExternalAsset => Expr::raw("None"),
        // A classic operator's value is its XComArg: `op.output` (the operator object would be
        // passed as a plain value, and Airflow would record no edge).
        Source::Step(i) if plan.steps[*i].node.operator.is_some() => {
            Expr::raw(format!("{}.output", plan.steps[*i].var))
        }
        Source::Step(i) => Expr::raw(plan.steps[*i].var.clone()),
        Source::Steps(list) => Expr::List(
            list.iter()
                .map(|i| input_expr(plan, &Source::Step(*i)))
                .collect(),
        ),
        Source::Literal(v) => python::value(v),
        Source::Param(n) => Expr::raw(identifier(n)),
    }
}

/// `base.method(args)` where `base` may itself be a call (kept on the first line).
pub(super) fn chain_call(base: Expr, method: &str, args: Vec<Expr>) -> Expr {
    Expr::call(&format!("{}.{method}", base.flat()), args)
}
