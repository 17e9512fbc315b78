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
    Ok(after_imports(&out))
}

/// isort's `lines-after-imports`: two blank lines after the import block before a def, class or
/// decorator, one before any other statement.
fn after_imports(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut last_import = None;
    let mut in_parens = false;
    for (i, l) in lines.iter().enumerate() {
        if in_parens {
            last_import = Some(i);
            in_parens = !l.starts_with(')');
            continue;
        }
        if l.starts_with("import ") || l.starts_with("from ") {
            last_import = Some(i);
            in_parens = l.ends_with('(');
        } else if !(l.is_empty() || l.starts_with('#')) {
            break;
        }
    }
    let Some(end) = last_import else {
        return text.to_string();
    };
    let Some(next) = lines
        .iter()
        .skip(end + 1)
        .position(|l| !l.is_empty())
        .map(|p| p + end + 1)
    else {
        return text.to_string();
    };
    let code = lines[next];
    let blanks = if ["def ", "class ", "@", "async "]
        .iter()
        .any(|k| code.starts_with(k))
    {
        2
    } else {
        1
    };
    let mut out: Vec<&str> = lines[..=end].to_vec();
    out.extend(std::iter::repeat_n("", blanks));
    out.extend(&lines[next..]);
    out.join("\n") + "\n"
}
