//! The scheduler: runs a pipeline's step instances over the petgraph view on the virtual clock —
//! a ready queue in a deterministic order under `--max-active`, trigger rules, retries with their
//! delays, timeouts, mapping expansion, branches and short-circuits, partitions under
//! `--max-partitions-active`, sub-pipelines as nested runs with their own retry boundary, and the
//! ledger events of all of it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::clock::{Clock, Millis, seconds};
use super::fault::Faults;
use super::ledger::{Event, History, InstanceKey, LedgerWriter};
use super::mapping::{self, Combine};
use super::policy::{AttemptPolicy, ms};
use super::runner::{Attempt, Input, Outcome, Runner};
use super::trace::Record;
use super::trigger::{Decision, State, TriggerRule, Upstream, decide};
use crate::ir::graph::PipelineGraph;
use crate::ir::{EdgeKind, NodeKind, Pipeline, SourceFile, Value};

/// Virtual length of an attempt that neither fails by timeout nor runs a sub-pipeline.
pub const ATTEMPT_MS: Millis = 1000;
/// Most instances one mapped step may expand to.
pub const MAX_WIDTH: usize = 10_000;
/// Deepest nesting of sub-pipelines (a pipeline calling itself stops here).
pub const MAX_DEPTH: usize = 8;

/// Names a framework passes to a step by parameter name (Airflow context, Dagster context).
const MAGIC: &[&str] = &[
    "context",
    "ds",
    "ds_nodash",
    "ts",
    "logical_date",
    "execution_date",
    "data_interval_start",
    "data_interval_end",
    "ti",
    "task_instance",
    "params",
    "dag_run",
    "run_id",
    "conf",
    "partition_key",
    "config",
];

/// What a pipeline needs before it can run: its order, upstreams and per-step policies.
pub struct Plan<'p> {
    /// The pipeline.
    pub pipeline: &'p Pipeline,
    /// Node indices in dependency order.
    pub order: Vec<usize>,
    /// Position of each node in `order`.
    pub rank: Vec<usize>,
    /// Upstream node indices of each node.
    pub ups: Vec<Vec<usize>>,
    /// Downstream node indices of each node.
    pub downs: Vec<Vec<usize>>,
    /// Data inputs of each node: (parameter, upstream, the upstream's named output it reads),
    /// in edge order.
    pub data_in: Vec<Vec<(String, usize, Option<Selector>)>>,
    /// Retry and timeout policy of each node.
    pub policy: Vec<AttemptPolicy>,
    /// Trigger rule of each node.
    pub rule: Vec<TriggerRule>,
    /// Priority weight of each node (higher starts first).
    pub priority: Vec<i64>,
    /// Trigger rules that were not recognised (run as all_success).
    pub warnings: Vec<String>,
    /// Each node's index by id (the first node of an id).
    pub index_of: HashMap<String, usize>,
    /// The upstream whose value each parameter name carries: the first data edge feeding a
    /// parameter of that name, anywhere in the pipeline (a condition's names read it).
    pub param_source: HashMap<String, usize>,
    /// The names each node's condition reads (empty without one), parsed once.
    pub condition_names: Vec<Vec<String>>,
}

/// Which named output of an upstream a data edge reads: the edge's output, or (an asset of a
/// Dagster multi-asset, whose function returns every output) the asset's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// The output's name (a key of a returned dict).
    pub name: String,
    /// Its position among the upstream's declared outputs (an element of a returned tuple).
    pub index: Option<usize>,
}

impl Selector {
    /// The selector of an edge from `up`, if it reads one of several outputs.
    fn of(e: &crate::ir::Edge, up: &crate::ir::Node) -> Option<Selector> {
        let name = match &e.output {
            Some(o) => o.clone(),
            None => crate::ir::multi_asset_output(up)?,
        };
        let index = up.outputs.iter().position(|o| *o == name);
        Some(Selector { name, index })
    }
}

impl<'p> Plan<'p> {
    /// Builds the plan; a cycle is an error naming its steps.
    pub fn new(p: &'p Pipeline) -> Result<Plan<'p>, String> {
        let graph = PipelineGraph::new(p);
        let Some(_) = graph.topological_order() else {
            let names: Vec<String> = graph
                .cycles()
                .into_iter()
                .flatten()
                .filter_map(|i| p.nodes.get(i).map(|n| format!("`{}`", n.id)))
                .collect();
            return Err(format!(
                "pipeline `{}` has a dependency cycle through {}: it cannot run",
                p.id,
                names.join(", ")
            ));
        };
        let n = p.nodes.len();
        let index: HashMap<&str, usize> = p
            .nodes
            .iter()
            .enumerate()
            .rev()
            .map(|(i, x)| (x.id.as_str(), i))
            .collect();
        let mut ups = vec![Vec::new(); n];
        let mut downs = vec![Vec::new(); n];
        let mut data_in = vec![Vec::new(); n];
        // A set, not a scan of each list: dense graphs (a step with a thousand upstreams) stay
        // linear in their edges.
        let mut linked: HashSet<(usize, usize)> = HashSet::with_capacity(p.edges.len());
        for e in &p.edges {
            let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            else {
                continue;
            };
            if linked.insert((a, b)) {
                ups[b].push(a);
                downs[a].push(b);
            }
            if e.kind == EdgeKind::Data
                && let Some(param) = &e.param
            {
                data_in[b].push((param.clone(), a, Selector::of(e, &p.nodes[a])));
            }
        }
        // Kahn's algorithm taking the earliest-declared ready step first: a stable order.
        let mut indegree: Vec<usize> = ups.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &d in &downs[i] {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        if order.len() != n {
            return Err(format!(
                "pipeline `{}` has a dependency cycle: it cannot run",
                p.id
            ));
        }
        let mut rank = vec![0; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        let mut warnings = Vec::new();
        let mut policy = Vec::with_capacity(n);
        let mut rule = Vec::with_capacity(n);
        let mut priority = Vec::with_capacity(n);
        for node in &p.nodes {
            let mut eff = p.effective_policy(node);
            if eff.timeout.is_none()
                && let Some(t) = node.sensor.as_ref().and_then(|s| s.timeout)
            {
                eff.timeout = Some(t);
            }
            policy.push(AttemptPolicy::from_policy(&eff, p.framework));
            let text = node.trigger_rule.clone().or(eff.trigger_rule.clone());
            rule.push(match text.as_deref() {
                None => TriggerRule::AllSuccess,
                Some(t) => TriggerRule::parse(t).unwrap_or_else(|| {
                    warnings.push(format!(
                        "step `{}` has the unknown trigger rule `{t}`; it runs as all_success",
                        node.id
                    ));
                    TriggerRule::AllSuccess
                }),
            });
            priority.push(eff.priority.unwrap_or(1));
        }
        // A Dagster asset whose condition does not hold still materialises (None), so what
        // depends on it runs unless something failed. An op skipped because an optional output
        // it reads was not produced produces nothing: what reads it is skipped too.
        if p.framework == Some(crate::ir::Framework::Dagster) {
            let output_readers = crate::ir::optional::readers(p);
            for (i, node) in p.nodes.iter().enumerate() {
                if rule[i] == TriggerRule::AllSuccess
                    && node.trigger_rule.is_none()
                    && ups[i].iter().any(|&u| {
                        p.nodes[u].condition.is_some()
                            && !output_readers.contains(p.nodes[u].id.as_str())
                    })
                {
                    rule[i] = TriggerRule::NoneFailed;
                }
            }
        }
        let mut param_source: HashMap<String, usize> = HashMap::new();
        for e in &p.edges {
            if let (EdgeKind::Data, Some(param)) = (e.kind, &e.param)
                && let Some(&from) = index.get(e.from.as_str())
            {
                param_source.entry(param.clone()).or_insert(from);
            }
        }
        let index_of = index.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
        let condition_names = p
            .nodes
            .iter()
            .map(|n| {
                n.condition
                    .as_deref()
                    .and_then(crate::python::parse::referenced_names)
                    .map(|names| {
                        let mut v: Vec<String> = names.into_iter().collect();
                        v.sort();
                        v
                    })
                    .unwrap_or_default()
            })
            .collect();
        Ok(Plan {
            pipeline: p,
            order,
            rank,
            ups,
            downs,
            data_in,
            policy,
            rule,
            priority,
            warnings,
            index_of,
            param_source,
            condition_names,
        })
    }

    /// Every step downstream of the given ones (transitively), the given ones included.
    pub fn downstream_closure(&self, seeds: impl IntoIterator<Item = usize>) -> HashSet<usize> {
        let mut out = HashSet::new();
        let mut stack: Vec<usize> = seeds.into_iter().collect();
        while let Some(i) = stack.pop() {
            if out.insert(i) {
                stack.extend(self.downs[i].iter().copied());
            }
        }
        out
    }
}

/// What every (nested) run of one command shares: the file, the runner, the ledger, the faults.
pub struct Env<'a> {
    /// The file the pipelines come from.
    pub file: &'a SourceFile,
    /// The runner.
    pub runner: &'a mut dyn Runner,
    /// The ledger, if one is written.
    pub ledger: Option<&'a mut LedgerWriter>,
    /// The ledger being resumed, if any.
    pub history: Option<&'a History>,
    /// Injected faults (sub-pipeline steps are checked here; the dry runner checks the rest).
    pub faults: &'a Faults,
    /// Concurrent attempts per run.
    pub max_active: usize,
    /// Concurrent partitions.
    pub max_partitions_active: usize,
    /// Width of a mapped step whose collection is unknown (dry runner).
    pub map_width: usize,
    /// The first ledger write error, which stops the run.
    pub ledger_error: Option<String>,
    /// Attempt numbers reached per instance over this command and the ledger's history, so
    /// faults count attempts across sub-pipeline retries and resumes.
    pub attempts: HashMap<InstanceKey, u32>,
}

impl Env<'_> {
    fn next_attempt(&mut self, key: InstanceKey) -> u32 {
        let seen = match self.attempts.get(&key) {
            Some(&n) => n,
            None => self
                .history
                .and_then(|h| h.attempts.get(&key).copied())
                .unwrap_or(0),
        };
        self.attempts.insert(key, seen + 1);
        seen + 1
    }

    fn log(&mut self, event: Event) {
        if self.ledger_error.is_some() {
            return;
        }
        if let Some(l) = self.ledger.as_deref_mut()
            && let Err(e) = l.write(&event)
        {
            self.ledger_error = Some(format!("cannot write the ledger: {e}"));
        }
    }
}

/// One run request: a pipeline, the partitions to run, and where it sits.
pub struct RunSpec<'p> {
    /// The pipeline.
    pub pipeline: &'p Pipeline,
    /// Prefix of step paths (`parent::` for nested runs, empty at the top).
    pub prefix: String,
    /// Partition keys, in order (`None` for an unpartitioned run).
    pub partitions: Vec<Option<String>>,
    /// Parameters of each run.
    pub params: BTreeMap<String, Input>,
    /// Virtual time the run starts at.
    pub start: Millis,
    /// Nesting depth.
    pub depth: usize,
    /// Whether to restore finished steps from the ledger (`--resume`, top level only).
    pub resume: bool,
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Records of what ran (restored steps excluded), in trace order.
    pub records: Vec<Record>,
    /// Whether the run succeeded by its framework's rule (exec::final_state).
    pub ok: bool,
    /// Virtual time of the last event.
    pub end: Millis,
    /// The stored output key of the run's single sink, if it has one (a sub-pipeline's result).
    pub sink_key: Option<String>,
    /// That sink's output as JSON.
    pub sink_output: Option<serde_json::Value>,
    /// Instances that a resume re-ran.
    pub rerun: usize,
}

#[derive(Debug, Clone)]
struct Inst {
    part: usize,
    node: usize,
    map_index: Option<usize>,
    attempts: u32,
    attempt_no: u32,
    state: Option<State>,
    first_start: Option<Millis>,
    attempt_start: Millis,
    end: Option<Millis>,
    decided: Millis,
    output: Option<serde_json::Value>,
    len: Option<usize>,
    error: Option<String>,
    restored: bool,
    key: String,
    out_key: String,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    expanded: bool,
    insts: Vec<usize>,
    lens: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PartState {
    Pending,
    Active,
    Done,
}

struct Part {
    key: Option<String>,
    state: PartState,
    slots: Vec<Slot>,
    forced_skip: HashSet<usize>,
    rerun: Option<HashSet<usize>>,
    /// Ranks of the undecided steps to look at again: every step at first, then the
    /// downstream steps of each step whose state changed (a pass is linear in the changes, not
    /// in the whole graph: a dense graph of 2,000 steps and 100,000 edges runs in a second).
    dirty: BTreeSet<usize>,
}

enum Ev {
    Done(usize, Outcome),
    Retry(usize),
}

struct Exec<'p> {
    plan: Plan<'p>,
    spec: RunSpec<'p>,
    parts: Vec<Part>,
    insts: Vec<Inst>,
    clock: Clock<Ev>,
    queue: BTreeSet<(usize, i64, usize, usize, usize)>,
    /// The partitions running now, in order: every pass looks at these, not at every partition
    /// of the backfill (10 years hourly is 87,600 of them).
    active: BTreeSet<usize>,
    /// The first partition that may still be pending (they start in order).
    next_pending: usize,
    /// How many partitions are done.
    done: usize,
    running: usize,
    nested: BTreeMap<InstanceKey, (Record, usize)>,
}

/// Runs a pipeline (all its partitions) and returns its records.
pub fn run(env: &mut Env, spec: RunSpec) -> Result<RunOutcome, String> {
    let plan = Plan::new(spec.pipeline)?;
    let mut parts = Vec::new();
    for key in &spec.partitions {
        let rerun = if spec.resume {
            env.history.map(|h| rerun_set(&plan, &spec.prefix, key, h))
        } else {
            None
        };
        parts.push(Part {
            key: key.clone(),
            state: PartState::Pending,
            slots: vec![Slot::default(); spec.pipeline.nodes.len()],
            forced_skip: HashSet::new(),
            rerun,
            dirty: (0..spec.pipeline.nodes.len()).collect(),
        });
    }
    let mut ex = Exec {
        plan,
        clock: Clock::starting_at(spec.start),
        spec,
        parts,
        insts: Vec::new(),
        queue: BTreeSet::new(),
        active: BTreeSet::new(),
        next_pending: 0,
        done: 0,
        running: 0,
        nested: BTreeMap::new(),
    };
    ex.main(env)
}

/// The steps of one partition a resume runs again: those with no final success or skip in the
/// ledger, and everything downstream of them.
pub(crate) fn rerun_set(
    plan: &Plan,
    prefix: &str,
    key: &Option<String>,
    h: &History,
) -> HashSet<usize> {
    let p = plan.pipeline;
    let mut seeds = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        let path = format!("{prefix}{}", n.id);
        let done = |m: Option<usize>| {
            matches!(
                h.finals.get(&(path.clone(), key.clone(), m)),
                Some((State::Success | State::Skipped, _))
            )
        };
        let complete = match h.widths.get(&(path.clone(), key.clone())) {
            Some(&w) if w > 0 => (0..w).all(|m| done(Some(m))),
            _ => done(None),
        };
        if !complete {
            seeds.push(i);
        }
    }
    plan.downstream_closure(seeds)
}

/// A literal value as JSON (expressions and calls have no JSON form: `null`).
pub fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::None | Value::Expr(_) | Value::Call(_) => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) | Value::Duration(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::Str(s) => J::String(s.clone()),
        Value::DateTime(d) => J::String(d.iso()),
        Value::List(items) => J::Array(items.iter().map(value_json).collect()),
        Value::Dict(d) => J::Object(d.iter().map(|(k, v)| (k.clone(), value_json(v))).collect()),
    }
}

/// A literal value as Python source.
pub fn value_source(v: &Value) -> String {
    crate::python::print::value(v).flat()
}

impl<'p> Exec<'p> {
    fn path(&self, node: usize) -> String {
        format!("{}{}", self.spec.prefix, self.plan.pipeline.nodes[node].id)
    }

    fn main(&mut self, env: &mut Env) -> Result<RunOutcome, String> {
        let max_active = env.max_active.max(1);
        let max_parts = env.max_partitions_active.max(1);
        let mut guard: u64 = 0;
        loop {
            guard += 1;
            if guard > 50_000_000 {
                return Err("the run did not converge (internal limit reached)".into());
            }
            if let Some(e) = env.ledger_error.clone() {
                return Err(e);
            }
            // Partitions start in order as slots free up.
            let mut room = max_parts.saturating_sub(self.active.len());
            while room > 0 && self.next_pending < self.parts.len() {
                let pi = self.next_pending;
                self.next_pending += 1;
                if self.parts[pi].state == PartState::Pending {
                    self.parts[pi].state = PartState::Active;
                    self.active.insert(pi);
                    room -= 1;
                }
            }
            while self.evaluate(env) {}
            while self.running < max_active {
                let Some(&first) = self.queue.iter().next() else {
                    break;
                };
                self.queue.remove(&first);
                self.start(env, first.4);
            }
            if let Some(e) = env.ledger_error.clone() {
                return Err(e);
            }
            if self.clock.is_idle() {
                if self.done == self.parts.len() {
                    break;
                }
                if !self.active.is_empty() && self.queue.is_empty() && !self.stuck(env) {
                    break;
                }
                continue;
            }
            for ev in self.clock.advance() {
                match ev {
                    Ev::Done(i, outcome) => self.finish(env, i, outcome),
                    Ev::Retry(i) => self.enqueue(i),
                }
            }
        }
        Ok(self.outcome())
    }

    /// Nothing is running or queued but steps are undecided (cannot happen in a DAG): they are
    /// marked skipped so the run ends. Returns whether anything changed.
    fn stuck(&mut self, env: &mut Env) -> bool {
        let mut changed = false;
        for pi in self.active.clone() {
            for ni in 0..self.plan.pipeline.nodes.len() {
                if !self.parts[pi].slots[ni].expanded {
                    self.decide_as(
                        env,
                        pi,
                        ni,
                        State::Skipped,
                        Some("never became ready".into()),
                    );
                    changed = true;
                }
            }
            self.close_part(pi);
        }
        changed
    }

    fn enqueue(&mut self, i: usize) {
        let inst = &self.insts[i];
        let prio = -self.plan.priority[inst.node];
        self.queue.insert((
            inst.part,
            prio,
            self.plan.rank[inst.node],
            inst.map_index.unwrap_or(0),
            i,
        ));
    }

    fn states_of(&self, part: usize, node: usize) -> Vec<Option<State>> {
        let slot = &self.parts[part].slots[node];
        if !slot.expanded {
            return vec![None];
        }
        if slot.insts.is_empty() {
            return vec![Some(State::Skipped)];
        }
        slot.insts.iter().map(|&i| self.insts[i].state).collect()
    }

    /// Decides every undecided step of the active partitions once; true when something changed.
    fn evaluate(&mut self, env: &mut Env) -> bool {
        let mut changed = false;
        for pi in self.active.clone() {
            while let Some(r) = self.parts[pi].dirty.pop_first() {
                let ni = self.plan.order[r];
                if self.parts[pi].slots[ni].expanded {
                    continue;
                }
                if self.try_restore(env, pi, ni) {
                    changed = true;
                    continue;
                }
                if self.parts[pi].forced_skip.contains(&ni) {
                    self.decide_as(env, pi, ni, State::Skipped, None);
                    changed = true;
                    continue;
                }
                // A Prefect call under a false `if` never happens: what waits for its (None)
                // future runs as if it had no such upstream. Only Airflow skips downstream.
                let prefect = self.plan.pipeline.framework == Some(crate::ir::Framework::Prefect);
                let ups: Vec<Option<State>> = self.plan.ups[ni]
                    .iter()
                    .flat_map(|&u| self.states_of(pi, u))
                    .map(|s| match s {
                        Some(State::Skipped) if prefect => Some(State::Success),
                        other => other,
                    })
                    .collect();
                match decide(self.plan.rule[ni], Upstream::count(ups)) {
                    Decision::Wait => {}
                    Decision::Skip => {
                        self.decide_as(env, pi, ni, State::Skipped, None);
                        changed = true;
                    }
                    Decision::UpstreamFailed => {
                        self.decide_as(env, pi, ni, State::UpstreamFailed, None);
                        changed = true;
                    }
                    Decision::Run => {
                        self.expand(env, pi, ni);
                        changed = true;
                    }
                }
            }
            changed |= self.close_part(pi);
        }
        changed
    }

    fn close_part(&mut self, pi: usize) -> bool {
        let part = &self.parts[pi];
        if part.state != PartState::Active {
            return false;
        }
        let done = part
            .slots
            .iter()
            .all(|s| s.expanded && s.insts.iter().all(|&i| self.insts[i].state.is_some()));
        if done {
            self.parts[pi].state = PartState::Done;
            self.active.remove(&pi);
            self.done += 1;
        }
        done
    }

    fn new_inst(&mut self, pi: usize, ni: usize, map_index: Option<usize>) -> usize {
        let path = self.path(ni);
        let key = format!(
            "{}|{}|{}",
            path,
            self.parts[pi].key.clone().unwrap_or_default(),
            map_index.map(|m| m.to_string()).unwrap_or_default()
        );
        self.insts.push(Inst {
            part: pi,
            node: ni,
            map_index,
            attempts: 0,
            attempt_no: 0,
            state: None,
            first_start: None,
            attempt_start: 0,
            end: None,
            decided: self.clock.now(),
            output: None,
            len: None,
            error: None,
            restored: false,
            key: key.clone(),
            out_key: key,
        });
        let i = self.insts.len() - 1;
        self.parts[pi].slots[ni].insts.push(i);
        i
    }

    /// Marks a step decided without running (skipped, upstream_failed, or failed before running).
    fn decide_as(
        &mut self,
        env: &mut Env,
        pi: usize,
        ni: usize,
        state: State,
        error: Option<String>,
    ) {
        self.parts[pi].slots[ni].expanded = true;
        let i = self.new_inst(pi, ni, None);
        self.insts[i].state = Some(state);
        self.insts[i].error = error;
        self.changed(pi, ni);
        self.log_final(env, i);
    }

    /// Step `ni` of partition `pi` was expanded or one of its instances changed state: its
    /// downstream steps are looked at again in the next pass.
    fn changed(&mut self, pi: usize, ni: usize) {
        for &d in &self.plan.downs[ni] {
            self.parts[pi].dirty.insert(self.plan.rank[d]);
        }
    }

    /// Restores a finished step of a resumed run from the ledger; true when it did.
    fn try_restore(&mut self, env: &mut Env, pi: usize, ni: usize) -> bool {
        let Some(rerun) = &self.parts[pi].rerun else {
            return false;
        };
        if rerun.contains(&ni) {
            return false;
        }
        let Some(h) = env.history else {
            return false;
        };
        let path = self.path(ni);
        let key = self.parts[pi].key.clone();
        let width = h.widths.get(&(path.clone(), key.clone())).copied();
        self.parts[pi].slots[ni].expanded = true;
        let indices: Vec<Option<usize>> = match width {
            Some(w) if w > 0 => (0..w).map(Some).collect(),
            _ => vec![None],
        };
        for m in indices {
            let i = self.new_inst(pi, ni, m);
            let (state, output) = h
                .finals
                .get(&(path.clone(), key.clone(), m))
                .cloned()
                .unwrap_or((State::Success, None));
            if let Some(o) = &output {
                env.runner.restore(&self.insts[i].key, o);
                self.insts[i].len = match o {
                    serde_json::Value::Array(a) => Some(a.len()),
                    serde_json::Value::Object(d) => Some(d.len()),
                    _ => None,
                };
            }
            let inst = &mut self.insts[i];
            inst.state = Some(state);
            inst.output = output;
            inst.restored = true;
        }
        self.changed(pi, ni);
        true
    }

    /// The run parameters of a partition: the spec's, plus the partition parameter.
    fn params(&self, pi: usize) -> BTreeMap<String, Input> {
        let mut params = self.spec.params.clone();
        if let (Some(crate::ir::Partitions::Parameter { name }), Some(k)) = (
            self.plan.pipeline.partitions.as_ref(),
            self.parts[pi].key.as_ref(),
        ) {
            params.insert(
                name.clone(),
                Input::Json(serde_json::Value::String(k.clone())),
            );
        }
        params
    }

    /// A step whose trigger rule says run: checks its condition, expands its mapping, queues it.
    fn expand(&mut self, env: &mut Env, pi: usize, ni: usize) {
        let p = self.plan.pipeline;
        let n = &p.nodes[ni];
        if let Some(cond) = &n.condition {
            // An exception handler (`except E:`) runs only when its try body raised: when the
            // body made runs, its one_failed rule already said one failed; else nothing
            // modelled raises.
            if cond.trim_start().starts_with("except")
                && n.trigger_rule.as_deref() != Some("one_failed")
            {
                self.decide_as(env, pi, ni, State::Skipped, None);
                return;
            }
            // The locals a condition reads are the results the reader traced to their steps;
            // other names are taken to be named like the parameters they feed. A condition on
            // runs' states (`x.state.is_failed()`) is decided here, from the states, whatever
            // the runner.
            let by_states = n.condition_reads_states();
            let mut params = self.params(pi);
            let mut states = BTreeMap::new();
            for (name, id) in &n.condition_reads {
                let Some(&from) = self.plan.index_of.get(id) else {
                    continue;
                };
                let Some(&j) = self.parts[pi].slots[from].insts.first() else {
                    continue;
                };
                let inst = &self.insts[j];
                if inst.state == Some(State::Success) {
                    let input = match (&inst.output, env.runner.runs_bodies()) {
                        (Some(v), false) => Input::Json(v.clone()),
                        _ => self.inst_input(j),
                    };
                    params.insert(name.clone(), input);
                }
                if by_states {
                    if let Some(state) = inst.state {
                        let key = crate::exec::condition::state_key(name);
                        states.insert(key, serde_json::Value::String(state.to_string()));
                    }
                    if let Some(v) = &inst.output {
                        states.insert(name.clone(), v.clone());
                    }
                }
            }
            for name in &self.plan.condition_names[ni] {
                if let Some(&from) = self.plan.param_source.get(name)
                    && let Some(&j) = self.parts[pi].slots[from].insts.first()
                    && self.insts[j].state == Some(State::Success)
                {
                    params
                        .entry(name.clone())
                        .or_insert_with(|| self.inst_input(j));
                }
            }
            let by_states = by_states.then(|| crate::exec::condition::truth(cond, &states));
            let holds = match by_states.flatten() {
                Some(t) => Some(t),
                None => env.runner.condition(env.file, cond, &params),
            };
            if holds == Some(false) {
                self.decide_as(env, pi, ni, State::Skipped, None);
                return;
            }
        }
        let Some(m) = &n.mapping else {
            self.parts[pi].slots[ni].expanded = true;
            let i = self.new_inst(pi, ni, None);
            self.changed(pi, ni);
            self.enqueue(i);
            return;
        };
        let mut lens = Vec::new();
        let runs = env.runner.runs_bodies();
        for arg in &m.over {
            let len = if let Some(l) = arg.literal.as_ref().and_then(mapping::literal_len) {
                l
            } else if let Some(from) = arg
                .from_node
                .as_ref()
                .and_then(|f| p.nodes.iter().position(|x| &x.id == f))
            {
                let slot = &self.parts[pi].slots[from];
                if p.nodes[from].mapping.is_some() {
                    slot.insts
                        .iter()
                        .filter(|&&i| self.insts[i].state == Some(State::Success))
                        .count()
                } else if runs {
                    match slot.insts.first().and_then(|&i| self.insts[i].len) {
                        Some(l) => l,
                        None => {
                            self.decide_as(
                                env,
                                pi,
                                ni,
                                State::Failed,
                                Some(format!(
                                    "cannot map over the output of `{}`: it is not a list",
                                    p.nodes[from].id
                                )),
                            );
                            return;
                        }
                    }
                } else {
                    env.map_width
                }
            } else {
                env.map_width
            };
            lens.push(len);
        }
        let width = mapping::width(&lens, Combine::of(p.framework));
        let path = self.path(ni);
        if width > MAX_WIDTH {
            self.decide_as(
                env,
                pi,
                ni,
                State::Failed,
                Some(format!(
                    "expands to {width} instances, more than {MAX_WIDTH}"
                )),
            );
            return;
        }
        env.log(Event::Expand {
            node: path,
            partition: self.parts[pi].key.clone(),
            width,
        });
        if width == 0 {
            // Airflow skips a mapped task over an empty collection.
            self.decide_as(env, pi, ni, State::Skipped, None);
            return;
        }
        self.parts[pi].slots[ni].expanded = true;
        self.parts[pi].slots[ni].lens = lens;
        self.changed(pi, ni);
        for k in 0..width {
            let i = self.new_inst(pi, ni, Some(k));
            self.enqueue(i);
        }
    }

    fn inst_input(&self, i: usize) -> Input {
        let inst = &self.insts[i];
        if inst.state == Some(State::Success) {
            Input::Output(inst.out_key.clone())
        } else {
            Input::Json(serde_json::Value::Null)
        }
    }

    /// The arguments of an instance, by parameter.
    fn inputs(&self, i: usize) -> Vec<(String, Input)> {
        let inst = &self.insts[i];
        let (pi, ni) = (inst.part, inst.node);
        let p = self.plan.pipeline;
        let n = &p.nodes[ni];
        let params: Vec<&crate::ir::CallableParam> = n
            .callable
            .as_ref()
            .map(|c| c.params.iter().collect())
            .unwrap_or_default();
        let takes = |name: &str| params.iter().any(|x| x.name == name);
        let first = params
            .iter()
            .find(|x| x.name != "context" && x.name != "self")
            .map(|x| x.name.clone())
            .unwrap_or_default();
        let mut out: Vec<(String, Input)> = Vec::new();
        let mut mapped: HashSet<String> = HashSet::new();
        if let (Some(m), Some(k)) = (&n.mapping, inst.map_index) {
            let lens = &self.parts[pi].slots[ni].lens;
            let idx = mapping::element_indices(k, lens, Combine::of(p.framework));
            for (a, arg) in m.over.iter().enumerate() {
                let e = idx.get(a).copied().unwrap_or(0);
                let param = if arg.param.is_empty() {
                    first.clone()
                } else {
                    arg.param.clone()
                };
                let src = if let Some(lit) = &arg.literal {
                    match lit {
                        Value::List(items) => items
                            .get(e)
                            .map(|v| Input::Expr(value_source(v)))
                            .unwrap_or(Input::Json(serde_json::Value::Null)),
                        other => Input::Element(format!("expr:{}", value_source(other)), e),
                    }
                } else if let Some(from) = arg
                    .from_node
                    .as_ref()
                    .and_then(|f| p.nodes.iter().position(|x| &x.id == f))
                {
                    let slot = &self.parts[pi].slots[from];
                    if p.nodes[from].mapping.is_some() {
                        let ok: Vec<usize> = slot
                            .insts
                            .iter()
                            .copied()
                            .filter(|&j| self.insts[j].state == Some(State::Success))
                            .collect();
                        ok.get(e)
                            .map(|&j| self.inst_input(j))
                            .unwrap_or(Input::Json(serde_json::Value::Null))
                    } else {
                        match slot.insts.first() {
                            Some(&j) => Input::Element(self.insts[j].out_key.clone(), e),
                            None => Input::Json(serde_json::Value::Null),
                        }
                    }
                } else {
                    Input::Json(serde_json::Value::Null)
                };
                if m.kwargs {
                    out.push(("**".into(), src));
                } else {
                    mapped.insert(param.clone());
                    out.push((param, src));
                }
            }
        }
        // Data edges: one upstream is its value; several (or a mapped upstream) are a list.
        let mut fed: Vec<(String, Vec<Input>)> = Vec::new();
        for (param, from, selector) in &self.plan.data_in[ni] {
            if mapped.contains(param) || (!params.is_empty() && !takes(param)) {
                continue;
            }
            let slot = &self.parts[pi].slots[*from];
            let input = if p.nodes[*from].mapping.is_some() {
                Input::List(slot.insts.iter().map(|&j| self.inst_input(j)).collect())
            } else {
                slot.insts
                    .first()
                    .map(|&j| self.inst_input(j))
                    .unwrap_or(Input::Json(serde_json::Value::Null))
            };
            let input = match (selector, input) {
                (Some(sel), Input::Output(key)) => Input::Named(key, sel.name.clone(), sel.index),
                (_, other) => other,
            };
            match fed.iter_mut().find(|(k, _)| k == param) {
                Some((_, v)) => v.push(input),
                None => fed.push((param.clone(), vec![input])),
            }
        }
        for (param, mut v) in fed {
            let input = if v.len() == 1 {
                v.remove(0)
            } else {
                Input::List(v)
            };
            out.push((param, input));
        }
        let given = |out: &Vec<(String, Input)>, k: &str| out.iter().any(|(x, _)| x == k);
        if let Some(m) = &n.mapping {
            for (k, v) in &m.partial {
                if !given(&out, k) {
                    out.push((k.clone(), Input::Expr(value_source(v))));
                }
            }
        }
        for (k, v) in &n.args {
            if !given(&out, k) && (params.is_empty() || takes(k)) {
                out.push((k.clone(), Input::Expr(value_source(v))));
            }
        }
        if let Some(op) = &n.operator {
            if let Some(v) = op.args.get("op_kwargs") {
                out.push(("**".into(), Input::Expr(value_source(v))));
            }
            if let Some(Value::List(items)) = op.args.get("op_args") {
                for (x, v) in params.iter().zip(items) {
                    if !given(&out, &x.name) {
                        out.push((x.name.clone(), Input::Expr(value_source(v))));
                    }
                }
            }
        }
        let resources: Vec<&str> = p.resources.iter().map(|r| r.key.as_str()).collect();
        for x in &params {
            if given(&out, &x.name) || x.name.starts_with('*') || x.name == "self" {
                continue;
            }
            if MAGIC.contains(&x.name.as_str()) || resources.contains(&x.name.as_str()) {
                if x.default.is_none() || x.name == "context" || x.name == "ds" {
                    out.push((x.name.clone(), Input::Magic(x.name.clone())));
                }
            } else if x.default.is_none() {
                out.push((x.name.clone(), Input::Json(serde_json::Value::Null)));
            }
        }
        out
    }

    fn start(&mut self, env: &mut Env, i: usize) {
        let now = self.clock.now();
        let (pi, ni) = (self.insts[i].part, self.insts[i].node);
        self.insts[i].attempts += 1;
        if self.insts[i].first_start.is_none() {
            self.insts[i].first_start = Some(now);
        }
        self.insts[i].attempt_start = now;
        let path = self.path(ni);
        let partition = self.parts[pi].key.clone();
        let attempt = env.next_attempt((path.clone(), partition.clone(), self.insts[i].map_index));
        self.insts[i].attempt_no = attempt;
        env.log(Event::Start {
            node: path.clone(),
            partition: partition.clone(),
            map_index: self.insts[i].map_index,
            attempt,
            at: seconds(now),
        });
        self.running += 1;
        let timeout = self.plan.policy[ni].timeout_ms;
        let p = self.plan.pipeline;
        let n = &p.nodes[ni];
        let file: &SourceFile = env.file;
        let child = (n.kind == NodeKind::SubPipeline && self.spec.depth < MAX_DEPTH)
            .then(|| {
                let id = n
                    .extra
                    .get("pipeline")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| n.callable.as_ref().map(|c| c.name.clone()))?;
                file.pipelines.iter().find(|q| q.id == id && q.id != p.id)
            })
            .flatten();
        let inputs = self.inputs(i);
        let (outcome, duration) = if let Some(child) = child {
            if env.faults.hangs(&path, partition.as_deref(), attempt) {
                let t = timeout.unwrap_or(3_600_000);
                (
                    Outcome {
                        timed_out: true,
                        error: Some("injected hang (--hang): killed at its timeout".into()),
                        ..Outcome::default()
                    },
                    t,
                )
            } else if env.faults.fails(&path, partition.as_deref(), attempt) {
                (
                    Outcome::failure(format!("injected failure (--fail) of attempt {attempt}")),
                    ATTEMPT_MS,
                )
            } else {
                self.nested_run(env, i, child, inputs, now, timeout)
            }
        } else {
            let params = self.params(pi);
            let key = self.insts[i].key.clone();
            let outcome = env.runner.attempt(&Attempt {
                file,
                pipeline: p,
                node: n,
                node_index: ni,
                path: &path,
                partition: partition.as_deref(),
                map_index: self.insts[i].map_index,
                attempt,
                timeout_ms: timeout,
                inputs,
                key,
                params: &params,
            });
            let outcome = force_output(env, &path, &self.insts[i].key, outcome);
            let duration = if outcome.timed_out {
                timeout.unwrap_or(3_600_000)
            } else if n.kind == NodeKind::Empty {
                // A no-op marker takes no time (Airflow never sends it to a worker).
                0
            } else {
                timeout.map_or(ATTEMPT_MS, |t| t.min(ATTEMPT_MS))
            };
            (outcome, duration)
        };
        self.clock
            .at(now.saturating_add(duration.max(1)), Ev::Done(i, outcome));
    }

    /// Runs a sub-pipeline as a nested run: its own steps, retries and records; the calling
    /// step's attempt is the whole nested run (its retry boundary).
    fn nested_run(
        &mut self,
        env: &mut Env,
        i: usize,
        child: &Pipeline,
        inputs: Vec<(String, Input)>,
        now: Millis,
        timeout: Option<Millis>,
    ) -> (Outcome, Millis) {
        let (pi, ni) = (self.insts[i].part, self.insts[i].node);
        let mut params: BTreeMap<String, Input> = child
            .params
            .iter()
            .map(|x| {
                (
                    x.name.clone(),
                    x.default
                        .as_ref()
                        .map(|v| Input::Expr(value_source(v)))
                        .unwrap_or(Input::Json(serde_json::Value::Null)),
                )
            })
            .collect();
        for (k, v) in inputs {
            if k != "**" {
                params.insert(k, v);
            }
        }
        let prefix = format!("{}::", self.path(ni));
        let spec = RunSpec {
            pipeline: child,
            prefix,
            partitions: vec![self.parts[pi].key.clone()],
            params,
            start: now,
            depth: self.spec.depth + 1,
            resume: false,
        };
        match run(env, spec) {
            Ok(o) => {
                for (seq, r) in o.records.into_iter().enumerate() {
                    let key = (r.node.clone(), r.partition.clone(), r.map_index);
                    let order = self.plan.rank[ni] * 10_000 + seq.min(9_999);
                    match self.nested.get_mut(&key).map(|x| &mut x.0) {
                        Some(prev) => {
                            prev.attempts += r.attempts;
                            prev.state = r.state;
                            prev.start = match (prev.start, r.start) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                            prev.end = r.end.or(prev.end);
                            prev.error = r.error;
                            prev.output = r.output;
                        }
                        None => {
                            self.nested.insert(key, (r, order));
                        }
                    }
                }
                let duration = o.end.saturating_sub(now).max(1);
                if let Some(t) = timeout
                    && duration > t
                {
                    return (
                        Outcome {
                            timed_out: true,
                            error: Some(format!(
                                "the sub-pipeline `{}` ran past its timeout ({})",
                                child.id,
                                super::trace::fmt_seconds(seconds(t))
                            )),
                            ..Outcome::default()
                        },
                        t,
                    );
                }
                if let Some(k) = &o.sink_key {
                    self.insts[i].out_key = k.clone();
                }
                let outcome = if o.ok {
                    Outcome {
                        ok: true,
                        truthy: true,
                        len: match &o.sink_output {
                            Some(serde_json::Value::Array(a)) => Some(a.len()),
                            _ => None,
                        },
                        output: o.sink_output,
                        ..Outcome::default()
                    }
                } else {
                    Outcome::failure(format!("the sub-pipeline `{}` failed", child.id))
                };
                (outcome, duration)
            }
            Err(e) => (Outcome::failure(e), ATTEMPT_MS),
        }
    }

    fn finish(&mut self, env: &mut Env, i: usize, outcome: Outcome) {
        self.running = self.running.saturating_sub(1);
        let now = self.clock.now();
        let (pi, ni) = (self.insts[i].part, self.insts[i].node);
        let attempt = self.insts[i].attempt_no;
        env.log(Event::Attempt {
            node: self.path(ni),
            partition: self.parts[pi].key.clone(),
            map_index: self.insts[i].map_index,
            attempt,
            start: seconds(self.insts[i].attempt_start),
            end: seconds(now),
            ok: outcome.ok,
            error: outcome.error.clone(),
            output: outcome.output.clone(),
        });
        self.insts[i].end = Some(now);
        if outcome.ok {
            let n = &self.plan.pipeline.nodes[ni];
            {
                let inst = &mut self.insts[i];
                inst.state = Some(if outcome.skipped {
                    State::Skipped
                } else {
                    State::Success
                });
                inst.output = outcome.output.clone();
                inst.len = outcome.len;
                inst.error = None;
            }
            if env.runner.runs_bodies() || outcome.known {
                match n.kind {
                    NodeKind::Branch => {
                        let chosen: Vec<String> = match &outcome.output {
                            Some(serde_json::Value::String(s)) => vec![s.clone()],
                            Some(serde_json::Value::Array(a)) => a
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
                        };
                        let nodes = &self.plan.pipeline.nodes;
                        for &d in &self.plan.downs[ni] {
                            let id = &nodes[d].id;
                            let short = id.rsplit(['.', '/']).next().unwrap_or(id);
                            if !chosen.iter().any(|c| c == id || c == short) {
                                self.parts[pi].forced_skip.insert(d);
                                self.parts[pi].dirty.insert(self.plan.rank[d]);
                            }
                        }
                    }
                    NodeKind::ShortCircuit if !outcome.truthy => {
                        // `ignore_downstream_trigger_rules=False` skips the direct downstream
                        // only; what follows decides by its trigger rules (Airflow's default
                        // skips everything below).
                        let direct = matches!(
                            n.extra.get("ignore_downstream_trigger_rules"),
                            Some(Value::Bool(false))
                        ) || n.operator.as_ref().is_some_and(|o| {
                            matches!(
                                o.args.get("ignore_downstream_trigger_rules"),
                                Some(Value::Bool(false))
                            )
                        });
                        let below = if direct {
                            self.plan.downs[ni].iter().copied().collect()
                        } else {
                            self.plan.downstream_closure(self.plan.downs[ni].clone())
                        };
                        let ranks = below.iter().map(|&d| self.plan.rank[d]);
                        self.parts[pi].dirty.extend(ranks);
                        self.parts[pi].forced_skip.extend(below);
                    }
                    _ => {}
                }
            }
            self.changed(pi, ni);
            self.log_final(env, i);
            return;
        }
        self.insts[i].error = outcome.error.clone();
        let policy = &self.plan.policy[ni];
        if self.insts[i].attempts < policy.max_attempts() {
            let delay = policy.delay_before_retry(self.insts[i].attempts);
            self.clock.at(now.saturating_add(delay), Ev::Retry(i));
        } else {
            self.insts[i].state = Some(State::Failed);
            self.changed(pi, ni);
            self.log_final(env, i);
        }
    }

    fn log_final(&mut self, env: &mut Env, i: usize) {
        let inst = &self.insts[i];
        let event = Event::Final {
            node: self.path(inst.node),
            partition: self.parts[inst.part].key.clone(),
            map_index: inst.map_index,
            state: inst.state.unwrap_or(State::Skipped),
            attempts: inst.attempts,
            start: inst.first_start.map(seconds),
            end: inst.end.map(seconds),
            output: inst.output.clone(),
        };
        env.log(event);
    }

    fn outcome(&self) -> RunOutcome {
        let mut records: Vec<((usize, Millis, usize, usize), Record)> = Vec::new();
        let part_index: HashMap<Option<String>, usize> = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.clone(), i))
            .collect();
        let ok = super::final_state::succeeded(
            self.plan.pipeline,
            self.insts
                .iter()
                .map(|inst| (inst.node, inst.state.unwrap_or(State::Skipped))),
        );
        let mut rerun = 0;
        for inst in &self.insts {
            let state = inst.state.unwrap_or(State::Skipped);
            if inst.restored {
                continue;
            }
            rerun += 1;
            let node = self.path(inst.node);
            let at = inst.first_start.unwrap_or(inst.decided);
            records.push((
                (
                    inst.part,
                    at,
                    self.plan.rank[inst.node] * 10_000,
                    inst.map_index.unwrap_or(0),
                ),
                Record {
                    node,
                    partition: self.parts[inst.part].key.clone(),
                    map_index: inst.map_index,
                    attempts: inst.attempts,
                    state,
                    start: inst.first_start.map(seconds),
                    end: inst.end.map(seconds),
                    error: inst.error.clone(),
                    output: inst.output.clone(),
                },
            ));
        }
        for (r, order) in self.nested.values() {
            let part = part_index.get(&r.partition).copied().unwrap_or(0);
            let at = r.start.map(ms).unwrap_or(0);
            records.push(((part, at, *order, r.map_index.unwrap_or(0)), r.clone()));
        }
        records.sort_by_key(|a| a.0);
        let end = self.clock.now();
        // The sink: the one step nothing depends on, if it ran once and succeeded.
        let sinks: Vec<usize> = (0..self.plan.pipeline.nodes.len())
            .filter(|&n| self.plan.downs[n].is_empty())
            .collect();
        let (mut sink_key, mut sink_output) = (None, None);
        if let ([s], [part]) = (sinks.as_slice(), self.parts.as_slice())
            && let [i] = part.slots[*s].insts.as_slice()
            && self.insts[*i].state == Some(State::Success)
        {
            sink_key = Some(self.insts[*i].out_key.clone());
            sink_output = self.insts[*i].output.clone();
        }
        RunOutcome {
            records: records.into_iter().map(|(_, r)| r).collect(),
            ok,
            end,
            sink_key,
            sink_output,
            rerun,
        }
    }
}

/// A successful attempt's outcome with the output `--set-output` forces on its step (stored
/// for downstream inputs when the runner keeps outputs).
fn force_output(env: &mut Env, path: &str, key: &str, mut outcome: Outcome) -> Outcome {
    if !outcome.ok || outcome.skipped {
        return outcome;
    }
    let Some(v) = env.faults.forced_output(path) else {
        return outcome;
    };
    outcome.truthy = crate::exec::condition::truthy(&v);
    outcome.len = match &v {
        serde_json::Value::Array(a) => Some(a.len()),
        serde_json::Value::Object(o) => Some(o.len()),
        _ => None,
    };
    env.runner.restore(key, &v);
    outcome.output = Some(v);
    outcome.known = true;
    outcome
}
