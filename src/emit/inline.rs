//! What the IR becomes before a writer sees it: sub-flows for targets without them (Airflow,
//! Dagster) are replaced by the called pipeline's steps, wired to the caller's data; loops over
//! run-time results become mapped calls. The ledger says so.
//!
//! Rules:
//! - A `SubPipeline` node that calls a pipeline of the same file becomes copies of that
//!   pipeline's nodes (its own sub-flow calls inlined first), in a group with the call's id and
//!   the call's policy (the sub-flow's retry boundary becomes each step's retries). Airflow copies
//!   are `call.step` in a task group; Dagster copies keep the step's id (`-2`, … on a clash) in an
//!   asset group.
//! - A sub-flow parameter the caller feeds with a step's result becomes a data edge into each
//!   copy that reads it (`check_email(signups or SIGNUPS)` fed by `fetch_signups` reads
//!   `fetch_signups`); a literal or the parameter's default is written into the copies'
//!   arguments. Edges out of the call leave from the sub-flow's result step (its last step that
//!   no other step reads).
//! - Dagster: a called sub-flow's own job selects the assets of its first call and the upstream
//!   assets that feed them (those assets exist once, where the caller makes them).
//! - Airflow: a pipeline parameter read in an expression argument is not a value while the DAG
//!   is parsed: `x or fallback` takes the parameter's default, an f-string of parameters becomes a
//!   Jinja template of `params`.
//! - Every target: a step read once from a loop over a run-time result (`for t in tickets:
//!   classify(t)`), fed by that one result, is a mapped call over it; so is a step called with
//!   the loop variable of a loop over a flow parameter (`for r in regions: fetch(r)`).

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{
    Edge, EdgeKind, Framework, Group, GroupKind, Node, NodeKind, Pipeline, SourceFile, Value,
};
use crate::report::{
    Anchor, Fidelity, Ledger, Translations, constructs, node_construct, policy_fields,
};

use crate::python::print as python;

/// How far sub-flows that call sub-flows are followed.
const MAX_DEPTH: usize = 8;

/// The file as a target without sub-flows writes it (unchanged when nothing is inlined).
pub fn inline_sub_flows(file: &SourceFile, target: Framework) -> SourceFile {
    let mut out = file.clone();
    for p in &mut out.pipelines {
        map_dynamic_loops(p);
    }
    if target == Framework::Prefect {
        return out;
    }
    let file = &out.clone();
    let inlined: Vec<Pipeline> = file
        .pipelines
        .iter()
        .map(|p| inline_pipeline(file, p, target, 0))
        .collect();
    for (i, p) in inlined.iter().enumerate() {
        let orig = &file.pipelines[i];
        let mut q = p.clone();
        if target == Framework::Dagster
            && let Some(view) = first_call_view(file, &inlined, orig)
        {
            q = view;
        }
        if target == Framework::Airflow && file.framework != Some(Framework::Airflow) {
            airflow_parse_time_params(&mut q);
        }
        out.pipelines[i] = q;
    }
    out
}

/// The order to write a file's pipelines in: a caller before the sub-flows it calls, a task-less
/// one run as a step included (so that the assets a sub-flow's job selects are written as the
/// caller wires them), else source order.
pub fn writing_order(file: &SourceFile) -> Vec<usize> {
    fn visit(file: &SourceFile, i: usize, seen: &mut Vec<bool>, out: &mut Vec<usize>) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        let me = &file.pipelines[i];
        for (j, q) in file.pipelines.iter().enumerate() {
            let calls_me = q.nodes.iter().any(|n| {
                callee(file, n).is_some_and(|c| c.id == me.id)
                    || (n.flavor.as_deref() == Some(crate::ir::SUB_FLOW_STEP)
                        && n.extra.get("pipeline").and_then(Value::as_str) == Some(me.id.as_str()))
            });
            if calls_me && j != i {
                visit(file, j, seen, out);
            }
        }
        out.push(i);
    }
    let mut seen = vec![false; file.pipelines.len()];
    let mut out = Vec::new();
    for i in 0..file.pipelines.len() {
        visit(file, i, &mut seen, &mut out);
    }
    out
}

/// A step read once from a loop over a run-time result (`for t in tickets: classify(t)`), fed
/// by that one result, is a mapped call over it: one run per element, as the loop made. So is a
/// step called with the loop variable of a loop over a flow parameter (`for r in regions:
/// fetch(r)`; the port wrote `fetch(region=region)`, a name its flow never binds).
fn map_dynamic_loops(p: &mut Pipeline) {
    map_parameter_loops(p);
    let mapped: Vec<(usize, String, String)> = p
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.mapping.is_none() && n.extra.contains_key("dynamic_loop"))
        .filter_map(|(i, n)| {
            let ins: Vec<&Edge> = p
                .edges
                .iter()
                .filter(|e| e.to == n.id && e.kind == EdgeKind::Data)
                .collect();
            let [e] = ins.as_slice() else { return None };
            let up = p.nodes.iter().find(|u| u.id == e.from)?;
            let param = e.param.clone()?;
            (!up.extra.contains_key("dynamic_loop")).then(|| (i, e.from.clone(), param))
        })
        .collect();
    for (i, from, param) in mapped {
        let n = &mut p.nodes[i];
        n.extra.remove("dynamic_loop");
        n.mapping = Some(crate::ir::Mapping {
            over: vec![crate::ir::MappedArg {
                param,
                literal: None,
                from_node: Some(from),
            }],
            partial: BTreeMap::new(),
            kwargs: false,
        });
    }
}

/// The loop header a reader noted (`for region in regions:`) as (variable, iterable).
fn loop_header(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim().strip_prefix("for ")?.strip_suffix(':')?;
    let (var, over) = rest.split_once(" in ")?;
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    (ident(var.trim()) && ident(over.trim())).then(|| (var.trim(), over.trim()))
}

/// [`map_dynamic_loops`] for loops over a flow parameter: the argument that is the loop
/// variable becomes the mapped one, over the parameter.
fn map_parameter_loops(p: &mut Pipeline) {
    let params: BTreeSet<String> = p.params.iter().map(|x| x.name.clone()).collect();
    for n in p.nodes.iter_mut().filter(|n| n.mapping.is_none()) {
        let Some(Value::Str(header)) = n.extra.get("dynamic_loop") else {
            continue;
        };
        let Some((var, over)) = loop_header(header) else {
            continue;
        };
        if !params.contains(over) {
            continue;
        }
        let looped: Vec<String> = n
            .args
            .iter()
            .filter(|(_, v)| matches!(v, Value::Expr(e) if e == var))
            .map(|(k, _)| k.clone())
            .collect();
        let [arg] = looped.as_slice() else { continue };
        let over = over.to_string();
        n.args.remove(arg);
        n.extra.remove("dynamic_loop");
        n.mapping = Some(crate::ir::Mapping {
            over: vec![crate::ir::MappedArg {
                param: arg.clone(),
                literal: Some(Value::Expr(over)),
                from_node: None,
            }],
            partial: BTreeMap::new(),
            kwargs: false,
        });
    }
}

/// Ledger entries for what [`inline_sub_flows`] changed (`written` is its result, in the
/// source's pipeline order): loops written as mapped calls, sub-flow calls and the steps copied
/// for them, the called pipelines' jobs; then default-deny over the source pipeline's constructs.
pub fn record_inlined(
    file: &SourceFile,
    written: &SourceFile,
    ledgers: &mut [Ledger],
    table: &Translations,
    target: Framework,
) {
    let writer = format!("writer:{}", target.id());
    let inlines = target != Framework::Prefect && file.pipelines.iter().any(has_calls);
    for ((p, q), ledger) in file
        .pipelines
        .iter()
        .zip(&written.pipelines)
        .zip(ledgers.iter_mut())
    {
        let looped = record_loops(p, q, ledger, table, &writer);
        if !looped && !inlines {
            continue;
        }
        if inlines {
            record_calls(file, p, q, ledger, table, target);
        }
        ledger.expect(constructs(p));
        ledger.finish(table);
    }
}

/// Steps of a loop over a run-time result that are mapped calls now; true when there are any.
fn record_loops(
    p: &Pipeline,
    q: &Pipeline,
    ledger: &mut Ledger,
    table: &Translations,
    writer: &str,
) -> bool {
    let loops: std::collections::HashSet<&str> = p
        .nodes
        .iter()
        .filter(|o| o.extra.contains_key("dynamic_loop"))
        .map(|o| o.id.as_str())
        .collect();
    let looped: Vec<(&Node, String)> = q
        .nodes
        .iter()
        .filter(|n| !n.extra.contains_key("dynamic_loop") && loops.contains(n.id.as_str()))
        .filter_map(|n| {
            let a = n.mapping.as_ref()?.over.first()?;
            let over = match (&a.from_node, &a.literal) {
                (Some(up), _) => format!("`{up}`'s result"),
                (None, Some(Value::Expr(e))) => format!("the `{e}` parameter"),
                _ => return None,
            };
            Some((n, over))
        })
        .collect();
    for (n, over) in &looped {
        if let Some(e) = ledger
            .entries
            .iter_mut()
            .find(|e| e.construct == "mapping" && e.subject == n.id && e.fidelity != Fidelity::None)
        {
            let said = format!("one run per element of {over}, as the loop made");
            // A writer's own caveat (an Airflow port maps over a parameter's default) stays.
            e.note = if e.fidelity == Fidelity::Approximate {
                format!("{said}; {}", e.note)
            } else {
                said
            };
            e.fidelity = Fidelity::Approximate;
            e.rule = writer.to_string();
        }
        ledger.consume_where(
            table,
            "extra",
            &format!("{}.dynamic_loop", n.id),
            n.span,
            ("mapping", &n.id),
            Some(Fidelity::Approximate),
            format!("the loop over {over} is a mapped call over it"),
        );
    }
    let mapped = looped
        .iter()
        .find_map(|(n, _)| ledger.anchor_of("mapping", &n.id));
    if !looped.is_empty()
        && mapped.is_some()
        && !q.nodes.iter().any(|n| n.extra.contains_key("dynamic_loop"))
    {
        for e in ledger
            .entries
            .iter_mut()
            .filter(|e| e.construct == "opaque" && e.subject.starts_with("dynamic_loop@"))
        {
            e.fidelity = Fidelity::Approximate;
            e.note =
                "the loop over a value known only at run time is written as a mapped call".into();
            e.rule = writer.to_string();
            e.point(mapped.clone());
        }
    }
    !looped.is_empty()
}

/// The sub-flow calls of `p` (written as `q`), and, for a called pipeline, its job.
fn record_calls(
    file: &SourceFile,
    p: &Pipeline,
    q: &Pipeline,
    ledger: &mut Ledger,
    table: &Translations,
    target: Framework,
) {
    let writer = format!("writer:{}", target.id());
    let group = "the sub-flow's retry boundary becomes each of its steps' retries";
    for s in p.nodes.iter().filter(|n| callee(file, n).is_some()) {
        // The copies of the sub-flow's steps run as steps of this pipeline.
        let copies: Vec<&Node> = q
            .nodes
            .iter()
            .filter(|n| {
                n.group
                    .as_deref()
                    .is_some_and(|g| g == s.id || g.starts_with(&format!("{}.", s.id)))
            })
            .collect();
        for e in ledger.entries.iter_mut().filter(|e| {
            e.construct.starts_with("node.")
                && e.fidelity == Fidelity::Exact
                && copies.iter().any(|c| c.id == e.subject)
        }) {
            e.fidelity = Fidelity::Approximate;
            e.note = format!("{}: a step of sub-flow `{}`, inlined", e.note, s.id);
            e.rule = writer.clone();
        }
        let how = match target {
            Framework::Airflow => format!(
                "inlined: the sub-flow's steps run in task group `{}` of this DAG",
                s.id
            ),
            _ => format!(
                "inlined: the sub-flow's steps are assets of group `{}`, fed by this job's assets",
                python::identifier(&s.id)
            ),
        };
        // The call is written where its steps are: the task group, or the first copied step.
        let like = if ledger.anchor_of("group.sub_flow", &s.id).is_some() {
            ("group.sub_flow".to_string(), s.id.clone())
        } else {
            copies
                .iter()
                .map(|c| (node_construct(c).to_string(), c.id.clone()))
                .find(|(k, id)| ledger.anchor_of(k, id).is_some())
                .unwrap_or_default()
        };
        let like = (like.0.as_str(), like.1.as_str());
        ledger.consume_where(table, node_construct(s), &s.id, s.span, like, None, how);
        if !ledger.has("group.sub_flow", &s.id) {
            ledger.consume_where(
                table,
                "group.sub_flow",
                &s.id,
                s.span,
                like,
                None,
                group.into(),
            );
        }
        for f in policy_fields(&s.policy) {
            let first = copies.iter().find(|c| ledger.anchor_of(f, &c.id).is_some());
            // Else the keyword in the head of the first inlined step written.
            let kw = match f {
                "policy.retries" => Some("retries"),
                "policy.retry_delay" => Some("delay"),
                "policy.timeout" => Some("timeout"),
                _ => None,
            };
            let head = kw.filter(|_| first.is_none()).and_then(|kw| {
                copies
                    .iter()
                    .find_map(|c| ledger.anchor_of(node_construct(c), &c.id))
                    .map(|a| a.then(kw))
            });
            if let Some(at) = head {
                ledger.consume_as(
                    table,
                    f,
                    &s.id,
                    s.span,
                    at,
                    Fidelity::Approximate,
                    "applies to each inlined step instead of the whole sub-flow".into(),
                );
                continue;
            }
            ledger.consume_where(
                table,
                f,
                &s.id,
                s.span,
                (f, first.map_or("", |c| c.id.as_str())),
                Some(Fidelity::Approximate),
                "applies to each inlined step instead of the whole sub-flow".into(),
            );
        }
        for k in s.extra.keys() {
            ledger.consume_where(
                table,
                "extra",
                &format!("{}.{k}", s.id),
                s.span,
                like,
                Some(Fidelity::Approximate),
                "the sub-flow call is inlined".into(),
            );
        }
    }
    if target == Framework::Dagster {
        for e in ledger
            .entries
            .iter_mut()
            .filter(|e| e.construct == "group.sub_flow" && e.rule.starts_with("translations"))
        {
            e.note = format!("an asset group: {group}");
            e.rule = writer.clone();
        }
    }
    let Some(caller) = callers(file, p).first().cloned() else {
        return;
    };
    if target == Framework::Dagster {
        // The job of a called sub-flow runs the assets of its call and what feeds them: the
        // caller's parameters they read are not this pipeline's, the call's retries are theirs.
        ledger
            .entries
            .retain(|e| e.construct != "param" || p.params.iter().any(|x| x.name == e.subject));
        if let Some(e) = ledger
            .entries
            .iter_mut()
            .find(|e| e.construct == "pipeline" && e.subject == p.id)
        {
            e.note = format!(
                "a job of the assets its call in `{caller}` makes, with the upstream assets that feed them"
            );
            e.rule = writer.clone();
        }
        for n in &p.nodes {
            let Some(m) = q.nodes.iter().find(|m| m.id == n.id) else {
                continue;
            };
            let (a, b) = (
                p.effective_policy(n).retries.unwrap_or(0),
                q.effective_policy(m).retries.unwrap_or(0),
            );
            if a == b {
                continue;
            }
            let note = format!("the asset runs with its call's retries ({b}) in `{caller}`");
            match ledger
                .entries
                .iter_mut()
                .find(|e| e.construct == "policy.retries" && e.subject == n.id)
            {
                Some(e) => {
                    e.fidelity = Fidelity::Approximate;
                    e.note = note;
                    e.rule = writer.clone();
                }
                // The asset's head has the call's retries.
                None if b > 0 => {
                    let at = Anchor::head(&python::identifier(&n.id), "max_retries=");
                    let f = Fidelity::Approximate;
                    ledger.consume_as(table, "policy.retries", &n.id, n.span, at, f, note);
                }
                None => {
                    ledger.lose(table, "policy.retries", &n.id, n.span, note);
                }
            }
        }
    }
    for c in constructs(p) {
        let step = c.id.starts_with("node.") || c.id == "param";
        if step && !ledger.has(&c.id, &c.subject) {
            let span = crate::ir::Span {
                line: c.span.line,
                col: c.span.col,
                ..crate::ir::Span::default()
            };
            ledger.lose(
                table,
                &c.id,
                &c.subject,
                span,
                format!("written where `{caller}` calls this sub-flow"),
            );
        }
    }
}

fn has_calls(p: &Pipeline) -> bool {
    p.nodes.iter().any(|n| n.kind == NodeKind::SubPipeline)
}

/// The pipeline a sub-flow node calls, when it is one of the file's.
fn callee<'f>(file: &'f SourceFile, n: &Node) -> Option<&'f Pipeline> {
    if n.kind != NodeKind::SubPipeline || n.mapping.is_some() {
        return None;
    }
    let id = n.extra.get("pipeline").and_then(Value::as_str)?;
    file.pipelines.iter().find(|p| p.id == id)
}

/// Ids of the pipelines that call `p` as a sub-flow.
fn callers(file: &SourceFile, p: &Pipeline) -> Vec<String> {
    file.pipelines
        .iter()
        .filter(|q| {
            q.nodes
                .iter()
                .any(|n| callee(file, n).is_some_and(|c| c.id == p.id))
        })
        .map(|q| q.id.clone())
        .collect()
}

/// A pipeline with its sub-flow calls replaced by the called steps.
fn inline_pipeline(file: &SourceFile, p: &Pipeline, target: Framework, depth: usize) -> Pipeline {
    let mut q = p.clone();
    if depth >= MAX_DEPTH {
        return q;
    }
    let calls: Vec<Node> = p
        .nodes
        .iter()
        .filter(|n| callee(file, n).is_some_and(|c| c.id != p.id))
        .cloned()
        .collect();
    for s in calls {
        let Some(child) = callee(file, &s) else {
            continue;
        };
        let child = inline_pipeline(file, child, target, depth + 1);
        splice(&mut q, &s, &child, target);
    }
    q
}

/// What the caller gives one sub-flow parameter.
enum Binding {
    /// Step results (one, or several gathered in a list).
    Steps(Vec<String>),
    /// A value: a literal, a caller parameter (`Value::Expr`), or the parameter's default.
    Value(Value),
}

/// Replaces the call `s` in `q` by copies of `child`'s nodes.
fn splice(q: &mut Pipeline, s: &Node, child: &Pipeline, target: Framework) {
    // Copy ids.
    let mut taken: BTreeSet<String> = q.nodes.iter().map(|n| n.id.clone()).collect();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for n in &child.nodes {
        let id = match target {
            Framework::Airflow => format!("{}.{}", s.id, n.id),
            _ => {
                let base = n.id.clone();
                let mut id = base.clone();
                let mut k = 1;
                while taken.contains(&id) {
                    k += 1;
                    id = format!("{base}-{k}");
                }
                id
            }
        };
        taken.insert(id.clone());
        ids.insert(n.id.clone(), id);
    }
    let group_of = |g: &Option<String>| match g {
        Some(g) => format!("{}.{g}", s.id),
        None => s.id.clone(),
    };
    // Bindings of the sub-flow's parameters.
    let mut bindings: BTreeMap<String, Binding> = BTreeMap::new();
    for prm in &child.params {
        let fed: Vec<String> = q
            .edges
            .iter()
            .filter(|e| {
                e.to == s.id && e.kind == EdgeKind::Data && e.param.as_deref() == Some(&prm.name)
            })
            .map(|e| e.from.clone())
            .collect();
        let b = if !fed.is_empty() {
            Binding::Steps(fed)
        } else if let Some(v) = s.args.get(&prm.name) {
            Binding::Value(v.clone())
        } else {
            Binding::Value(prm.default.clone().unwrap_or(Value::None))
        };
        bindings.insert(prm.name.clone(), b);
    }
    let mut copies: Vec<Node> = Vec::new();
    let mut new_edges: Vec<Edge> = Vec::new();
    for n in &child.nodes {
        let mut m = n.clone();
        m.id = ids[&n.id].clone();
        m.group = Some(group_of(&n.group));
        let to = m.id.clone();
        let feed = |param: &str, ups: &[String], edges: &mut Vec<Edge>| {
            for u in ups {
                edges.push(Edge {
                    from: u.clone(),
                    to: to.clone(),
                    kind: EdgeKind::Data,
                    param: Some(param.to_string()),
                    output: None,
                    span: s.span,
                });
            }
        };
        // Arguments that read sub-flow parameters.
        let args: Vec<(String, Value)> =
            m.args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in args {
            match bind(&v, &bindings) {
                Bound::Untouched => {}
                Bound::Steps(ups) => {
                    m.args.remove(&k);
                    feed(&k, &ups, &mut new_edges);
                }
                Bound::Value(v) => {
                    m.args.insert(k, v);
                }
            }
        }
        if let Some(map) = m.mapping.as_mut() {
            let partial: Vec<(String, Value)> = map
                .partial
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, v) in partial {
                match bind(&v, &bindings) {
                    Bound::Untouched => {}
                    Bound::Steps(ups) => {
                        map.partial.remove(&k);
                        feed(&k, &ups, &mut new_edges);
                    }
                    Bound::Value(v) => {
                        map.partial.insert(k, v);
                    }
                }
            }
            for a in &mut map.over {
                let Some(lit) = a.literal.clone() else {
                    continue;
                };
                match bind(&lit, &bindings) {
                    Bound::Untouched => {}
                    Bound::Steps(ups) => {
                        a.literal = None;
                        a.from_node = ups.first().cloned();
                        feed(&a.param, &ups, &mut new_edges);
                    }
                    Bound::Value(v) => a.literal = Some(v),
                }
            }
        }
        // Callable parameters named like a sub-flow parameter take it (as in a flow body).
        if let Some(c) = &n.callable {
            for prm in &c.params {
                let fed_inside = child
                    .edges
                    .iter()
                    .any(|e| e.to == n.id && e.param.as_deref() == Some(&prm.name));
                let mapped = n
                    .mapping
                    .as_ref()
                    .is_some_and(|mp| mp.over.iter().any(|a| a.param == prm.name));
                if fed_inside || mapped || n.args.contains_key(&prm.name) {
                    continue;
                }
                match bindings.get(&prm.name) {
                    Some(Binding::Steps(ups)) => feed(&prm.name, ups, &mut new_edges),
                    Some(Binding::Value(v)) => {
                        m.args.insert(prm.name.clone(), v.clone());
                    }
                    None => {}
                }
            }
        }
        copies.push(m);
    }
    // The sub-flow's own edges.
    for e in &child.edges {
        let (Some(from), Some(to)) = (ids.get(&e.from), ids.get(&e.to)) else {
            continue;
        };
        new_edges.push(Edge {
            from: from.clone(),
            to: to.clone(),
            ..e.clone()
        });
    }
    // Order edges into the call hold for the sub-flow's first steps.
    let roots: Vec<String> = child
        .nodes
        .iter()
        .filter(|n| !child.edges.iter().any(|e| e.to == n.id))
        .map(|n| ids[&n.id].clone())
        .collect();
    for e in q.edges.iter().filter(|e| e.to == s.id) {
        let data_param = e.kind == EdgeKind::Data
            && e.param
                .as_deref()
                .is_some_and(|x| child.params.iter().any(|prm| prm.name == x));
        if !data_param {
            for r in &roots {
                new_edges.push(Edge {
                    from: e.from.clone(),
                    to: r.clone(),
                    kind: EdgeKind::Order,
                    param: None,
                    output: None,
                    span: e.span,
                });
            }
        }
    }
    // Edges out of the call leave from the sub-flow's result.
    let result = child
        .nodes
        .iter()
        .rev()
        .find(|n| !child.edges.iter().any(|e| e.from == n.id))
        .map(|n| ids[&n.id].clone());
    let mut edges: Vec<Edge> = Vec::new();
    for e in &q.edges {
        if e.to == s.id {
            continue;
        }
        if e.from == s.id {
            if let Some(r) = &result {
                edges.push(Edge {
                    from: r.clone(),
                    ..e.clone()
                });
            }
            continue;
        }
        edges.push(e.clone());
    }
    edges.extend(new_edges);
    q.edges = dedup_edges(edges);
    for n in &mut q.nodes {
        if let (Some(map), Some(r)) = (n.mapping.as_mut(), &result) {
            for a in &mut map.over {
                if a.from_node.as_deref() == Some(s.id.as_str()) {
                    a.from_node = Some(r.clone());
                }
            }
        }
    }
    // The call's place in source order holds the copies.
    let Some(at) = q.nodes.iter().position(|n| n.id == s.id) else {
        return;
    };
    q.nodes.remove(at);
    for (k, m) in copies.into_iter().enumerate() {
        q.nodes.insert(at + k, m);
    }
    // Groups: the call's group (its retry boundary), then the sub-flow's own groups under it
    // (Airflow writes them as task groups, Dagster as asset groups).
    let kind = GroupKind::SubFlow;
    match q.groups.iter().find(|g| g.id == s.id) {
        Some(_) => {}
        None => q.groups.push(Group {
            id: s.id.clone(),
            kind,
            parent: None,
            policy: s.policy.clone(),
            description: s.description.clone(),
            span: s.span,
        }),
    }
    for g in &child.groups {
        q.groups.push(Group {
            id: format!("{}.{}", s.id, g.id),
            kind,
            parent: Some(group_of(&g.parent)),
            ..g.clone()
        });
    }
}

/// A value read by a sub-flow step, once the sub-flow's parameters are bound.
enum Bound {
    /// It reads no sub-flow parameter.
    Untouched,
    /// It is (or falls back from) the result of those steps.
    Steps(Vec<String>),
    /// Its new value.
    Value(Value),
}

fn bind(v: &Value, bindings: &BTreeMap<String, Binding>) -> Bound {
    let Value::Expr(e) = v else {
        return Bound::Untouched;
    };
    let read: Vec<&String> = bindings.keys().filter(|x| mentions(e, x)).collect();
    if read.is_empty() {
        return Bound::Untouched;
    }
    // A step result read directly or with a fallback (`x or default`) is that result.
    let ups: Vec<String> = read
        .iter()
        .filter_map(|x| match &bindings[*x] {
            Binding::Steps(u) => Some(u.clone()),
            Binding::Value(_) => None,
        })
        .flatten()
        .collect();
    if !ups.is_empty() {
        return Bound::Steps(ups);
    }
    let mut text = e.clone();
    for x in read {
        if let Binding::Value(val) = &bindings[x] {
            text = replace_name(&text, x, &python::value(val).flat());
        }
    }
    Bound::Value(simplify(&text))
}

/// `None or rest` → `rest`; a plain literal is parsed back to a value.
fn simplify(text: &str) -> Value {
    let t = text.trim();
    for falsy in ["None", "[]", "{}", "\"\"", "0", "False"] {
        if let Some(rest) = t.strip_prefix(&format!("{falsy} or ")) {
            return simplify(rest);
        }
    }
    match t {
        "None" => Value::None,
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        _ => {
            if let Ok(i) = t.parse::<i64>() {
                return Value::Int(i);
            }
            let quoted = t.len() >= 2 && t.starts_with('"') && t.ends_with('"');
            if quoted && !t[1..t.len() - 1].contains(['"', '\\']) {
                return Value::Str(t[1..t.len() - 1].to_string());
            }
            Value::Expr(t.to_string())
        }
    }
}

/// Whether `name` occurs in an expression as a name (not an attribute, not in a string).
pub(super) fn mentions(text: &str, name: &str) -> bool {
    replace_name(text, name, "\u{0}") != text
}

/// Replaces `name` where it is a name in the expression's code.
fn replace_name(text: &str, name: &str, new: &str) -> String {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = String::new();
    let (mut i, mut last) = (0, 0);
    let mut quote: Option<u8> = None;
    let mut fstring = false;
    let mut depth = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            // Inside an f-string's braces, names are code.
            if fstring && c == b'{' && b.get(i + 1) != Some(&b'{') {
                depth += 1;
            } else if fstring && c == b'}' && depth > 0 {
                depth -= 1;
            } else if c == b'\\' {
                i += 2;
                continue;
            } else if c == q && depth == 0 {
                quote = None;
            }
            if depth == 0 || !(c.is_ascii_alphabetic() || c == b'_') {
                i += 1;
                continue;
            }
        } else if c == b'"' || c == b'\'' {
            fstring = i > 0 && matches!(b[i - 1], b'f' | b'F');
            quote = Some(c);
            i += 1;
            continue;
        }
        if (c.is_ascii_alphabetic() || c == b'_')
            && (i == 0 || !(ident(b[i - 1]) || b[i - 1] == b'.'))
        {
            let start = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            let is_prefix = i < b.len() && (b[i] == b'"' || b[i] == b'\'') && quote.is_none();
            if &text[start..i] == name
                && !is_prefix
                && !(i < b.len() && b[i] == b'=' && b.get(i + 1) != Some(&b'='))
            {
                out.push_str(&text[last..start]);
                out.push_str(new);
                last = i;
            }
            continue;
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    out
}

fn dedup_edges(edges: Vec<Edge>) -> Vec<Edge> {
    let mut seen: BTreeSet<(String, String, Option<String>)> = BTreeSet::new();
    let mut out: Vec<Edge> = Vec::new();
    for e in edges {
        if e.from == e.to {
            continue;
        }
        if let Some(o) = out.iter_mut().find(|o| o.from == e.from && o.to == e.to) {
            // A data edge says more than an order edge between the same steps.
            if o.kind == EdgeKind::Order && e.kind == EdgeKind::Data {
                *o = e;
            }
            continue;
        }
        if seen.insert((e.from.clone(), e.to.clone(), e.param.clone())) {
            out.push(e);
        }
    }
    out
}

/// Dagster: a called sub-flow's job is the assets of its first call (in the first caller) and
/// the upstream assets that feed them.
fn first_call_view(file: &SourceFile, inlined: &[Pipeline], child: &Pipeline) -> Option<Pipeline> {
    let (ci, call) = file.pipelines.iter().enumerate().find_map(|(i, q)| {
        q.nodes
            .iter()
            .find(|n| callee(file, n).is_some_and(|c| c.id == child.id))
            .map(|n| (i, n.id.clone()))
    })?;
    let caller = &inlined[ci];
    let mut keep: BTreeSet<String> = caller
        .nodes
        .iter()
        .filter(|n| {
            n.group
                .as_deref()
                .is_some_and(|g| g == call || g.starts_with(&format!("{call}.")))
        })
        .map(|n| n.id.clone())
        .collect();
    loop {
        let ups: Vec<String> = caller
            .edges
            .iter()
            .filter(|e| keep.contains(&e.to) && !keep.contains(&e.from))
            .map(|e| e.from.clone())
            .collect();
        if ups.is_empty() {
            break;
        }
        keep.extend(ups);
    }
    let mut view = child.clone();
    view.nodes = caller
        .nodes
        .iter()
        .filter(|n| keep.contains(&n.id))
        .cloned()
        .collect();
    view.edges = caller
        .edges
        .iter()
        .filter(|e| keep.contains(&e.from) && keep.contains(&e.to))
        .cloned()
        .collect();
    view.groups = caller
        .groups
        .iter()
        .filter(|g| view.nodes.iter().any(|n| n.group.as_deref() == Some(&g.id)))
        .cloned()
        .collect();
    // The caller's parameters the copied assets read.
    view.params = caller.params.clone();
    view.partitions = caller.partitions.clone();
    view.defaults = caller.defaults.clone();
    Some(view)
}

/// Airflow: an expression argument that reads DAG parameters (which are not values while the
/// DAG is parsed): `x or fallback` takes `x`'s default; an f-string of parameters becomes a Jinja
/// template of `params`, which Airflow renders at run time.
fn airflow_parse_time_params(p: &mut Pipeline) {
    let defaults: BTreeMap<String, Value> = p
        .params
        .iter()
        .map(|x| (x.name.clone(), x.default.clone().unwrap_or(Value::None)))
        .collect();
    for n in &mut p.nodes {
        for v in n.args.values_mut() {
            let Value::Expr(e) = v else { continue };
            if defaults.contains_key(e.as_str()) {
                continue;
            }
            let read: Vec<&String> = defaults.keys().filter(|x| mentions(e, x)).collect();
            if read.is_empty() {
                continue;
            }
            if let Some(t) = jinja(e, &read) {
                *v = Value::Str(t);
                continue;
            }
            let head = read.iter().find(|x| e.starts_with(&format!("{x} or ")));
            if let (Some(x), 1) = (head, read.len()) {
                let text = replace_name(e, x, &python::value(&defaults[*x]).flat());
                *v = simplify(&text);
            }
        }
    }
}

/// `f"rollup-{day}"` → `rollup-{{ params.day }}` when every placeholder is a parameter.
fn jinja(e: &str, params: &[&String]) -> Option<String> {
    let body = e.strip_prefix('f').or_else(|| e.strip_prefix('F'))?;
    let q = body.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = body.strip_prefix(q)?.strip_suffix(q)?;
    if inner.contains(q) || inner.contains('\\') || inner.contains("{{") || inner.contains("}}") {
        return None;
    }
    let mut out = String::new();
    let mut rest = inner;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        let name = &rest[open + 1..close];
        if !params.iter().any(|x| x.as_str() == name) {
            return None;
        }
        out.push_str(&rest[..open]);
        out.push_str(&format!("{{{{ params.{name} }}}}"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> SourceFile {
        crate::frontend::read_source("flows/t.py", text)
    }

    const ONBOARDING: &str = "from prefect import flow, task\nS = [1]\n@task\ndef fetch(batch: str) -> list: return S\n@task\ndef check(signups: list) -> list: return signups\n@task\ndef draft(accounts: list, language: str) -> list: return accounts\n@task\ndef report(accounts, english, local): return 1\n@flow(retries=2)\ndef verify(signups=None): return check(signups or S)\n@flow(name='welcome-mails', retries=1)\ndef welcome(accounts=None, language='en'): return draft(accounts or [], language)\n@flow\ndef onboard(batch: str = 'w'):\n    s = fetch(batch)\n    a = verify(s)\n    e = welcome(a, 'en')\n    l = welcome.with_options(retries=3)(a, language='fr')\n    return report(a, e, l)\n";

    fn edges(p: &Pipeline) -> Vec<(String, String, Option<String>)> {
        let mut v: Vec<_> = p
            .edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone(), e.param.clone()))
            .collect();
        v.sort();
        v
    }

    fn e(a: &str, b: &str, p: &str) -> (String, String, Option<String>) {
        (a.into(), b.into(), Some(p.into()))
    }

    #[test]
    fn dagster_sub_flows_become_the_callers_assets() {
        let f = inline_sub_flows(&read(ONBOARDING), Framework::Dagster);
        let p = f.pipelines.iter().find(|p| p.id == "onboard").unwrap();
        let ids: Vec<&str> = p.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["fetch", "check", "draft", "draft-2", "report"]);
        assert_eq!(
            edges(p),
            [
                e("check", "draft", "accounts"),
                e("check", "draft-2", "accounts"),
                e("check", "report", "accounts"),
                // The second sub-flow call is made once the first returned (order only).
                ("draft".into(), "draft-2".into(), None),
                e("draft", "report", "english"),
                e("draft-2", "report", "local"),
                e("fetch", "check", "signups"),
            ]
        );
        let draft2 = &p.nodes[3];
        assert_eq!(draft2.args.get("language"), Some(&Value::Str("fr".into())));
        assert!(!draft2.args.contains_key("accounts"));
        assert_eq!(p.effective_policy(draft2).retries, Some(3));
        assert_eq!(p.effective_policy(&p.nodes[1]).retries, Some(2));
        // The sub-flow's own job: its first call and what feeds it.
        let v = f.pipelines.iter().find(|p| p.id == "verify").unwrap();
        let ids: Vec<&str> = v.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["fetch", "check"]);
    }

    #[test]
    fn airflow_sub_flows_become_task_groups() {
        let f = inline_sub_flows(&read(ONBOARDING), Framework::Airflow);
        let p = f.pipelines.iter().find(|p| p.id == "onboard").unwrap();
        assert!(edges(p).contains(&e("fetch", "verify.check", "signups")));
        assert!(edges(p).contains(&e("welcome-2.draft", "report", "local")));
        let g = p.groups.iter().find(|g| g.id == "welcome-2").unwrap();
        assert_eq!((g.kind, g.policy.retries), (GroupKind::SubFlow, Some(3)));
        // Standalone, `signups or S` takes the parameter's default.
        let v = f.pipelines.iter().find(|p| p.id == "verify").unwrap();
        assert_eq!(
            v.nodes[0].args.get("signups"),
            Some(&Value::Expr("S".into()))
        );
    }

    #[test]
    fn names_and_templates() {
        assert!(mentions("signups or S", "signups"));
        assert!(!mentions("x.signups or \"signups\"", "signups"));
        assert!(mentions("f\"rollup-{day}\"", "day"));
        assert_eq!(
            jinja("f\"rollup-{day}\"", &[&"day".to_string()]).as_deref(),
            Some("rollup-{{ params.day }}")
        );
        assert_eq!(
            simplify("None or {\"a\": 1}"),
            Value::Expr("{\"a\": 1}".into())
        );
        assert_eq!(simplify("\"en\""), Value::Str("en".into()));
    }
}
