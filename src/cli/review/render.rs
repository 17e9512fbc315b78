//! The review page and the per-pipeline pages as HTML, rendered from templates/report/*.j2 with
//! HTML auto-escaping (only the SVG markup, escaped by the graph module, is inserted as is).

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::page::Page;
use super::section::PipelineSection;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "report/page.html.j2",
        include_str!("../../../templates/report/page.html.j2"),
    ),
    (
        "report/pipeline.html.j2",
        include_str!("../../../templates/report/pipeline.html.j2"),
    ),
    (
        "report/summary.html.j2",
        include_str!("../../../templates/report/summary.html.j2"),
    ),
    (
        "report/section.html.j2",
        include_str!("../../../templates/report/section.html.j2"),
    ),
    (
        "report/style.css.j2",
        include_str!("../../../templates/report/style.css.j2"),
    ),
];

/// The page of one pipeline, when the estate's sections are not inline.
#[derive(Serialize)]
struct PipelinePage<'a> {
    version: &'static str,
    generated: &'a str,
    commit: &'a str,
    /// The estate page, from the pipeline's page.
    back: &'a str,
    p: &'a PipelineSection,
}

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
}

fn render(env: &Environment, name: &str, ctx: impl Serialize) -> Result<String, String> {
    let tmpl = env
        .get_template(name)
        .map_err(|e| format!("template: {e}"))?;
    tmpl.render(minijinja::Value::from(minijinja::value::Serde(ctx)))
        .map(|t| t.trim_end().to_string() + "\n")
        .map_err(|e| format!("template {name}: {e}"))
}

/// The estate's page as HTML.
pub fn render_html(page: &Page) -> Result<String, String> {
    render(&environment()?, "report/page.html.j2", page)
}

/// Each pipeline's own page as (file name, HTML), for the sections that have one; `back` is
/// the estate page's URL from the pages' folder.
pub fn render_pipeline_pages(page: &Page, back: &str) -> Result<Vec<(String, String)>, String> {
    let env = environment()?;
    page.pipelines
        .iter()
        .filter_map(|p| p.page.as_ref().map(|name| (name, p)))
        .map(|(name, p)| {
            let ctx = PipelinePage {
                version: page.version,
                generated: &page.generated,
                commit: &page.commit,
                back,
                p,
            };
            Ok((name.clone(), render(&env, "report/pipeline.html.j2", ctx)?))
        })
        .collect()
}
