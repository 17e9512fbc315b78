//! The matrix data files (matrix/*.toml): their types, loading and validation.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

use crate::diag::MatrixError;

/// The three tools, in the fixed order used to break ties.
pub const TOOLS: [&str; 3] = ["airflow", "dagster", "prefect"];

/// Where one tool stands on one dimension.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// A few words.
    pub position: String,
    /// 0–5.
    pub score: f64,
    /// One-line rationale.
    pub why: String,
}

/// One row of the decision matrix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// Stable id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// `airflow`, `dagster`, `prefect`, `tie` or `depends`.
    pub winner: String,
    /// What decides the row.
    pub tie_breaker: String,
    /// Airflow's position.
    pub airflow: Position,
    /// Dagster's position.
    pub dagster: Position,
    /// Prefect's position.
    pub prefect: Position,
}

impl Dimension {
    /// The position of a tool by id.
    pub fn position(&self, tool: &str) -> &Position {
        match tool {
            "dagster" => &self.dagster,
            "prefect" => &self.prefect,
            _ => &self.airflow,
        }
    }
}

/// A score per tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolScores {
    /// Airflow.
    pub airflow: f64,
    /// Dagster.
    pub dagster: f64,
    /// Prefect.
    pub prefect: f64,
}

impl ToolScores {
    /// The score of a tool by id.
    pub fn get(&self, tool: &str) -> f64 {
        match tool {
            "dagster" => self.dagster,
            "prefect" => self.prefect,
            _ => self.airflow,
        }
    }
}

/// A pipeline shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    /// Stable id.
    pub id: String,
    /// Description.
    pub title: String,
    /// The guide's pick: a tool id or `hybrid`.
    pub pick: String,
    /// What decides between the top two.
    pub tie_breaker: String,
    /// Dimension id → weight.
    pub weights: BTreeMap<String, f64>,
    /// Per-tool score of the `depends` dimension for this shape.
    pub fit: ToolScores,
}

/// A cheat-sheet row.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Situation {
    /// Stable id.
    pub id: String,
    /// The team's situation.
    pub situation: String,
    /// The tool(s) that fit.
    pub tool: String,
    /// The construct to reach for.
    pub primitive: String,
    /// Why.
    pub why: String,
}

/// A feature rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// Condition (minijinja expression) with its TOML span.
    pub when: Spanned<String>,
    /// Shape id → evidence points.
    #[serde(default)]
    pub shape: BTreeMap<String, f64>,
    /// Dimension id → weight added.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Explanation.
    pub why: String,
}

/// A migration-cost rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRule {
    /// Stable id.
    pub id: String,
    /// Source tool id or `*`.
    pub from: String,
    /// Target tool id or `*`.
    pub to: String,
    /// Condition with its TOML span.
    pub when: Spanned<String>,
    /// Effort points.
    pub points: u32,
    /// Explanation.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DimensionsFile {
    dimension: Vec<Spanned<Dimension>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapesFile {
    shape: Vec<Spanned<Shape>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SituationsFile {
    situation: Vec<Situation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    default_shape: Spanned<String>,
    #[serde(default)]
    rule: Vec<Spanned<Rule>>,
    #[serde(default)]
    cost: Vec<Spanned<CostRule>>,
}

/// The whole matrix: the data of the four files.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Rows.
    pub dimensions: Vec<Dimension>,
    /// Shapes.
    pub shapes: Vec<Shape>,
    /// Cheat sheet.
    pub situations: Vec<Situation>,
    /// Shape of a pipeline without evidence.
    pub default_shape: String,
    /// Feature rules.
    pub rules: Vec<Rule>,
    /// Cost rules.
    pub costs: Vec<CostRule>,
    /// Each file's name and text, for diagnostics on conditions.
    pub sources: BTreeMap<&'static str, (String, String)>,
}

const FILES: [(&str, &str); 4] = [
    (
        "dimensions.toml",
        include_str!("../../matrix/dimensions.toml"),
    ),
    ("shapes.toml", include_str!("../../matrix/shapes.toml")),
    (
        "situations.toml",
        include_str!("../../matrix/situations.toml"),
    ),
    ("rules.toml", include_str!("../../matrix/rules.toml")),
];

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, MatrixError> {
    toml::from_str(text).map_err(|e| MatrixError {
        file: file.to_string(),
        text: text.to_string(),
        span: e.span(),
        message: format!("invalid matrix data: {}", e.message()),
        help: "fix the TOML; the field list is documented in the comment at the top of the file"
            .into(),
    })
}

impl Matrix {
    /// The built-in matrix (the files in matrix/ as shipped).
    pub fn builtin() -> Result<Matrix, MatrixError> {
        let texts = FILES.map(|(name, text)| (name, (format!("matrix/{name}"), text.to_string())));
        Matrix::from_texts(texts.into_iter().collect())
    }

    /// A team's matrix from a folder; files it does not have fall back to the built-in ones.
    pub fn from_dir(dir: &Path) -> Result<Matrix, MatrixError> {
        let mut texts = BTreeMap::new();
        for (name, builtin) in FILES {
            let path = dir.join(name);
            let entry = match std::fs::read_to_string(&path) {
                Ok(t) => (path.display().to_string(), t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    (format!("matrix/{name}"), builtin.to_string())
                }
                Err(e) => {
                    return Err(MatrixError {
                        file: path.display().to_string(),
                        text: String::new(),
                        span: None,
                        message: format!("cannot read the matrix file: {e}"),
                        help: "check the --matrix folder".into(),
                    });
                }
            };
            texts.insert(name, entry);
        }
        if !dir.is_dir() {
            return Err(MatrixError {
                file: dir.display().to_string(),
                text: String::new(),
                span: None,
                message: "the --matrix folder does not exist".into(),
                help: "pass a folder holding some of dimensions.toml, shapes.toml, situations.toml, rules.toml".into(),
            });
        }
        Matrix::from_texts(texts)
    }

    fn from_texts(texts: BTreeMap<&'static str, (String, String)>) -> Result<Matrix, MatrixError> {
        let get = |k: &str| texts.get(k).cloned().unwrap_or_default();
        let (dfile, dtext) = get("dimensions.toml");
        let (sfile, stext) = get("shapes.toml");
        let (tfile, ttext) = get("situations.toml");
        let (rfile, rtext) = get("rules.toml");
        let dims: DimensionsFile = parse(&dfile, &dtext)?;
        let shapes: ShapesFile = parse(&sfile, &stext)?;
        let situations: SituationsFile = parse(&tfile, &ttext)?;
        let rules: RulesFile = parse(&rfile, &rtext)?;
        let err =
            |file: &str, text: &str, span: Range<usize>, message: String, help: &str| MatrixError {
                file: file.to_string(),
                text: text.to_string(),
                span: Some(span),
                message,
                help: help.to_string(),
            };
        let dim_ids: Vec<String> = dims
            .dimension
            .iter()
            .map(|d| d.get_ref().id.clone())
            .collect();
        for d in &dims.dimension {
            let dim = d.get_ref();
            if !(TOOLS.contains(&dim.winner.as_str())
                || dim.winner == "tie"
                || dim.winner == "depends")
            {
                return Err(err(
                    &dfile,
                    &dtext,
                    d.span(),
                    format!("dimension `{}` has winner `{}`", dim.id, dim.winner),
                    "winner is airflow, dagster, prefect, tie or depends",
                ));
            }
            for t in TOOLS {
                let s = dim.position(t).score;
                if !(0.0..=5.0).contains(&s) {
                    return Err(err(
                        &dfile,
                        &dtext,
                        d.span(),
                        format!("dimension `{}` scores {t} {s}, outside 0-5", dim.id),
                        "scores are 0 (absent) to 5 (best in class)",
                    ));
                }
            }
        }
        let shape_ids: Vec<String> = shapes
            .shape
            .iter()
            .map(|s| s.get_ref().id.clone())
            .collect();
        for s in &shapes.shape {
            let shape = s.get_ref();
            for (k, w) in &shape.weights {
                if !dim_ids.contains(k) {
                    return Err(err(
                        &sfile,
                        &stext,
                        s.span(),
                        format!("shape `{}` weighs unknown dimension `{k}`", shape.id),
                        &format!("dimensions are: {}", dim_ids.join(", ")),
                    ));
                }
                if *w < 0.0 {
                    return Err(err(
                        &sfile,
                        &stext,
                        s.span(),
                        format!("shape `{}` has a negative weight for `{k}`", shape.id),
                        "weights are non-negative",
                    ));
                }
            }
            if !(TOOLS.contains(&shape.pick.as_str()) || shape.pick == "hybrid") {
                return Err(err(
                    &sfile,
                    &stext,
                    s.span(),
                    format!("shape `{}` picks `{}`", shape.id, shape.pick),
                    "pick is airflow, dagster, prefect or hybrid",
                ));
            }
        }
        if !shape_ids.contains(rules.default_shape.get_ref()) {
            return Err(err(
                &rfile,
                &rtext,
                rules.default_shape.span(),
                format!(
                    "default_shape `{}` is not a shape",
                    rules.default_shape.get_ref()
                ),
                &format!("shapes are: {}", shape_ids.join(", ")),
            ));
        }
        for r in &rules.rule {
            let rule = r.get_ref();
            for k in rule.shape.keys() {
                if !shape_ids.contains(k) {
                    return Err(err(
                        &rfile,
                        &rtext,
                        r.span(),
                        format!("rule `{}` gives evidence to unknown shape `{k}`", rule.id),
                        &format!("shapes are: {}", shape_ids.join(", ")),
                    ));
                }
            }
            for k in rule.weights.keys() {
                if !dim_ids.contains(k) {
                    return Err(err(
                        &rfile,
                        &rtext,
                        r.span(),
                        format!("rule `{}` weighs unknown dimension `{k}`", rule.id),
                        &format!("dimensions are: {}", dim_ids.join(", ")),
                    ));
                }
            }
        }
        for c in &rules.cost {
            let cost = c.get_ref();
            for t in [&cost.from, &cost.to] {
                if !(TOOLS.contains(&t.as_str()) || t == "*") {
                    return Err(err(
                        &rfile,
                        &rtext,
                        c.span(),
                        format!("cost `{}` names tool `{t}`", cost.id),
                        "from/to are airflow, dagster, prefect or *",
                    ));
                }
            }
        }
        Ok(Matrix {
            dimensions: dims
                .dimension
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            shapes: shapes.shape.into_iter().map(Spanned::into_inner).collect(),
            situations: situations.situation,
            default_shape: rules.default_shape.into_inner(),
            rules: rules.rule.into_iter().map(Spanned::into_inner).collect(),
            costs: rules.cost.into_iter().map(Spanned::into_inner).collect(),
            sources: texts,
        })
    }

    /// The shape with an id.
    pub fn shape(&self, id: &str) -> Option<&Shape> {
        self.shapes.iter().find(|s| s.id == id)
    }

    /// The known shape ids, in file order.
    pub fn shape_ids(&self) -> Vec<&str> {
        self.shapes.iter().map(|s| s.id.as_str()).collect()
    }
}
