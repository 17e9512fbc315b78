//! One pipeline of the module: its `@dag` function, with the steps, groups, checks,
//! condition gates and order edges of its body.

use std::collections::BTreeMap;

use super::body::{Body, Line};
use super::check::write_checks;
use super::condition::{apply_rules, prefect_conditions, write_gates};
use super::dag::{dag_decorator, dag_signature};
use super::group::write_groups;
use super::state::ModuleState;
use super::step::write_steps;
use crate::emit::module::PipelineCtx;
use crate::emit::plan::{Plan, unique};
use crate::emit::shared;
use crate::ir::{NodeKind, Pipeline};
use crate::python::print::{Expr, identifier};

/// Writes pipeline `p` as a `@dag` function and adds its ledger.
pub(super) fn write_pipeline<'f>(m: &mut ModuleState<'f>, p: &'f Pipeline) {
    let (table, target) = (m.table, m.target);
    let mut ledger = shared::ledger_for(m.file, p, target);
    let dag_name = unique(&mut m.names.taken, &identifier(&p.id));
    let mut plan = Plan::new(p, &mut m.names);
    plan.bind_run_loggers(target.framework);
    let conditions = prefect_conditions(m, p);
    apply_rules(&conditions, &mut plan, &dag_name, &mut ledger, table);
    let mut body = Body::default();
    write_groups(m, p, &dag_name, &mut body, &mut ledger);
    write_steps(m, &mut plan, &dag_name, &mut body, &mut ledger);
    write_checks(m, &plan, &mut body, &mut ledger);
    write_gates(m, &plan, &conditions, &dag_name, &mut body, &mut ledger);
    wire_order(&plan, &mut body);
    m.dags.push(PipelineCtx {
        decorator: dag_decorator(
            p,
            &dag_name,
            target,
            &m.assets,
            &mut m.imports,
            &mut ledger,
            table,
        ),
        name: dag_name.clone(),
        signature: dag_signature(p, &dag_name, &mut ledger, table),
        statements: body.finish(),
        is_async: false,
    });
    ledger.finish(table);
    m.ledgers.push(ledger);
}

/// Order-only dependencies, wired once every task exists (`up >> down`).
fn wire_order(plan: &Plan, body: &mut Body) {
    let mut order: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in plan.steps.iter().enumerate() {
        for &a in s.after.iter().chain(&s.extra_upstreams) {
            if plan.steps[a].node.kind != NodeKind::ExternalAsset
                && s.node.kind != NodeKind::ExternalAsset
            {
                order.entry(i).or_default().push(a);
            }
        }
    }
    for (down, ups) in order {
        let ups: Vec<Expr> = ups
            .iter()
            .map(|&u| Expr::raw(plan.steps[u].var.clone()))
            .collect();
        let left = if ups.len() == 1 {
            ups[0].flat()
        } else {
            Expr::List(ups).format(4, 4 + plan.steps[down].var.len())
        };
        body.lines.push(Line::Text(format!(
            "    {left} >> {}",
            plan.steps[down].var
        )));
    }
}
