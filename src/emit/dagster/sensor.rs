//! Sensors: a source's Dagster sensors re-targeted at their job, and interval sensors.

use crate::emit::plan::{Names, unique};
use crate::emit::shared;
use crate::ir::{Framework, Pipeline};
use crate::python::print::{self as python, Expr, identifier};

/// A sensor that requests a run of `job` every `secs` seconds: the interval schedule of a
/// pipeline whose period no cron has (10 s, 90 minutes, 2 days): `(name, statement)`.
pub(super) fn interval_sensor(
    p: &Pipeline,
    job: &str,
    secs: i64,
    names: &mut Names,
) -> (String, String) {
    let var = unique(
        &mut names.taken,
        &format!("{}_every_{secs}s", identifier(&p.id)),
    );
    let kw = vec![
        Expr::kw("job", Expr::raw(job.to_string())),
        Expr::kw("minimum_interval_seconds", Expr::raw(secs.to_string())),
        Expr::kw(
            "default_status",
            Expr::raw("dg.DefaultSensorStatus.RUNNING"),
        ),
    ];
    let text = format!(
        "{}\ndef {var}():\n    return dg.RunRequest()",
        python::decorator("dg.sensor", kw)
    );
    (var, text)
}

/// A Dagster sensor of the source, re-targeted at the job it triggers (its body is Dagster code).
pub(super) fn sensor(
    t: &crate::ir::SensorTrigger,
    job: &str,
    from: Framework,
    names: &mut Names,
) -> Option<String> {
    let c = t.callable.as_ref().filter(|_| from == Framework::Dagster)?;
    let name = identifier(&t.name);
    names.taken.entry(name.clone()).or_insert(1);
    let mut kw = Vec::new();
    let decorator = if t.kind == "asset_sensor" {
        let key = t.asset.as_deref()?;
        let key = if key.contains('/') {
            Expr::List(key.split('/').map(Expr::str).collect())
        } else {
            Expr::str(key)
        };
        kw.push(Expr::kw("asset_key", Expr::call("dg.AssetKey", vec![key])));
        "dg.asset_sensor"
    } else if t.kind == "sensor" {
        "dg.sensor"
    } else {
        return None;
    };
    kw.push(Expr::kw("job", Expr::raw(job.to_string())));
    if let Some(i) = t.interval {
        kw.push(Expr::kw("minimum_interval_seconds", shared::seconds(i)));
    }
    let params: Vec<String> = c
        .params
        .iter()
        .map(|p| match &p.annotation {
            Some(a) => format!("{}: {a}", p.name),
            None => p.name.clone(),
        })
        .collect();
    Some(format!(
        "{}\n{}def {name}{}:\n{}",
        python::decorator(decorator, kw),
        if c.is_async { "async " } else { "" },
        shared::signature(&format!("def {name}"), &params, ""),
        python::indent_body(&c.body, 4).trim_end()
    ))
}
