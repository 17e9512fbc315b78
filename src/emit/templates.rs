//! The templates in templates/, compiled into the binary once.

use minijinja::Environment;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "common/helpers.py.j2",
        include_str!("../../templates/common/helpers.py.j2"),
    ),
    (
        "prefect/module.py.j2",
        include_str!("../../templates/prefect/module.py.j2"),
    ),
    (
        "airflow/module.py.j2",
        include_str!("../../templates/airflow/module.py.j2"),
    ),
    (
        "dagster/module.py.j2",
        include_str!("../../templates/dagster/module.py.j2"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            // The templates ship with the binary; a broken one fails the template tests.
            let _ = env.add_template(name, text);
        }
        env
    })
}

/// Renders a template with a context; the text ends with exactly one newline.
pub fn render<T: serde::Serialize>(name: &str, ctx: &T) -> Result<String, String> {
    let tmpl = env()
        .get_template(name)
        .map_err(|e| format!("template {name}: {e}"))?;
    let text = tmpl
        .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
        .map_err(|e| format!("template {name}: {e}"))?;
    let mut text = text.trim_end().to_string();
    text.push('\n');
    // Indented blank lines become empty lines, and never more than two in a row, as formatters
    // write them.
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            if blank > 2 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}
