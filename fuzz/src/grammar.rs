//! Valid Python pipeline modules for Airflow, Dagster and Prefect, assembled from fragments the
//! fuzzer picks: names, options, literals, edges and odd module-level statements.

use arbitrary::Arbitrary;
use std::fmt::Write;

/// A whole module: one framework's imports, extra statements and pipelines.
#[derive(Debug, Arbitrary)]
pub struct Module {
    file: Text,
    framework: Framework,
    extras: Vec<Extra>,
    pipelines: Vec<PipelineDef>,
    tail: Vec<Extra>,
}

#[derive(Debug, Arbitrary, Clone, Copy)]
enum Framework {
    AirflowDecorated,
    AirflowClassic,
    Dagster,
    DagsterOps,
    Prefect,
}

/// Module-level statements readers must tolerate.
#[derive(Debug, Arbitrary)]
enum Extra {
    StarImport,
    AliasedImport,
    ConditionalImport,
    Constant(Name, Expr),
    Helper(Name, Vec<BodyLine>),
    TryImport,
    Match(Name),
    SecondFramework,
    Comment(Text),
    /// Size-driven module data: a long literal list, and a value doubled through shared
    /// references (`L = [L, L]`) some times.
    Bulk(u16, u8),
}

#[derive(Debug, Arbitrary)]
struct PipelineDef {
    name: Name,
    schedule: Option<Schedule>,
    retries: Option<Expr>,
    tags: Vec<Text>,
    doc: Option<Text>,
    tasks: Vec<TaskDef>,
    edges: Vec<(u8, u8)>,
    mapped: Option<(u8, Vec<Expr>)>,
    grouped: bool,
    /// Size-driven: this many generated steps in a loop, wired as a chain, a fan or densely.
    fan: Option<(u16, u8)>,
}

#[derive(Debug, Arbitrary)]
struct TaskDef {
    name: Name,
    display: Option<Text>,
    retries: Option<Expr>,
    delay: Option<Expr>,
    params: Vec<Name>,
    body: Vec<BodyLine>,
    operator: Option<Operator>,
}

#[derive(Debug, Arbitrary, Clone, Copy)]
enum Operator {
    Bash,
    Python,
    Empty,
    Unknown,
    Sql,
}

#[derive(Debug, Arbitrary)]
enum Schedule {
    Cron(u8, u8),
    Preset(u8),
    Interval(u16),
    Odd(Text),
    None,
}

#[derive(Debug, Arbitrary)]
enum BodyLine {
    Print(Expr),
    Return(Expr),
    Assign(Name, Expr),
    Context,
    If(Expr, Box<BodyLine>),
    For(Name, Expr, Box<BodyLine>),
    Pass,
    Raise,
    Log(Text),
}

/// A Python expression, kept shallow by the renderer.
#[derive(Debug, Arbitrary)]
enum Expr {
    Int(i64),
    Float(f64),
    Str(Text),
    Bool(bool),
    None,
    Name(Name),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Text, Expr)>),
    Set(Vec<Expr>),
    TimeDelta(u8, i32),
    DateTime(u16, u8, u8),
    Call(Name, Vec<Expr>, Vec<(Name, Expr)>),
    BinOp(Box<Expr>, u8, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Attr(Box<Expr>, Name),
    Subscript(Box<Expr>, Box<Expr>),
    FString(Text, Name),
    Lambda(Name, Box<Expr>),
    Comp(Name, Box<Expr>),
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    Walrus(Name, Box<Expr>),
    Env(Text),
}

/// An identifier: a seed word, maybe with a suffix (never a keyword).
#[derive(Debug, Arbitrary)]
struct Name(u8, Option<u16>);

/// String contents, from seeds with quotes, braces, escapes, Jinja and non-ASCII text.
#[derive(Debug, Arbitrary)]
struct Text(u8, Option<String>);

const WORDS: [&str; 24] = [
    "extract",
    "transform",
    "load",
    "a",
    "b",
    "x",
    "task",
    "dag",
    "flow",
    "asset",
    "op",
    "job",
    "context",
    "ds",
    "_",
    "type",
    "match",
    "print",
    "dg",
    "retries",
    "données",
    "Σ",
    "run_1",
    "__init__",
];

const TEXTS: [&str; 26] = [
    "",
    "hello",
    "it's",
    "say \"hi\"",
    "{{ ds }}",
    "{x}",
    "back\\slash",
    "line\nbreak",
    "0 0 * * *",
    "@daily",
    "ünïcödé",
    "tab\there",
    "{{ params.x }}/{{ ti.xcom_pull('a') }}",
    "'''",
    "\"\"\"",
    "a/b/c",
    // Injection payloads: each would call `stolen` if it escaped its literal or comment.
    "x\nstolen()\n",
    "x\"\"\"\nstolen()\n\"\"\"",
    "\rstolen()",
    "'); stolen(); ('",
    "{{ stolen() }}",
    "a\u{2028}stolen()",
    "\u{85}stolen()",
    "x\\\nstolen()",
    "\"\"\"\nstolen()\n#",
    "\x1b[2Jstolen()",
];

const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

impl Name {
    fn render(&self) -> String {
        let word = WORDS[self.0 as usize % WORDS.len()];
        match self.1 {
            Some(n) => format!("{word}_{n}"),
            None => word.to_string(),
        }
    }
}

impl Text {
    fn raw(&self) -> String {
        match &self.1 {
            Some(s) if self.0.is_multiple_of(4) => s.chars().take(40).collect(),
            _ => TEXTS[self.0 as usize % TEXTS.len()].to_string(),
        }
    }

    /// A Python string literal (escaped with Rust's debug form, which Python reads the same for
    /// the characters it produces, after rewriting `\u{..}`).
    fn literal(&self) -> String {
        py_str(&self.raw())
    }
}

/// A Python string literal for any text.
fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Expr {
    fn render(&self, depth: u32) -> String {
        if depth > 4 {
            return "1".into();
        }
        let d = depth + 1;
        let join = |xs: &[Expr]| -> String {
            xs.iter()
                .take(4)
                .map(|x| x.render(d))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Expr::Int(n) => {
                if *n < 0 {
                    format!("({n})")
                } else {
                    n.to_string()
                }
            }
            Expr::Float(f) if f.is_finite() => format!("({f:?})"),
            Expr::Float(_) => "float(\"nan\")".into(),
            Expr::Str(t) => t.literal(),
            Expr::Bool(b) => if *b { "True" } else { "False" }.into(),
            Expr::None => "None".into(),
            Expr::Name(n) => n.render(),
            Expr::List(xs) => format!("[{}]", join(xs)),
            Expr::Tuple(xs) => format!("({},)", join(xs)),
            Expr::Dict(kv) => format!(
                "{{{}}}",
                kv.iter()
                    .take(4)
                    .map(|(k, v)| format!("{}: {}", k.literal(), v.render(d)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::Set(xs) if xs.is_empty() => "set()".into(),
            Expr::Set(xs) => format!("{{{}}}", join(xs)),
            Expr::TimeDelta(unit, n) => {
                let unit = ["seconds", "minutes", "hours", "days", "weeks"][*unit as usize % 5];
                format!("timedelta({unit}={n})")
            }
            Expr::DateTime(y, m, day) => {
                format!("pendulum.datetime({y}, {m}, {day}, tz=\"UTC\")")
            }
            Expr::Call(f, args, kw) => {
                let mut parts: Vec<String> = args.iter().take(3).map(|a| a.render(d)).collect();
                let mut seen = Vec::new();
                for (k, v) in kw.iter().take(3) {
                    let k = k.render();
                    if k == "_" || seen.contains(&k) {
                        continue;
                    }
                    parts.push(format!("{k}={}", v.render(d)));
                    seen.push(k);
                }
                format!("{}({})", f.render(), parts.join(", "))
            }
            Expr::BinOp(a, op, b) => {
                let op = [
                    "+", "-", "*", "/", "//", "%", ">>", "<<", "|", "&", "==", "<", "and", "or",
                ][*op as usize % 14];
                format!("({} {op} {})", a.render(d), b.render(d))
            }
            Expr::Not(a) => format!("(not {})", a.render(d)),
            Expr::Neg(a) => format!("(-{})", a.render(d)),
            Expr::Attr(a, n) => format!("({}).{}", a.render(d), n.render()),
            Expr::Subscript(a, i) => format!("({})[{}]", a.render(d), i.render(d)),
            Expr::FString(t, e) => {
                let inner = t.raw().replace(['{', '}', '"', '\\', '\n', '\r'], "");
                format!("f\"{inner}{{{}}}\"", e.render())
            }
            Expr::Lambda(n, e) => format!("(lambda {}: {})", n.render(), e.render(d)),
            Expr::Comp(n, e) => {
                let n = n.render();
                format!("[{n} for {n} in {}]", e.render(d))
            }
            Expr::IfElse(a, b, c) => {
                format!("({} if {} else {})", a.render(d), b.render(d), c.render(d))
            }
            Expr::Walrus(n, e) => format!("({} := {})", n.render(), e.render(d)),
            Expr::Env(t) => format!("os.environ.get({})", t.literal()),
        }
    }
}

impl BodyLine {
    fn render(&self, indent: &str, depth: u32, out: &mut String) {
        let deeper = format!("{indent}    ");
        match self {
            BodyLine::Print(e) => {
                let _ = writeln!(out, "{indent}print({})", e.render(0));
            }
            BodyLine::Return(e) => {
                let _ = writeln!(out, "{indent}return {}", e.render(0));
            }
            BodyLine::Assign(n, e) => {
                let _ = writeln!(out, "{indent}{} = {}", n.render(), e.render(0));
            }
            BodyLine::Context => {
                let _ = writeln!(out, "{indent}context = get_current_context()");
                let _ = writeln!(out, "{indent}print(context[\"ds\"])");
            }
            BodyLine::If(e, inner) if depth < 3 => {
                let _ = writeln!(out, "{indent}if {}:", e.render(0));
                inner.render(&deeper, depth + 1, out);
            }
            BodyLine::For(n, e, inner) if depth < 3 => {
                let _ = writeln!(out, "{indent}for {} in {}:", n.render(), e.render(0));
                inner.render(&deeper, depth + 1, out);
            }
            BodyLine::Raise => {
                let _ = writeln!(out, "{indent}raise ValueError(\"boom\")");
            }
            BodyLine::Log(t) => {
                let _ = writeln!(out, "{indent}logger.info({})", t.literal());
            }
            _ => {
                let _ = writeln!(out, "{indent}pass");
            }
        }
    }
}

fn body(lines: &[BodyLine], indent: &str, out: &mut String) {
    if lines.is_empty() {
        let _ = writeln!(out, "{indent}return None");
    }
    for l in lines.iter().take(6) {
        l.render(indent, 0, out);
    }
}

impl Schedule {
    fn render(&self, fw: Framework) -> Option<String> {
        let cron = |m: &u8, h: &u8| format!("\"{} {} * * *\"", m % 60, h % 24);
        Some(match (self, fw) {
            (Schedule::Cron(m, h), _) => cron(m, h),
            (Schedule::Preset(p), _) => {
                format!(
                    "\"{}\"",
                    ["@daily", "@hourly", "@weekly", "@once", "@yearly"][*p as usize % 5]
                )
            }
            (Schedule::Interval(s), Framework::AirflowDecorated | Framework::AirflowClassic) => {
                format!("timedelta(seconds={s})")
            }
            (Schedule::Interval(s), _) => format!("\"*/{} * * * *\"", s % 59 + 1),
            (Schedule::Odd(t), _) => t.literal(),
            (Schedule::None, _) => return None,
        })
    }
}

impl Module {
    /// The file the module is read from: a folder and a name that may hold any text.
    pub fn file_name(&self) -> String {
        format!("dags/{}.py", self.file.raw().replace(['/', '\0'], "_"))
    }

    /// The module as Python source.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "import os\nimport logging\nfrom datetime import timedelta\nimport pendulum\n",
        );
        out.push_str(match self.framework {
            Framework::AirflowDecorated => {
                "from airflow.sdk import dag, task, task_group, get_current_context\n"
            }
            Framework::AirflowClassic => {
                "from airflow.sdk import DAG, TaskGroup, chain, cross_downstream\nfrom airflow.providers.standard.operators.bash import BashOperator\nfrom airflow.providers.standard.operators.python import PythonOperator\nfrom airflow.providers.standard.operators.empty import EmptyOperator\nfrom airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\nfrom acme.operators import AcmeOperator\n"
            }
            Framework::Dagster | Framework::DagsterOps => "import dagster as dg\n",
            Framework::Prefect => "from prefect import flow, task, get_run_logger\n",
        });
        out.push_str("logger = logging.getLogger(__name__)\n\n");
        for e in self.extras.iter().take(4) {
            e.render(&mut out);
        }
        let mut defs = Vec::new();
        for (i, p) in self.pipelines.iter().take(3).enumerate() {
            out.push('\n');
            match self.framework {
                Framework::AirflowDecorated => p.airflow_decorated(&mut out),
                Framework::AirflowClassic => p.airflow_classic(&mut out),
                Framework::Dagster => p.dagster_assets(i, &mut out, &mut defs),
                Framework::DagsterOps => p.dagster_ops(&mut out, &mut defs),
                Framework::Prefect => p.prefect(&mut out),
            }
        }
        if matches!(self.framework, Framework::Dagster | Framework::DagsterOps) {
            let _ = writeln!(out, "\ndefs = dg.Definitions({})", defs.join(", "));
        }
        for e in self.tail.iter().take(2) {
            e.render(&mut out);
        }
        out
    }
}

impl Extra {
    fn render(&self, out: &mut String) {
        match self {
            Extra::StarImport => out.push_str("from airflow.sdk import *\n"),
            Extra::AliasedImport => out.push_str("import prefect as pf\nfrom dagster import asset as a_\n"),
            Extra::ConditionalImport => out.push_str(
                "if os.environ.get(\"X\"):\n    from prefect import task as t_\nelse:\n    t_ = None\n",
            ),
            Extra::Constant(n, e) => {
                let _ = writeln!(out, "{} = {}", n.render().to_uppercase(), e.render(0));
            }
            Extra::Helper(n, lines) => {
                let _ = writeln!(out, "def helper_{}(x=None):", n.render());
                body(lines, "    ", out);
            }
            Extra::TryImport => out.push_str(
                "try:\n    import pandas as pd\nexcept ImportError:\n    pd = None\n",
            ),
            Extra::Match(n) => {
                let _ = writeln!(
                    out,
                    "match os.environ.get(\"MODE\"):\n    case \"a\":\n        {} = 1\n    case _:\n        pass",
                    n.render()
                );
            }
            Extra::SecondFramework => out.push_str("from prefect import flow as pflow\n"),
            Extra::Comment(t) => {
                let _ = writeln!(out, "# {}", t.raw().replace(['\n', '\r'], " "));
            }
            Extra::Bulk(n, doublings) => {
                let items: Vec<String> = (0..*n).map(|k| k.to_string()).collect();
                let _ = writeln!(out, "ITEMS = [{}]", items.join(", "));
                let _ = writeln!(
                    out,
                    "L = [1]\nfor _ in range({}):\n    L = [L, L]",
                    doublings % 80
                );
            }
        }
    }
}

impl PipelineDef {
    fn task_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in self.tasks.iter().take(6) {
            let mut n = t.name.render();
            while names.contains(&n) {
                n.push('_');
            }
            names.push(n);
        }
        names
    }

    fn edge_pairs(&self, n: usize) -> Vec<(usize, usize)> {
        if n == 0 {
            return Vec::new();
        }
        self.edges
            .iter()
            .take(8)
            .map(|&(a, b)| (a as usize % n, b as usize % n))
            .collect()
    }

    fn airflow_decorated(&self, out: &mut String) {
        let name = self.name.render();
        let mut opts = vec![format!(
            "schedule={}",
            self.schedule
                .as_ref()
                .and_then(|s| s.render(Framework::AirflowDecorated))
                .unwrap_or_else(|| "None".into())
        )];
        opts.push("start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\")".into());
        opts.push("catchup=False".into());
        if let Some(r) = &self.retries {
            opts.push(format!("default_args={{\"retries\": {}}}", r.render(0)));
        }
        if !self.tags.is_empty() {
            let tags: Vec<String> = self.tags.iter().take(3).map(Text::literal).collect();
            opts.push(format!("tags=[{}]", tags.join(", ")));
        }
        let _ = writeln!(out, "@dag({})\ndef {name}():", opts.join(", "));
        if let Some(d) = &self.doc {
            let _ = writeln!(out, "    {}", d.literal());
        }
        let names = self.task_names();
        let indent = if self.grouped { "        " } else { "    " };
        if self.grouped {
            let _ = writeln!(out, "    @task_group\n    def group_1():");
        }
        for (k, (t, n)) in self.tasks.iter().zip(&names).enumerate() {
            let mut o = Vec::new();
            if let Some(r) = &t.retries {
                o.push(format!("retries={}", r.render(0)));
            }
            if let Some(d) = &t.delay {
                o.push(format!("retry_delay={}", d.render(0)));
            }
            if let Some(d) = &t.display {
                o.push(format!("task_id={}", d.literal()));
            }
            // Branching and failure rules, from the shape already decoded: the first task
            // branches or short-circuits, the last one runs on a failure.
            let flavour = match (k, names.len() >= 2, names.len() % 3) {
                (0, true, 0) => ".branch",
                (0, true, 1) => ".short_circuit",
                _ => "",
            };
            if k + 1 == names.len() && names.len() % 2 == 0 {
                o.push("trigger_rule=\"one_failed\"".into());
            }
            let params = params(&t.params);
            let _ = writeln!(
                out,
                "{indent}@task{flavour}({})\n{indent}def {n}({params}):",
                o.join(", ")
            );
            body(&t.body, &format!("{indent}    "), out);
        }
        for n in &names {
            let _ = writeln!(out, "{indent}{n}_r = {n}()");
        }
        if let Some((i, items)) = &self.mapped
            && !names.is_empty()
        {
            let n = &names[*i as usize % names.len()];
            let items: Vec<String> = items.iter().take(4).map(|e| e.render(0)).collect();
            let _ = writeln!(out, "{indent}{n}.expand(x=[{}])", items.join(", "));
        }
        for (a, b) in self.edge_pairs(names.len()) {
            let _ = writeln!(out, "{indent}{}_r >> {}_r", names[a], names[b]);
        }
        if self.grouped {
            let _ = writeln!(out, "    group_1()");
        }
        if names.is_empty() {
            let _ = writeln!(out, "    pass");
        }
        let _ = writeln!(out, "\n{name}()");
    }

    fn airflow_classic(&self, out: &mut String) {
        let name = self.name.render();
        let schedule = self
            .schedule
            .as_ref()
            .and_then(|s| s.render(Framework::AirflowClassic))
            .unwrap_or_else(|| "None".into());
        let retries = self
            .retries
            .as_ref()
            .map(|r| {
                format!(
                    ", default_args={{\"retries\": {}, \"retry_delay\": timedelta(minutes=5)}}",
                    r.render(0)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "with DAG(dag_id={}, schedule={schedule}, start_date=pendulum.datetime(2024, 1, 1){retries}) as dag_{name}:",
            py_str(&name)
        );
        let names = self.task_names();
        let indent = if self.grouped { "        " } else { "    " };
        if self.grouped {
            let _ = writeln!(out, "    with TaskGroup(\"grp\") as grp:");
        }
        for (t, n) in self.tasks.iter().zip(&names) {
            let id = t
                .display
                .as_ref()
                .map(Text::literal)
                .unwrap_or_else(|| py_str(n));
            let retries = t
                .retries
                .as_ref()
                .map(|r| format!(", retries={}", r.render(0)))
                .unwrap_or_default();
            let call = match t.operator.unwrap_or(Operator::Empty) {
                Operator::Bash => format!(
                    "BashOperator(task_id={id}, bash_command=\"echo {{{{ ds }}}}\"{retries})"
                ),
                Operator::Python => format!(
                    "PythonOperator(task_id={id}, python_callable=print, op_args=[1]{retries})"
                ),
                Operator::Empty => format!("EmptyOperator(task_id={id}{retries})"),
                Operator::Unknown => format!(
                    "AcmeOperator(task_id={id}, thing={}{retries})",
                    t.delay
                        .as_ref()
                        .map(|d| d.render(0))
                        .unwrap_or_else(|| "1".into())
                ),
                Operator::Sql => format!(
                    "SQLExecuteQueryOperator(task_id={id}, sql=\"select 1\", conn_id=\"db\"{retries})"
                ),
            };
            let _ = writeln!(out, "{indent}{n} = {call}");
        }
        if names.is_empty() {
            let _ = writeln!(out, "{indent}pass");
        }
        if let Some((n, style)) = self.fan {
            let n = n % 4096;
            let _ = writeln!(
                out,
                "{indent}fan = []\n{indent}for i in range({n}):\n{indent}    fan.append(EmptyOperator(task_id=f\"fan_{{i}}\"))"
            );
            let _ = match style % 3 {
                0 => writeln!(out, "{indent}chain(*fan)"),
                1 => writeln!(
                    out,
                    "{indent}cross_downstream(fan[:{}], fan[{}:])",
                    n / 2,
                    n / 2
                ),
                _ => writeln!(out, "{indent}for t in fan[1:]:\n{indent}    fan[0] >> t"),
            };
        }
        for (a, b) in self.edge_pairs(names.len()) {
            let _ = writeln!(out, "{indent}{} >> {}", names[a], names[b]);
        }
        if self.edges.len() > 2 && names.len() > 2 {
            let _ = writeln!(out, "{indent}{} >> [{}, {}]", names[0], names[1], names[2]);
        }
    }

    fn dagster_assets(&self, index: usize, out: &mut String, defs: &mut Vec<String>) {
        let names = self.task_names();
        let edges = self.edge_pairs(names.len());
        let mut assets = Vec::new();
        for (i, (t, n)) in self.tasks.iter().zip(&names).enumerate() {
            let n = format!("{n}_{index}");
            let ups: Vec<String> = edges
                .iter()
                .filter(|(_, b)| *b == i)
                .map(|(a, _)| format!("{}_{index}", names[*a]))
                .filter(|u| *u != n)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut o = Vec::new();
            if let Some(r) = &t.retries {
                o.push(format!(
                    "retry_policy=dg.RetryPolicy(max_retries={})",
                    r.render(0)
                ));
            }
            if let Some(d) = &t.display {
                o.push(format!("description={}", d.literal()));
            }
            if self.grouped {
                o.push("group_name=\"grp\"".into());
            }
            if let Some(Schedule::Cron(..)) = &self.schedule {
                o.push(
                    "partitions_def=dg.DailyPartitionsDefinition(start_date=\"2024-01-01\")".into(),
                );
            }
            let mut params = vec!["context: dg.AssetExecutionContext".to_string()];
            params.extend(ups.iter().cloned());
            let _ = writeln!(
                out,
                "@dg.asset({})\ndef {n}({}):",
                o.join(", "),
                params.join(", ")
            );
            body(&t.body, "    ", out);
            out.push('\n');
            assets.push(n);
        }
        if !assets.is_empty() {
            let job = format!("{}_job_{index}", self.name.render());
            let _ = writeln!(
                out,
                "{job} = dg.define_asset_job({}, selection=[{}])",
                py_str(&job),
                assets.join(", ")
            );
            let mut d = format!("assets=[{}], jobs=[{job}]", assets.join(", "));
            if let Some(s) = self
                .schedule
                .as_ref()
                .and_then(|s| s.render(Framework::Dagster))
            {
                let _ = writeln!(
                    out,
                    "{job}_schedule = dg.ScheduleDefinition(job={job}, cron_schedule={s})"
                );
                d.push_str(&format!(", schedules=[{job}_schedule]"));
            }
            if defs.is_empty() {
                defs.push(d);
            }
        }
    }

    fn dagster_ops(&self, out: &mut String, defs: &mut Vec<String>) {
        let names = self.task_names();
        for (t, n) in self.tasks.iter().zip(&names) {
            let retry = t
                .retries
                .as_ref()
                .map(|r| format!("retry_policy=dg.RetryPolicy(max_retries={})", r.render(0)))
                .unwrap_or_default();
            let _ = writeln!(out, "@dg.op({retry})\ndef {n}(context, x=None):");
            body(&t.body, "    ", out);
        }
        let job = self.name.render();
        let _ = writeln!(out, "@dg.job\ndef {job}_job():");
        if names.is_empty() {
            let _ = writeln!(out, "    pass");
        }
        for (i, n) in names.iter().enumerate() {
            let up = self
                .edge_pairs(names.len())
                .into_iter()
                .find(|(a, b)| *b == i && a < b)
                .map(|(a, _)| format!("{}_out", names[a]))
                .unwrap_or_default();
            let _ = writeln!(out, "    {n}_out = {n}({up})");
        }
        if defs.is_empty() {
            defs.push(format!("jobs=[{job}_job]"));
        }
    }

    fn prefect(&self, out: &mut String) {
        let names = self.task_names();
        for (t, n) in self.tasks.iter().zip(&names) {
            let mut o = Vec::new();
            if let Some(r) = &t.retries {
                o.push(format!("retries={}", r.render(0)));
            }
            if let Some(d) = &t.delay {
                o.push(format!("retry_delay_seconds={}", d.render(0)));
            }
            if let Some(d) = &t.display {
                o.push(format!("name={}", d.literal()));
            }
            let _ = writeln!(
                out,
                "@task({})\ndef {n}({}):",
                o.join(", "),
                params(&t.params)
            );
            body(&t.body, "    ", out);
            out.push('\n');
        }
        let name = self.name.render();
        let mut o = vec![format!("name={}", py_str(&name))];
        if let Some(r) = &self.retries {
            o.push(format!("retries={}", r.render(0)));
        }
        let _ = writeln!(out, "@flow({})\ndef {name}_flow():", o.join(", "));
        if let Some(d) = &self.doc {
            let _ = writeln!(out, "    {}", d.literal());
        }
        let edges = self.edge_pairs(names.len());
        for (i, n) in names.iter().enumerate() {
            let waits: Vec<String> = edges
                .iter()
                .filter(|(a, b)| *b == i && a < b)
                .map(|(a, _)| format!("{}_f", names[*a]))
                .collect();
            let call = if i % 2 == 0 { "submit" } else { "__call__" };
            let wait = if waits.is_empty() {
                String::new()
            } else {
                format!("wait_for=[{}]", waits.join(", "))
            };
            // Calls under a condition on the first run's result or state, from the shape
            // already decoded.
            let first = &names[0];
            let lead = match (i, names.len() >= 2, i % 3) {
                (0, _, _) | (_, false, _) => "    ",
                (_, true, 1) => {
                    let _ = writeln!(out, "    if {first}_f:");
                    "        "
                }
                (_, true, 2) => {
                    let _ = writeln!(out, "    if {first}_f.state.is_failed():");
                    "        "
                }
                _ => "    ",
            };
            if call == "submit" {
                let _ = writeln!(out, "{lead}{n}_f = {n}.submit({wait})");
            } else {
                let _ = writeln!(out, "{lead}{n}_f = {n}({wait})");
            }
        }
        if let Some((i, items)) = &self.mapped
            && !names.is_empty()
        {
            let n = &names[*i as usize % names.len()];
            let items: Vec<String> = items.iter().take(4).map(|e| e.render(0)).collect();
            let _ = writeln!(out, "    {n}.map([{}])", items.join(", "));
        }
        if let Some((n, style)) = self.fan
            && let Some(first) = names.first()
        {
            let n = n % 4096;
            let _ = match style % 2 {
                0 => writeln!(out, "    for i in range({n}):\n        {first}.submit()"),
                _ => writeln!(out, "    {first}.map(list(range({n})))"),
            };
        }
        if names.is_empty() {
            let _ = writeln!(out, "    pass");
        }
        if let Some(s) = self
            .schedule
            .as_ref()
            .and_then(|s| s.render(Framework::Prefect))
        {
            let _ = writeln!(
                out,
                "\nif __name__ == \"__main__\":\n    {name}_flow.serve(name=\"{name}-deploy\", cron={s})"
            );
        }
    }
}

/// A parameter list with distinct names (keyword-only after the first, with defaults).
fn params(names: &[Name]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for n in names.iter().take(3) {
        let n = n.render();
        if !seen.contains(&n) && !KEYWORDS.contains(&n.as_str()) {
            seen.push(n);
        }
    }
    seen.iter()
        .map(|n| format!("{n}=None"))
        .collect::<Vec<_>>()
        .join(", ")
}
