//! The rule engine: evaluates rule conditions on pipeline features, classifies shapes, ranks tools.

use minijinja::{Environment, Expression};
use serde::Serialize;
use std::collections::BTreeMap;

use super::data::{Matrix, Shape, TOOLS};
use super::features::{Features, features};
use crate::diag::MatrixError;
use crate::ir::Pipeline;

/// A tool's weighted fit for a shape.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolFit {
    /// Tool id.
    pub tool: String,
    /// Weighted score on the 0–5 scale.
    pub fit: f64,
    /// Dimension id → weighted points contributed.
    pub contributions: BTreeMap<String, f64>,
}

/// A dimension that separated the recommendation from the runner-up.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DecidingRow {
    /// Dimension id.
    pub dimension: String,
    /// Points the recommendation got more than the runner-up on it.
    pub margin: f64,
}

/// The ranking of the three tools for a shape.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranking {
    /// Shape id.
    pub shape: String,
    /// The weights used (after overrides and rule effects).
    pub weights: BTreeMap<String, f64>,
    /// Tools, best first (ties in the fixed order airflow, dagster, prefect).
    pub tools: Vec<ToolFit>,
    /// The recommended tool's id.
    pub recommended: String,
    /// The shape's own pick (a tool id or `hybrid`).
    pub pick: String,
    /// True when the shape is served best by several tools.
    pub hybrid: bool,
    /// What decides between the top two.
    pub tie_breaker: String,
    /// The rows that made the difference, largest margin first.
    pub deciding: Vec<DecidingRow>,
}

/// One fired rule.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    /// Rule id.
    pub rule: String,
    /// Why it matters.
    pub why: String,
    /// Shape → points it gave.
    pub shapes: BTreeMap<String, f64>,
}

/// The estimated cost of moving a pipeline to another tool.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cost {
    /// Effort points (each is design review in the effort model, docs/effort.md).
    pub points: u32,
    /// Fired cost rules: id → why.
    pub reasons: BTreeMap<String, String>,
}

/// A pipeline read against the matrix.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assessment {
    /// Pipeline id.
    pub pipeline: String,
    /// Source framework.
    pub framework: String,
    /// The shape it was classified into.
    pub shape: String,
    /// Points per shape.
    pub shape_scores: BTreeMap<String, f64>,
    /// Rules that fired, by id.
    pub evidence: Vec<Evidence>,
    /// Tool ranking for its shape.
    pub ranking: Ranking,
    /// Target tool → cost of moving there (the other two tools).
    pub costs: BTreeMap<String, Cost>,
}

/// The matrix with its rule conditions compiled.
pub struct Engine<'m> {
    /// The data.
    pub matrix: &'m Matrix,
    rules: Vec<Expression<'m, 'm>>,
    costs: Vec<Expression<'m, 'm>>,
    /// Every rule condition then every cost condition as one list expression: one evaluation
    /// per pipeline instead of one per condition (each sets up minijinja's machine).
    all: Expression<'m, 'm>,
}

/// A minijinja environment for rule conditions.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

fn condition_error(
    m: &Matrix,
    when: &toml::Spanned<String>,
    id: &str,
    e: &minijinja::Error,
) -> MatrixError {
    let (file, text) = m.sources.get("rules.toml").cloned().unwrap_or_default();
    MatrixError {
        file,
        text,
        span: Some(when.span()),
        message: format!("the condition of `{id}` is not a valid expression: {}", e.detail().unwrap_or(&e.to_string())),
        help: "conditions are minijinja expressions over the features listed at the top of rules.toml, e.g. `mapped > 0 and sensors == 0`".into(),
    }
}

impl<'m> Engine<'m> {
    /// Compiles every condition; a malformed one is an error with its TOML span.
    pub fn new(
        matrix: &'m Matrix,
        env: &'m Environment<'static>,
    ) -> Result<Engine<'m>, MatrixError> {
        let mut rules = Vec::new();
        for r in &matrix.rules {
            rules.push(
                env.compile_expression(r.when.get_ref())
                    .map_err(|e| condition_error(matrix, &r.when, &r.id, &e))?,
            );
        }
        let mut costs = Vec::new();
        for c in &matrix.costs {
            costs.push(
                env.compile_expression(c.when.get_ref())
                    .map_err(|e| condition_error(matrix, &c.when, &c.id, &e))?,
            );
        }
        let conditions: Vec<String> = (matrix.rules.iter().map(|r| &r.when))
            .chain(matrix.costs.iter().map(|c| &c.when))
            .map(|w| format!("({})", w.get_ref()))
            .collect();
        // Each condition compiled on its own above, so the list compiles too.
        let all = env
            .compile_expression_owned(format!("[{}]", conditions.join(", ")))
            .map_err(|e| {
                let (file, text) = matrix
                    .sources
                    .get("rules.toml")
                    .cloned()
                    .unwrap_or_default();
                MatrixError {
                    file,
                    text,
                    span: None,
                    message: format!("the rule conditions do not combine into one list: {e}"),
                    help: "a condition must be one expression (no unbalanced brackets)".into(),
                }
            })?;
        let engine = Engine {
            matrix,
            rules,
            costs,
            all,
        };
        // Evaluate every condition once on an empty pipeline, so unknown feature names fail here.
        let probe = features(&Pipeline::default());
        engine.fired(&probe)?;
        Ok(engine)
    }

    fn eval(
        &self,
        expr: &Expression,
        ctx: &minijinja::Value,
        id: &str,
        when: &toml::Spanned<String>,
    ) -> Result<bool, MatrixError> {
        expr.eval(ctx.clone())
            .map(|v| v.is_true())
            .map_err(|e| condition_error(self.matrix, when, id, &e))
    }

    fn fired(&self, f: &Features) -> Result<(Vec<usize>, Vec<usize>), MatrixError> {
        let ctx = minijinja::Value::from(minijinja::value::Serde(f));
        let n = self.rules.len();
        if let Ok(list) = self.all.eval(ctx.clone())
            && let Ok(values) = list.try_iter()
        {
            let fired: Vec<bool> = values.map(|v| v.is_true()).collect();
            if fired.len() == n + self.costs.len() {
                let rules = (0..n).filter(|&i| fired[i]).collect();
                let costs = (n..fired.len())
                    .filter(|&i| fired[i])
                    .map(|i| i - n)
                    .collect();
                return Ok((rules, costs));
            }
        }
        // One condition failed: evaluate them one by one to name it.
        let mut rules = Vec::new();
        for (i, (r, e)) in self.matrix.rules.iter().zip(&self.rules).enumerate() {
            if self.eval(e, &ctx, &r.id, &r.when)? {
                rules.push(i);
            }
        }
        let mut costs = Vec::new();
        for (i, (c, e)) in self.matrix.costs.iter().zip(&self.costs).enumerate() {
            if self.eval(e, &ctx, &c.id, &c.when)? {
                costs.push(i);
            }
        }
        Ok((rules, costs))
    }

    /// Ranks the tools for a shape with given weights.
    pub fn rank(&self, shape: &Shape, weights: &BTreeMap<String, f64>) -> Ranking {
        let total: f64 = weights.values().sum();
        let mut tools: Vec<ToolFit> = TOOLS
            .iter()
            .map(|tool| {
                let mut contributions = BTreeMap::new();
                let mut sum = 0.0;
                for d in &self.matrix.dimensions {
                    let w = weights.get(&d.id).copied().unwrap_or(0.0);
                    let score = if d.winner == "depends" {
                        shape.fit.get(tool)
                    } else {
                        d.position(tool).score
                    };
                    let points = round2(w * score / if total > 0.0 { total } else { 1.0 });
                    sum += w * score;
                    contributions.insert(d.id.clone(), points);
                }
                ToolFit {
                    tool: tool.to_string(),
                    fit: round2(if total > 0.0 { sum / total } else { 0.0 }),
                    contributions,
                }
            })
            .collect();
        // Stable sort keeps the fixed tool order on ties.
        tools.sort_by(|a, b| b.fit.total_cmp(&a.fit));
        let hybrid = shape.pick == "hybrid" || (tools[0].fit - tools[1].fit).abs() < 1e-9;
        let mut deciding: Vec<DecidingRow> = self
            .matrix
            .dimensions
            .iter()
            .map(|d| DecidingRow {
                dimension: d.id.clone(),
                margin: round2(tools[0].contributions[&d.id] - tools[1].contributions[&d.id]),
            })
            .filter(|r| r.margin > 0.0)
            .collect();
        deciding.sort_by(|a, b| {
            b.margin
                .total_cmp(&a.margin)
                .then(a.dimension.cmp(&b.dimension))
        });
        Ranking {
            shape: shape.id.clone(),
            weights: weights.clone(),
            recommended: tools[0].tool.clone(),
            tools,
            pick: shape.pick.clone(),
            hybrid,
            tie_breaker: shape.tie_breaker.clone(),
            deciding,
        }
    }

    /// Reads a pipeline against the matrix: shape, evidence, ranking and migration costs.
    pub fn assess(&self, p: &Pipeline) -> Result<Assessment, MatrixError> {
        let f = features(p);
        let (rules, costs) = self.fired(&f)?;
        let mut shape_scores: BTreeMap<String, f64> = self
            .matrix
            .shapes
            .iter()
            .map(|s| (s.id.clone(), 0.0))
            .collect();
        let mut evidence = Vec::new();
        let mut weight_delta: BTreeMap<String, f64> = BTreeMap::new();
        for &i in &rules {
            let r = &self.matrix.rules[i];
            for (s, pts) in &r.shape {
                *shape_scores.entry(s.clone()).or_default() += pts;
            }
            for (d, w) in &r.weights {
                *weight_delta.entry(d.clone()).or_default() += w;
            }
            evidence.push(Evidence {
                rule: r.id.clone(),
                why: r.why.clone(),
                shapes: r.shape.clone(),
            });
        }
        evidence.sort_by(|a, b| a.rule.cmp(&b.rule));
        // Highest evidence wins; ties go to the earlier shape in shapes.toml; no evidence → default.
        let best = self
            .matrix
            .shapes
            .iter()
            .map(|s| (s, shape_scores[&s.id]))
            .fold(None::<(&Shape, f64)>, |acc, (s, v)| match acc {
                Some((_, bv)) if bv >= v => acc,
                _ => Some((s, v)),
            });
        let shape = match best {
            Some((s, v)) if v > 0.0 => s,
            _ => self
                .matrix
                .shape(&self.matrix.default_shape)
                .unwrap_or(&self.matrix.shapes[0]),
        };
        let mut weights = shape.weights.clone();
        for (d, w) in weight_delta {
            *weights.entry(d).or_default() += w;
        }
        let ranking = self.rank(shape, &weights);
        let mut cost_map = BTreeMap::new();
        for target in TOOLS.iter().filter(|t| **t != f.framework) {
            let mut points = 0;
            let mut reasons = BTreeMap::new();
            for &i in &costs {
                let c = &self.matrix.costs[i];
                if (c.from == f.framework || c.from == "*") && (c.to == *target || c.to == "*") {
                    points += c.points;
                    reasons.insert(c.id.clone(), c.why.clone());
                }
            }
            cost_map.insert(target.to_string(), Cost { points, reasons });
        }
        Ok(Assessment {
            pipeline: p.id.clone(),
            framework: f.framework.clone(),
            shape: shape.id.clone(),
            shape_scores,
            evidence,
            ranking,
            costs: cost_map,
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Parses `--weights dim=N,dim=N` into overrides.
pub fn parse_weights(text: &str, matrix: &Matrix) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not dim=N"))?;
        if !matrix.dimensions.iter().any(|d| d.id == k) {
            let ids: Vec<&str> = matrix.dimensions.iter().map(|d| d.id.as_str()).collect();
            return Err(format!(
                "unknown dimension `{k}`; dimensions are: {}",
                ids.join(", ")
            ));
        }
        let n: f64 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
        if n < 0.0 {
            return Err(format!("weight of `{k}` is negative"));
        }
        out.insert(k.to_string(), n);
    }
    Ok(out)
}

/// The known id closest to `wanted` (for "did you mean" hints).
pub fn nearest<'a>(wanted: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .copied()
        .min_by_key(|k| levenshtein(wanted, k))
        .filter(|k| levenshtein(wanted, k) <= wanted.len().max(3) / 2 + 1)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_parts() -> (Matrix, Environment<'static>) {
        (Matrix::builtin().expect("builtin matrix"), environment())
    }

    #[test]
    fn the_guides_picks_hold() {
        let (m, env) = engine_parts();
        let e = Engine::new(&m, &env).unwrap();
        for (shape, tool) in [
            ("cron-etl", "airflow"),
            ("data-product", "dagster"),
            ("ml-dynamic", "prefect"),
            ("small-team", "prefect"),
            ("large-team", "airflow"),
            ("regulated", "prefect"),
        ] {
            let s = m.shape(shape).unwrap();
            assert_eq!(e.rank(s, &s.weights).recommended, tool, "{shape}");
        }
        let multi = m.shape("multi-tool").unwrap();
        assert!(e.rank(multi, &multi.weights).hybrid);
    }

    #[test]
    fn rules_fire_on_features() {
        let (m, env) = engine_parts();
        let e = Engine::new(&m, &env).unwrap();
        let mut f = features(&Pipeline::default());
        let (rules, _) = e.fired(&f).unwrap();
        assert!(rules.is_empty(), "no rule fires on an empty pipeline");
        f.mapped = 2;
        f.tags = vec!["pii".into()];
        let (rules, _) = e.fired(&f).unwrap();
        let ids: Vec<&str> = rules.iter().map(|&i| m.rules[i].id.as_str()).collect();
        assert_eq!(ids, ["mapped", "regulated-tags"]);
    }

    #[test]
    fn a_malformed_condition_points_at_its_toml_span() {
        let (mut m, env) = engine_parts();
        m.rules[0].when = toml::Spanned::new(10..20, "mapped >".into());
        let Err(err) = Engine::new(&m, &env) else {
            panic!("accepted a malformed condition")
        };
        assert_eq!(err.span, Some(10..20));
        assert!(err.message.contains(&m.rules[0].id));
    }

    #[test]
    fn an_unknown_feature_is_an_error_not_false() {
        let (mut m, env) = engine_parts();
        m.rules[0].when = toml::Spanned::new(0..1, "mapd > 0".into());
        assert!(Engine::new(&m, &env).is_err());
    }

    #[test]
    fn weights_parse_and_suggestions() {
        let m = Matrix::builtin().unwrap();
        let w = parse_weights("dynamic=5, assets=0", &m).unwrap();
        assert_eq!(w["dynamic"], 5.0);
        assert!(
            parse_weights("speed=1", &m)
                .unwrap_err()
                .contains("dimensions are")
        );
        assert_eq!(nearest("ml-dynamc", &m.shape_ids()), Some("ml-dynamic"));
        assert_eq!(nearest("zzzzzzzzzz", &m.shape_ids()), None);
    }
}
