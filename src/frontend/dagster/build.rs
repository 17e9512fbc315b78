//! The catalog of a module → IR pipelines, by the rule in the module docs: one pipeline per job,
//! one per asset group for the assets no job selects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::catalog::{DefsDef, JobDef, JobKind, ScheduleCron, ScheduleDef};
use super::module::{ModuleReader, Obj};
use super::ops::OpReader;
use super::partitions::{self, PartitionsDef};
use super::selection::{AssetInfo, Selection};
use crate::ir::{
    AssetRef, Check, Diagnostic, Edge, EdgeKind, Framework, Group, GroupKind, Node, Opaque,
    Pipeline, Resource, Schedule, ScheduleKind, Severity, Span, Value,
};

/// The definitions Dagster would load from the module.
#[derive(Debug, Default)]
struct Registry {
    assets: Vec<usize>,
    checks: Vec<usize>,
    jobs: Vec<usize>,
    schedules: Vec<usize>,
    sensors: Vec<usize>,
    resources: Vec<Resource>,
    extra: BTreeMap<String, Value>,
    has_defs: bool,
}

/// A dependency resolved against the registered assets.
#[derive(Debug, Clone)]
struct Resolved {
    key: Vec<String>,
    target: Option<usize>,
    kind: EdgeKind,
    param: Option<String>,
    span: Span,
}

/// The registered assets as a graph (positions index `reg`).
struct AssetGraph {
    reg: Vec<usize>,
    deps: Vec<Vec<Resolved>>,
    infos: Vec<AssetInfo>,
    pos_of_key: HashMap<Vec<String>, usize>,
}

fn sorted_unique(v: &mut Vec<usize>) {
    v.sort_unstable();
    v.dedup();
}

fn warn(code: &str, span: Span, message: String, help: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: code.into(),
        line: Some(span.line),
        span: Some(span),
        message,
        help: Some(help.into()),
    }
}

fn registry(m: &ModuleReader, diagnostics: &mut Vec<Diagnostic>) -> Registry {
    let mut defs: Vec<usize> = Vec::new();
    for name in &m.bound {
        if let Some(Obj::Defs(i)) = m.env_get(name)
            && !defs.contains(i)
        {
            defs.push(*i);
        }
    }
    let mut r = Registry::default();
    if defs.is_empty() {
        for name in &m.bound {
            match m.env_get(name) {
                Some(Obj::Assets(idxs)) => r.assets.extend(idxs),
                Some(Obj::Spec(i)) => r.assets.push(*i),
                Some(Obj::Checks(idxs)) => r.checks.extend(idxs),
                Some(Obj::Job(j)) => r.jobs.push(*j),
                Some(Obj::Schedule(s)) => r.schedules.push(*s),
                Some(Obj::Sensor(s)) => r.sensors.push(*s),
                _ => {}
            }
        }
    } else {
        r.has_defs = true;
        if defs.len() > 1 {
            let span = m.cat.defs[defs[1]].span;
            diagnostics.push(warn(
                "several-definitions",
                span,
                "this module binds more than one Definitions object; Dagster refuses to load it, orchmig reads them merged".into(),
                "combine them with Definitions.merge(...) into one module-level `defs`",
            ));
        }
        let mut merged = DefsDef::default();
        for i in defs {
            let d = &m.cat.defs[i];
            merged.assets.extend(&d.assets);
            merged.loads_modules |= d.loads_modules;
            merged.checks.extend(&d.checks);
            merged.jobs.extend(&d.jobs);
            merged.schedules.extend(&d.schedules);
            merged.sensors.extend(&d.sensors);
            merged.resources.extend(d.resources.iter().cloned());
            merged.extra.extend(d.extra.clone());
        }
        if merged.loads_modules {
            for name in &m.bound {
                match m.env_get(name) {
                    Some(Obj::Assets(idxs)) => merged.assets.extend(idxs),
                    Some(Obj::List(items)) if items.iter().all(|x| matches!(x, Obj::Assets(_))) => {
                        for x in items {
                            if let Obj::Assets(idxs) = x {
                                merged.assets.extend(idxs);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        r.assets = merged.assets;
        r.checks = merged.checks;
        r.jobs = merged.jobs;
        r.schedules = merged.schedules;
        r.sensors = merged.sensors;
        r.resources = merged.resources;
        r.extra = merged.extra;
    }
    sorted_unique(&mut r.assets);
    for &a in &r.assets {
        r.checks.extend(&m.cat.assets[a].checks);
    }
    sorted_unique(&mut r.checks);
    for &s in &r.schedules {
        if let Some(j) = m.cat.schedules[s].job {
            r.jobs.push(j);
        }
    }
    for &s in &r.sensors {
        r.jobs.extend(&m.cat.sensors[s].jobs);
    }
    sorted_unique(&mut r.jobs);
    sorted_unique(&mut r.schedules);
    sorted_unique(&mut r.sensors);
    // One definition per key: the first one wins, as the others would make Dagster fail.
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    r.assets.retain(|&a| {
        let key = m.cat.assets[a].key.clone();
        match seen.get(&key) {
            Some(_) => {
                diagnostics.push(warn(
                    "duplicate-asset-key",
                    m.cat.assets[a].node.span,
                    format!("the asset key `{}` is defined twice", key.join("/")),
                    "Dagster refuses duplicate asset keys; give one of them another name or key_prefix",
                ));
                false
            }
            None => {
                seen.insert(key, a);
                true
            }
        }
    });
    if r.has_defs {
        for name in &m.bound {
            let (what, unregistered) = match m.env_get(name) {
                Some(Obj::Assets(idxs)) => ("asset", idxs.iter().all(|i| !r.assets.contains(i))),
                Some(Obj::Spec(i)) => ("asset spec", !r.assets.contains(i)),
                Some(Obj::Job(j)) => ("job", !r.jobs.contains(j)),
                Some(Obj::Schedule(s)) => ("schedule", !r.schedules.contains(s)),
                Some(Obj::Sensor(s)) => ("sensor", !r.sensors.contains(s)),
                _ => continue,
            };
            if unregistered {
                let span = match m.env_get(name) {
                    Some(Obj::Assets(idxs)) => idxs.first().map(|&i| m.cat.assets[i].node.span),
                    Some(Obj::Spec(i)) => Some(m.cat.assets[*i].node.span),
                    Some(Obj::Job(j)) => Some(m.cat.jobs[*j].span),
                    Some(Obj::Schedule(s)) => Some(m.cat.schedules[*s].span),
                    Some(Obj::Sensor(s)) => Some(m.cat.sensors[*s].trigger.span),
                    _ => None,
                }
                .unwrap_or_default();
                diagnostics.push(warn(
                    "not-in-definitions",
                    span,
                    format!("the {what} `{name}` is defined but not listed in Definitions, so Dagster does not load it"),
                    "add it to the module's Definitions(...) or remove it",
                ));
            }
        }
    }
    r
}

fn asset_graph(m: &ModuleReader, reg: &[usize]) -> AssetGraph {
    let pos_of_key: HashMap<Vec<String>, usize> = reg
        .iter()
        .enumerate()
        .map(|(p, &a)| (m.cat.assets[a].key.clone(), p))
        .collect();
    let mut deps = Vec::new();
    for &a in reg {
        let asset = &m.cat.assets[a];
        let mut out: Vec<Resolved> = Vec::new();
        for d in &asset.deps {
            let mut key = d.key.clone();
            let mut target = pos_of_key.get(&key).copied();
            if target.is_none() && key.len() == 1 {
                // Dagster resolves an unprefixed key to the one asset of the same group with
                // that name (beta behaviour of `resolve_assets_def_deps`).
                let candidates: Vec<usize> = reg
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| {
                        let other = &m.cat.assets[**b];
                        other.group == asset.group
                            && other.key.last() == key.last()
                            && other.definition != asset.definition
                    })
                    .map(|(p, _)| p)
                    .collect();
                if let [only] = candidates.as_slice() {
                    target = Some(*only);
                    key = m.cat.assets[reg[*only]].key.clone();
                }
            }
            if let Some(existing) = out.iter_mut().find(|x| x.key == key) {
                if d.kind == EdgeKind::Data && existing.kind == EdgeKind::Order {
                    existing.kind = EdgeKind::Data;
                    existing.param = d.param.clone();
                }
                continue;
            }
            out.push(Resolved {
                key,
                target,
                kind: d.kind,
                param: d.param.clone(),
                span: d.span,
            });
        }
        deps.push(out);
    }
    let infos = reg
        .iter()
        .enumerate()
        .map(|(p, &a)| {
            let asset = &m.cat.assets[a];
            AssetInfo {
                key: asset.key.clone(),
                group: asset.group.clone(),
                tags: asset.tags.clone(),
                kinds: asset.kinds.clone(),
                owners: asset.owners.clone(),
                deps: deps[p].iter().filter_map(|d| d.target).collect(),
                external: asset.external,
                definition: asset.definition,
            }
        })
        .collect();
    AssetGraph {
        reg: reg.to_vec(),
        deps,
        infos,
        pos_of_key,
    }
}

/// The pipelines of a read module, with the diagnostics about them.
pub fn pipelines(m: &ModuleReader) -> (Vec<Pipeline>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let r = registry(m, &mut diagnostics);
    let g = asset_graph(m, &r.assets);
    let resource_keys: BTreeSet<&str> = r.resources.iter().map(|x| x.key.as_str()).collect();
    for (p, deps) in g.deps.iter().enumerate() {
        for d in deps {
            if let (None, Some(param)) = (d.target, &d.param)
                && resource_keys.contains(param.as_str())
            {
                diagnostics.push(warn(
                    "unannotated-resource",
                    d.span,
                    format!(
                        "the parameter `{param}` of `{}` is named like the resource `{param}` but is not annotated with a resource type, so Dagster reads it as an upstream asset",
                        g.infos[p].key.join("/")
                    ),
                    "annotate it with the resource class (or dg.ResourceParam[...])",
                ));
            }
        }
    }
    let mut file_opaque: Vec<Opaque> = m.file_opaque().to_vec();
    let mut out: Vec<Pipeline> = Vec::new();
    let mut job_pipeline: HashMap<usize, usize> = HashMap::new();
    let mut covered: BTreeSet<usize> = BTreeSet::new();
    let mut members: Vec<BTreeSet<usize>> = Vec::new();
    for &j in &r.jobs {
        let job = &m.cat.jobs[j];
        let (pipeline, nodes) = match &job.kind {
            JobKind::Assets(sel) => asset_job(m, &g, &r, job, sel),
            JobKind::Ops(def) => (op_job(m, &r, job, def), BTreeSet::new()),
        };
        covered.extend(nodes.iter().copied());
        job_pipeline.insert(j, out.len());
        members.push(nodes);
        out.push(pipeline);
    }
    // One pipeline per asset group, for the assets no job selects.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for p in 0..g.reg.len() {
        if covered.contains(&p) {
            continue;
        }
        let group = &g.infos[p].group;
        match groups.iter_mut().find(|x| &x.0 == group) {
            Some(x) => x.1.push(p),
            None => groups.push((group.clone(), vec![p])),
        }
    }
    let taken: BTreeSet<String> = out.iter().map(|p| p.id.clone()).collect();
    for (group, positions) in groups {
        let mut id = group.clone();
        if taken.contains(&id) {
            id = format!("{group}_assets");
        }
        let nodes: BTreeSet<usize> = positions.into_iter().collect();
        let mut p = base_pipeline(
            &id,
            m.cat.assets[g.reg[*nodes.iter().next().unwrap_or(&0)]]
                .node
                .span,
        );
        fill_assets(m, &g, &r.checks, &nodes, &mut p);
        p.partitions = uniform_partitions(m, &g, &nodes).map(|d| d.partitions);
        p.resources = r.resources.clone();
        p.extra.insert("asset_group".into(), Value::Str(group));
        members.push(nodes);
        out.push(p);
    }
    // Schedules onto their job's pipeline.
    let mut schedules_of: BTreeMap<usize, Vec<(String, Schedule, &ScheduleDef)>> = BTreeMap::new();
    for &s in &r.schedules {
        let sched = &m.cat.schedules[s];
        let job = sched.job.or_else(|| {
            sched
                .job_name
                .as_ref()
                .and_then(|n| r.jobs.iter().copied().find(|&j| &m.cat.jobs[j].name == n))
        });
        let Some(pipe) = job.and_then(|j| job_pipeline.get(&j).copied()) else {
            file_opaque.push(schedule_opaque(
                sched,
                "the schedule targets no job defined in this file",
            ));
            continue;
        };
        let Some(j) = job else { continue };
        let job_def = &m.cat.jobs[j];
        let parts = job_partitions(m, &g, job_def, &members[pipe]);
        match schedule_of(sched, job_def, parts.as_ref()) {
            Ok((name, schedule)) => {
                schedules_of
                    .entry(pipe)
                    .or_default()
                    .push((name, schedule, sched));
                out[pipe].opaque.extend(sched.opaque.iter().cloned());
            }
            Err(why) => out[pipe].opaque.push(schedule_opaque(sched, why)),
        }
    }
    for (pipe, list) in schedules_of {
        let p = &mut out[pipe];
        p.schedule = list.first().map(|x| x.1.clone());
        p.extra.insert(
            "schedules".into(),
            Value::List(
                list.into_iter()
                    .map(|(name, s, def)| {
                        let mut d: BTreeMap<String, Value> = def.extra.clone();
                        d.insert("name".into(), Value::Str(name));
                        d.insert("cron".into(), s.value.map_or(Value::None, Value::Str));
                        d.insert(
                            "timezone".into(),
                            s.timezone.map_or(Value::None, Value::Str),
                        );
                        d.insert("kind".into(), Value::Str(def.kind.into()));
                        Value::Dict(d)
                    })
                    .collect(),
            ),
        );
    }
    // Sensors onto the pipelines they start.
    for &s in &r.sensors {
        let sensor = &m.cat.sensors[s];
        let mut targets: BTreeSet<usize> = sensor
            .jobs
            .iter()
            .filter_map(|j| job_pipeline.get(j).copied())
            .collect();
        for name in &sensor.job_names {
            for (&j, &pipe) in &job_pipeline {
                if &m.cat.jobs[j].name == name {
                    targets.insert(pipe);
                }
            }
        }
        if let Some(sel) = &sensor.selection {
            let keys = sel.resolve(&g.infos);
            for (pipe, nodes) in members.iter().enumerate() {
                if keys.iter().any(|k| nodes.contains(k)) {
                    targets.insert(pipe);
                }
            }
        }
        if targets.is_empty() {
            file_opaque.push(Opaque {
                kind: "untargeted_sensor".into(),
                line: sensor.trigger.span.line,
                span: sensor.trigger.span,
                why: format!(
                    "the sensor `{}` names no job or asset of this file; the runs it requests are decided in its body",
                    sensor.trigger.name
                ),
                source: None,
            });
            continue;
        }
        for pipe in targets {
            let p = &mut out[pipe];
            p.sensors.push(sensor.trigger.clone());
            if !sensor.extra.is_empty() {
                let entry = p
                    .extra
                    .entry("sensor_options".into())
                    .or_insert_with(|| Value::Dict(BTreeMap::new()));
                if let Value::Dict(m) = entry {
                    m.insert(
                        sensor.trigger.name.clone(),
                        Value::Dict(sensor.extra.clone()),
                    );
                }
            }
        }
    }
    for p in &mut out {
        for (k, v) in &r.extra {
            p.extra.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    match out.first_mut() {
        Some(first) => {
            first.opaque.splice(0..0, file_opaque);
        }
        None => {
            for o in file_opaque {
                diagnostics.push(warn(
                    &format!("opaque-{}", o.kind),
                    o.span,
                    o.why,
                    "orchmig found no Dagster pipeline in this file to attach this to",
                ));
            }
        }
    }
    (out, diagnostics)
}

fn schedule_opaque(s: &ScheduleDef, why: &str) -> Opaque {
    Opaque {
        kind: "unread_schedule".into(),
        line: s.span.line,
        span: s.span,
        why: why.to_string(),
        source: s.name.clone(),
    }
}

fn base_pipeline(id: &str, span: Span) -> Pipeline {
    Pipeline {
        id: id.to_string(),
        name: id.to_string(),
        framework: Some(Framework::Dagster),
        span,
        ..Pipeline::default()
    }
}

/// The schedule's name and IR schedule.
fn schedule_of(
    s: &ScheduleDef,
    job: &JobDef,
    parts: Option<&PartitionsDef>,
) -> Result<(String, Schedule), &'static str> {
    let name = s
        .name
        .clone()
        .unwrap_or_else(|| format!("{}_schedule", job.name));
    let (cron, timezone) = match &s.cron {
        ScheduleCron::Given(Some(c)) => (c.clone(), s.timezone.clone()),
        ScheduleCron::Given(None) => return Err("the schedule's cron is not known statically"),
        ScheduleCron::FromPartitions(_, Some(c)) => (c.clone(), s.timezone.clone()),
        ScheduleCron::FromPartitions(o, None) => {
            let parts = parts.ok_or("the schedule's job is not partitioned")?;
            let (cron, tz) = partitions::partitioned_schedule(parts, *o)
                .ok_or("the job's partitions have no time axis to derive a cron from")?;
            (cron, tz.or_else(|| s.timezone.clone()))
        }
    };
    let kind = if cron.starts_with('@') {
        ScheduleKind::Preset
    } else {
        ScheduleKind::Cron
    };
    Ok((
        name,
        Schedule {
            kind,
            value: Some(cron),
            timezone,
            assets: Vec::new(),
            parameters: Default::default(),
        },
    ))
}

/// The partitions a set of assets share, if every partitioned one has the same definition.
fn uniform_partitions(
    m: &ModuleReader,
    g: &AssetGraph,
    nodes: &BTreeSet<usize>,
) -> Option<PartitionsDef> {
    let mut found: Option<PartitionsDef> = None;
    for &p in nodes {
        let a = &m.cat.assets[g.reg[p]];
        if a.external {
            continue;
        }
        if let Some(d) = &a.partitions {
            match &found {
                None => found = Some(d.clone()),
                Some(f) if f.partitions == d.partitions => {}
                Some(_) => return None,
            }
        }
    }
    found
}

fn job_partitions(
    m: &ModuleReader,
    g: &AssetGraph,
    job: &JobDef,
    nodes: &BTreeSet<usize>,
) -> Option<PartitionsDef> {
    job.partitions
        .clone()
        .or_else(|| uniform_partitions(m, g, nodes))
}

/// Adds asset nodes, the edges between them, their groups and checks to a pipeline.
fn fill_assets(
    m: &ModuleReader,
    g: &AssetGraph,
    checks: &[usize],
    nodes: &BTreeSet<usize>,
    p: &mut Pipeline,
) {
    let mut group_ids: Vec<String> = Vec::new();
    for &pos in nodes {
        let a = &m.cat.assets[g.reg[pos]];
        let mut node: Node = a.node.clone();
        node.inlets = g.deps[pos]
            .iter()
            .map(|d| AssetRef {
                name: Some(d.key.join("/")),
                uri: None,
            })
            .collect();
        if !group_ids.contains(&a.group) {
            group_ids.push(a.group.clone());
            p.groups.push(Group {
                id: a.group.clone(),
                kind: GroupKind::AssetGroup,
                parent: None,
                policy: Default::default(),
                description: None,
                span: a.node.span,
            });
        }
        p.opaque.extend(a.opaque.iter().cloned());
        p.nodes.push(node);
    }
    for &pos in nodes {
        let to = m.cat.assets[g.reg[pos]].key.join("/");
        for d in &g.deps[pos] {
            let Some(t) = d.target.filter(|t| nodes.contains(t)) else {
                continue;
            };
            p.edges.push(Edge {
                from: m.cat.assets[g.reg[t]].key.join("/"),
                to: to.clone(),
                kind: d.kind,
                param: d.param.clone(),
                output: None,
                span: d.span,
            });
        }
    }
    // A guarded asset's condition reads its inputs: each name is the asset that feeds it.
    for node in &mut p.nodes {
        let Some(cond) = &node.condition else {
            continue;
        };
        let words = crate::python::parse::referenced_names(cond).unwrap_or_default();
        for e in p.edges.iter().filter(|e| e.to == node.id) {
            if let Some(param) = e.param.as_ref().filter(|x| words.contains(*x)) {
                node.condition_reads.insert(param.clone(), e.from.clone());
            }
        }
    }
    for &c in checks {
        let check = &m.cat.checks[c];
        if g.pos_of_key
            .get(&check.asset)
            .is_some_and(|pos| nodes.contains(pos))
        {
            p.checks.push(Check::clone(&check.check));
        }
    }
}

fn job_fields(p: &mut Pipeline, r: &Registry, job: &JobDef) {
    p.description = job.description.clone();
    p.tags = job.tags.clone();
    p.owner = (!job.owners.is_empty()).then(|| job.owners.join(","));
    p.defaults = job.defaults.clone();
    p.resources = r.resources.clone();
    p.resources.extend(job.resources.iter().cloned());
    p.extra = job.extra.clone();
    p.opaque.extend(job.opaque.iter().cloned());
}

fn asset_job(
    m: &ModuleReader,
    g: &AssetGraph,
    r: &Registry,
    job: &JobDef,
    sel: &Result<Option<Selection>, String>,
) -> (Pipeline, BTreeSet<usize>) {
    let mut p = base_pipeline(&job.name, job.span);
    job_fields(&mut p, r, job);
    p.extra
        .insert("job_kind".into(), Value::Str("assets".into()));
    let selected: BTreeSet<usize> = match sel {
        Ok(None) => Selection::All.resolve(&g.infos),
        Ok(Some(s)) => s.resolve(&g.infos),
        Err(why) => {
            p.opaque.push(Opaque {
                kind: "unresolved_selection".into(),
                line: job.span.line,
                span: job.span,
                why: why.clone(),
                source: Some(job.name.clone()),
            });
            BTreeSet::new()
        }
    };
    let selected: BTreeSet<usize> = selected
        .into_iter()
        .filter(|&pos| !g.infos[pos].external)
        .collect();
    let mut nodes = selected.clone();
    for &pos in &selected {
        for d in &g.deps[pos] {
            if let Some(t) = d.target
                && g.infos[t].external
            {
                nodes.insert(t);
            }
        }
    }
    // `.without_checks()`: those assets' checks are not part of the job.
    let unchecked = match sel {
        Ok(Some(s)) => s.without_checks(&g.infos),
        _ => BTreeSet::new(),
    };
    let checks: Vec<usize> = r
        .checks
        .iter()
        .copied()
        .filter(|&c| {
            g.pos_of_key
                .get(&m.cat.checks[c].asset)
                .is_none_or(|pos| !unchecked.contains(pos))
        })
        .collect();
    fill_assets(m, g, &checks, &nodes, &mut p);
    p.partitions = job_partitions(m, g, job, &selected).map(|d| d.partitions);
    (p, nodes)
}

fn op_job(
    m: &ModuleReader,
    r: &Registry,
    job: &JobDef,
    def: &crate::frontend::callable::FunctionDef,
) -> Pipeline {
    let mut p = base_pipeline(&job.name, job.span);
    job_fields(&mut p, r, job);
    p.extra.insert("job_kind".into(), Value::Str("ops".into()));
    let graph = OpReader::new(m).read(def);
    p.nodes = graph.nodes;
    p.edges = graph.edges;
    p.groups = graph.groups;
    // Dagster skips an op that reads an output its upstream did not yield.
    crate::ir::optional::apply_conditions(&mut p);
    p.opaque.extend(graph.opaque);
    p.partitions = job.partitions.as_ref().map(|d| d.partitions.clone());
    // The composing functions as written (graphs it uses, then the job), so that a port back to
    // Dagster can keep the op composition verbatim.
    let mut composition: Vec<Value> = m
        .cat
        .graphs
        .iter()
        .filter(|g| {
            p.groups
                .iter()
                .any(|gr| gr.id.rsplit('.').next() == Some(g.name.as_str()))
        })
        .map(|g| Value::Str(decorated(m, &g.def)))
        .collect();
    composition.push(Value::Str(decorated(m, def)));
    // A graph turned into a job (`job = graph.to_job(...)`): that statement too.
    let is_job_fn = def.decorators.iter().any(|d| {
        m.source(crate::python::ast::Ranged::range(&d.expression))
            .split('(')
            .next()
            .is_some_and(|n| n.ends_with("job"))
    });
    if !is_job_fn {
        let text = m.full_text();
        let (start, end) = (job.span.start as usize, job.span.end as usize);
        let line_start = text[..start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if let Some(stmt) = text.get(line_start..end) {
            composition.push(Value::Str(stmt.to_string()));
        }
    }
    p.extra
        .insert("composition".into(), Value::List(composition));
    p
}

/// A function's source text with its decorators.
fn decorated(m: &ModuleReader, def: &crate::frontend::callable::FunctionDef) -> String {
    let mut text: String = def
        .decorators
        .iter()
        .map(|d| {
            format!(
                "@{}\n",
                m.source(crate::python::ast::Ranged::range(&d.expression))
            )
        })
        .collect();
    text.push_str(m.source(def.range));
    text
}
