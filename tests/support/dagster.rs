//! Dagster's view of a file (tests/oracle/dagster_dump.py) against orchmig's IR of it.

use std::collections::{BTreeMap, BTreeSet};

use orchmig::ir::{NodeKind, Partitions, Pipeline, SourceFile, Value};
use serde_json::{Value as Json, json};

/// Partitions in the oracle's normal form.
pub fn normal_partitions(p: Option<&Partitions>) -> Json {
    match p {
        None => Json::Null,
        Some(Partitions::Time {
            start,
            end,
            timezone,
            fmt,
            cron,
            ..
        }) => json!({"kind": "time", "cron": cron, "start": start, "end": end,
                     "timezone": timezone, "fmt": fmt}),
        Some(Partitions::Static { keys }) => json!({"kind": "static", "keys": keys}),
        Some(Partitions::Dynamic { name }) => json!({"kind": "dynamic", "name": name}),
        Some(Partitions::Multi { dimensions }) => {
            let dims: serde_json::Map<String, Json> = dimensions
                .iter()
                .map(|(n, d)| (n.clone(), normal_partitions(Some(d))))
                .collect();
            json!({"kind": "multi", "dimensions": dims})
        }
        Some(Partitions::Parameter { name }) => json!({"kind": "parameter", "name": name}),
    }
}

/// The strings of a JSON array, as a set.
fn strings(v: &Json) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A string `extra` entry of a pipeline.
fn extra_str<'a>(p: &'a Pipeline, key: &str) -> Option<&'a str> {
    p.extra.get(key).and_then(Value::as_str)
}

/// Every difference between Dagster's view of a file and orchmig's IR of it, one line each.
pub fn compare_dagster(path: &str, oracle: &Json, ir: &SourceFile) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(err) = oracle["import_error"].as_str() {
        diffs.push(format!("{path}: Dagster could not load the file: {err}"));
        return diffs;
    }
    if oracle.is_null() {
        diffs.push(format!("{path}: the oracle did not report this file"));
        return diffs;
    }
    // An opaque entry's warning says what orchmig did not model; it is no difference in itself.
    for d in ir.diagnostics.iter().filter(|d| d.code != "opaque") {
        diffs.push(format!(
            "{path}: orchmig diagnostic {} at line {:?}: {}",
            d.code, d.line, d.message
        ));
    }
    let empty = serde_json::Map::new();

    // Assets: the union over pipelines; every instance of a node must agree.
    let mut assets: BTreeMap<&str, (&orchmig::ir::Node, usize)> = BTreeMap::new();
    for p in &ir.pipelines {
        for n in &p.nodes {
            if !matches!(n.kind, NodeKind::Asset | NodeKind::ExternalAsset) {
                continue;
            }
            match assets.get_mut(n.id.as_str()) {
                Some(seen) => {
                    seen.1 += 1;
                    if serde_json::to_string(seen.0).ok() != serde_json::to_string(n).ok() {
                        diffs.push(format!("{path}: asset {} differs between pipelines", n.id));
                    }
                }
                None => {
                    assets.insert(n.id.as_str(), (n, 1));
                }
            }
        }
    }
    let theirs = oracle["assets"].as_object().unwrap_or(&empty);
    let their_keys: BTreeSet<&str> = theirs.keys().map(String::as_str).collect();
    let my_keys: BTreeSet<&str> = assets.keys().copied().collect();
    if their_keys != my_keys {
        diffs.push(format!(
            "{path}: asset keys: missing {:?}, extra {:?}",
            their_keys.difference(&my_keys).collect::<Vec<_>>(),
            my_keys.difference(&their_keys).collect::<Vec<_>>()
        ));
    }
    for (key, a) in theirs {
        let Some((node, _)) = assets.get(key.as_str()) else {
            continue;
        };
        let their_deps = strings(&a["deps"]);
        let my_deps: BTreeSet<String> = node.inlets.iter().filter_map(|x| x.name.clone()).collect();
        if their_deps != my_deps {
            diffs.push(format!(
                "{path}: {key}.deps: dagster {their_deps:?}, orchmig {my_deps:?}"
            ));
        }
        let their_external = a["external"].as_bool().unwrap_or(false);
        let my_external = node.kind == NodeKind::ExternalAsset;
        if their_external != my_external {
            diffs.push(format!(
                "{path}: {key}.external: dagster {their_external}, orchmig {my_external}"
            ));
        }
        let their_group = a["group"].as_str().unwrap_or("");
        if Some(their_group) != node.group.as_deref() {
            diffs.push(format!(
                "{path}: {key}.group: dagster {their_group}, orchmig {:?}",
                node.group
            ));
        }
        let mine = normal_partitions(node.partitions.as_ref());
        if a["partitions"] != mine {
            diffs.push(format!(
                "{path}: {key}.partitions: dagster {}, orchmig {mine}",
                a["partitions"]
            ));
        }
    }

    // Checks.
    let their_checks: BTreeSet<(String, String)> = oracle["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["asset"].as_str().unwrap_or("").to_string(),
                        c["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let my_checks: BTreeSet<(String, String)> = ir
        .pipelines
        .iter()
        .flat_map(|p| p.checks.iter().map(|c| (c.target.clone(), c.name.clone())))
        .collect();
    if their_checks != my_checks {
        diffs.push(format!(
            "{path}: checks: dagster {their_checks:?}, orchmig {my_checks:?}"
        ));
    }

    // Jobs: one pipeline each.
    let jobs = oracle["jobs"].as_object().unwrap_or(&empty);
    let my_jobs: BTreeMap<&str, &Pipeline> = ir
        .pipelines
        .iter()
        .filter(|p| extra_str(p, "job_kind").is_some())
        .map(|p| (p.id.as_str(), p))
        .collect();
    let their_names: BTreeSet<&str> = jobs.keys().map(String::as_str).collect();
    let my_names: BTreeSet<&str> = my_jobs.keys().copied().collect();
    if their_names != my_names {
        diffs.push(format!(
            "{path}: jobs: dagster {their_names:?}, orchmig {my_names:?}"
        ));
    }
    for (name, job) in jobs {
        let Some(p) = my_jobs.get(name.as_str()) else {
            continue;
        };
        let mine = normal_partitions(p.partitions.as_ref());
        if job["partitions"] != mine {
            diffs.push(format!(
                "{path}: job {name}.partitions: dagster {}, orchmig {mine}",
                job["partitions"]
            ));
        }
        if job["kind"] == "asset" {
            let their_sel = strings(&job["assets"]);
            let my_sel: BTreeSet<String> = p
                .nodes
                .iter()
                .filter(|n| n.kind == NodeKind::Asset)
                .map(|n| n.id.clone())
                .collect();
            if their_sel != my_sel {
                diffs.push(format!(
                    "{path}: job {name}.assets: dagster {their_sel:?}, orchmig {my_sel:?}"
                ));
            }
            continue;
        }
        let ops = job["ops"].as_object().unwrap_or(&empty);
        let their_ops: BTreeSet<&str> = ops.keys().map(String::as_str).collect();
        let my_ops: BTreeSet<&str> = p.nodes.iter().map(|n| n.id.as_str()).collect();
        if their_ops != my_ops {
            diffs.push(format!(
                "{path}: job {name}.ops: dagster {their_ops:?}, orchmig {my_ops:?}"
            ));
        }
        for (op, o) in ops {
            let Some(node) = p.nodes.iter().find(|n| &n.id == op) else {
                continue;
            };
            let their_up = strings(&o["upstream"]);
            let my_up: BTreeSet<String> = p
                .edges
                .iter()
                .filter(|e| &e.to == op)
                .map(|e| e.from.clone())
                .collect();
            if their_up != my_up {
                diffs.push(format!(
                    "{path}: job {name}.{op}.upstream: dagster {their_up:?}, orchmig {my_up:?}"
                ));
            }
            let their_mapped = o["mapped"].as_bool().unwrap_or(false);
            if their_mapped != node.mapping.is_some() {
                diffs.push(format!(
                    "{path}: job {name}.{op}.mapped: dagster {their_mapped}, orchmig {}",
                    node.mapping.is_some()
                ));
            }
        }
    }

    // Schedules, listed on the pipelines of their jobs.
    let mut my_schedules: BTreeMap<String, Json> = BTreeMap::new();
    for p in &ir.pipelines {
        let Some(Value::List(list)) = p.extra.get("schedules") else {
            continue;
        };
        for s in list {
            let Value::Dict(d) = s else { continue };
            let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
            my_schedules.insert(
                text("name").unwrap_or_default(),
                json!({"cron": text("cron"), "timezone": text("timezone"), "job": p.id}),
            );
        }
    }
    let their_schedules: BTreeMap<String, Json> = oracle["schedules"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if their_schedules != my_schedules {
        diffs.push(format!(
            "{path}: schedules: dagster {}, orchmig {}",
            json!(their_schedules),
            json!(my_schedules)
        ));
    }

    // Sensors, listed on the pipelines they start.
    let mut my_sensors: BTreeMap<String, (BTreeSet<String>, Option<String>)> = BTreeMap::new();
    for p in &ir.pipelines {
        for s in &p.sensors {
            let entry = my_sensors
                .entry(s.name.clone())
                .or_insert_with(|| (BTreeSet::new(), s.asset.clone()));
            entry.0.insert(p.id.clone());
        }
    }
    let their_sensors: BTreeMap<String, (BTreeSet<String>, Option<String>)> = oracle["sensors"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (strings(&v["jobs"]), v["asset"].as_str().map(str::to_string)),
            )
        })
        .collect();
    if their_sensors != my_sensors {
        diffs.push(format!(
            "{path}: sensors: dagster {their_sensors:?}, orchmig {my_sensors:?}"
        ));
    }
    diffs
}
