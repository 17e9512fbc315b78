//! The SVG writer: orchmig lays the graph out itself with the `layout-rs` crate (a layered,
//! Graphviz-like layout; no Graphviz, no network) and draws nodes by kind, cluster frames,
//! marks and a legend with its own, deterministic SVG.

use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Drawing, kind_fill};

const FONT: f64 = 12.0;
const CHAR_W: f64 = 7.2;
const LINE_H: f64 = 16.0;
const MARGIN: f64 = 16.0;
const CLUSTER_PAD: f64 = 10.0;
const CLUSTER_LABEL: f64 = 16.0;
const LEGEND_H: f64 = 34.0;

/// A box: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn union(self, o: Rect) -> Rect {
        let x = self.x.min(o.x);
        let y = self.y.min(o.y);
        Rect {
            x,
            y,
            w: (self.x + self.w).max(o.x + o.w) - x,
            h: (self.y + self.h).max(o.y + o.h) - y,
        }
    }
    fn grow(self, left: f64, top: f64) -> Rect {
        Rect {
            x: self.x - left,
            y: self.y - top,
            w: self.w + 2.0 * left,
            h: self.h + top + left,
        }
    }
}

/// Records where layout-rs put each node (by its `n{i}` tag) and each edge's curve.
#[derive(Default)]
struct Recorder {
    nodes: BTreeMap<usize, Rect>,
    edges: Vec<(usize, Vec<(Point, Point)>)>,
}

fn tag(properties: &Option<String>, prefix: char) -> Option<usize> {
    properties
        .as_deref()
        .and_then(|p| p.strip_prefix(prefix))
        .and_then(|n| n.parse().ok())
}

impl RenderBackend for Recorder {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        if let Some(i) = tag(&properties, 'n') {
            self.nodes.insert(
                i,
                Rect {
                    x: xy.x,
                    y: xy.y,
                    w: size.x,
                    h: size.y,
                },
            );
        }
    }
    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}
    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        _head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        if let Some(i) = tag(&properties, 'e')
            && path.len() >= 2
        {
            self.edges.push((i, path.to_vec()));
        }
    }
    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// The lines of text inside a node.
fn node_lines(d: &Drawing, i: usize) -> Vec<String> {
    let n = &d.nodes[i];
    let mut lines = vec![n.label.clone()];
    if let Some(over) = &n.mapped {
        lines.push(format!("mapped over {}", over.join(", ")));
    }
    if n.blocking == Some(true) {
        lines.push("blocking".into());
    }
    lines
}

fn node_size(lines: &[String]) -> Point {
    let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    Point::new(
        chars.max(3) as f64 * CHAR_W + 24.0,
        lines.len() as f64 * LINE_H + 14.0,
    )
}

/// Lays a drawing out and renders it; `prefix` keeps element ids unique when several SVGs share
/// one HTML page. Errors only when the layout library fails on the graph.
pub fn render(d: &Drawing, prefix: &str) -> Result<String, String> {
    if d.nodes.len() > MAX_LAID_OUT_NODES {
        return Err(format!(
            "{} nodes are more than the {MAX_LAID_OUT_NODES} an SVG is laid out for (the layout \
             time grows with the cube of the nodes: 1,200 took two minutes)",
            d.nodes.len()
        ));
    }
    let (nodes, edges) = layout_positions(d)?;
    Ok(draw(d, prefix, &nodes, &edges))
}

/// The most nodes orchmig lays out as an SVG (about a second); a larger pipeline is drawn as
/// dot, Mermaid or JSON, which a viewer lays out.
pub const MAX_LAID_OUT_NODES: usize = 250;

type Curves = Vec<(usize, Vec<(Point, Point)>)>;

fn layout_positions(d: &Drawing) -> Result<(BTreeMap<usize, Rect>, Curves), String> {
    let mut rec = Recorder::default();
    if d.nodes.is_empty() {
        return Ok((rec.nodes, rec.edges));
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut vg = VisualGraph::new(Orientation::LeftToRight);
        let mut handles = Vec::with_capacity(d.nodes.len());
        for i in 0..d.nodes.len() {
            let lines = node_lines(d, i);
            let el = Element::create_with_properties(
                ShapeKind::new_box(&lines.join("\n")),
                StyleAttr::simple(),
                Orientation::LeftToRight,
                node_size(&lines),
                format!("n{i}"),
            );
            handles.push(vg.add_node(el));
        }
        for (j, e) in d.edges.iter().enumerate() {
            let (Some(a), Some(b)) = (d.index_of(&e.from), d.index_of(&e.to)) else {
                continue;
            };
            let arrow = Arrow {
                start: LineEndKind::None,
                end: LineEndKind::Arrow,
                line_style: if e.kind == "data" {
                    LineStyleKind::Normal
                } else {
                    LineStyleKind::Dashed
                },
                text: String::new(),
                look: StyleAttr::simple(),
                properties: Some(format!("e{j}")),
                src_port: None,
                dst_port: None,
            };
            vg.add_edge(arrow, handles[a], handles[b]);
        }
        vg.do_it(false, false, false, &mut rec);
        rec
    }));
    match result {
        Ok(r) => Ok((r.nodes, r.edges)),
        Err(_) => Err(format!(
            "the layout library could not lay out pipeline `{}`",
            d.pipeline
        )),
    }
}

/// Cluster frames: each the union of its nodes and child frames, padded by nesting.
fn cluster_frames(d: &Drawing, nodes: &BTreeMap<usize, Rect>) -> BTreeMap<usize, Rect> {
    let mut frames = BTreeMap::new();
    // Children come after parents (Drawing sorts them), so fold from the deepest up.
    for c in (0..d.clusters.len()).rev() {
        let id = &d.clusters[c].id;
        let mut r: Option<Rect> = None;
        for i in d.nodes_in(Some(id)) {
            if let Some(&n) = nodes.get(&i) {
                r = Some(r.map_or(n, |x| x.union(n)));
            }
        }
        for k in d.child_clusters(Some(id)) {
            if let Some(&f) = frames.get(&k) {
                r = Some(r.map_or(f, |x: Rect| x.union(f)));
            }
        }
        if let Some(r) = r {
            frames.insert(c, r.grow(CLUSTER_PAD, CLUSTER_PAD + CLUSTER_LABEL));
        }
    }
    frames
}

fn num(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        "0".into()
    } else if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn draw(
    d: &Drawing,
    prefix: &str,
    nodes: &BTreeMap<usize, Rect>,
    edges: &[(usize, Vec<(Point, Point)>)],
) -> String {
    let frames = cluster_frames(d, nodes);
    let mut bounds: Option<Rect> = None;
    for r in nodes.values().chain(frames.values()) {
        bounds = Some(bounds.map_or(*r, |b| b.union(*r)));
    }
    for (_, path) in edges {
        for (a, b) in path {
            for p in [a, b] {
                let r = Rect {
                    x: p.x,
                    y: p.y,
                    w: 0.0,
                    h: 0.0,
                };
                bounds = Some(bounds.map_or(r, |x| x.union(r)));
            }
        }
    }
    let b = bounds.unwrap_or(Rect {
        x: 0.0,
        y: 0.0,
        w: 200.0,
        h: 20.0,
    });
    // Shift everything so the drawing starts at the margin.
    let (dx, dy) = (MARGIN - b.x, MARGIN - b.y);
    let legend = legend_items(d);
    let legend_w: f64 = legend.iter().map(|(_, w)| w).sum::<f64>() + MARGIN;
    let width = (b.w + 2.0 * MARGIN).max(legend_w);
    let height = b.h + 2.0 * MARGIN + LEGEND_H;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"orchmig-graph\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{}\">",
        esc(&format!("graph of pipeline {}", d.pipeline)),
        num(FONT),
        w = num(width),
        h = num(height),
    );
    let _ = writeln!(
        s,
        "<title>{}</title>\n<defs><marker id=\"{prefix}arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#374151\"/></marker><marker id=\"{prefix}dot\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\"><circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"#ffffff\" stroke=\"#15803d\" stroke-width=\"1.5\"/></marker></defs>",
        esc(&format!("{} ({})", d.pipeline, d.framework))
    );
    for (c, f) in &frames {
        let cl = &d.clusters[*c];
        let _ = writeln!(
            s,
            "<g class=\"cluster\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#f9fafb\" fill-opacity=\"0.6\" stroke=\"#6b7280\" stroke-dasharray=\"6 3\"/><text x=\"{}\" y=\"{}\" fill=\"#374151\" font-size=\"11\">{} · {}</text></g>",
            num(f.x + dx),
            num(f.y + dy),
            num(f.w),
            num(f.h),
            num(f.x + dx + 8.0),
            num(f.y + dy + 14.0),
            esc(&cl.id),
            cl.kind.replace('_', " ")
        );
    }
    for (j, path) in edges {
        let e = &d.edges[*j];
        let mut p = format!(
            "M{} {} C{} {} {} {} {} {}",
            num(path[0].0.x + dx),
            num(path[0].0.y + dy),
            num(path[0].1.x + dx),
            num(path[0].1.y + dy),
            num(path[1].0.x + dx),
            num(path[1].0.y + dy),
            num(path[1].1.x + dx),
            num(path[1].1.y + dy)
        );
        for q in path.iter().skip(2) {
            let _ = write!(
                p,
                " S{} {} {} {}",
                num(q.0.x + dx),
                num(q.0.y + dy),
                num(q.1.x + dx),
                num(q.1.y + dy)
            );
        }
        let style = match e.kind {
            "data" => format!("stroke=\"#374151\" marker-end=\"url(#{prefix}arrow)\""),
            "check" => format!(
                "stroke=\"#15803d\" stroke-dasharray=\"2 3\" marker-end=\"url(#{prefix}dot)\""
            ),
            _ => format!(
                "stroke=\"#374151\" stroke-dasharray=\"6 4\" marker-end=\"url(#{prefix}arrow)\""
            ),
        };
        let title = match &e.param {
            Some(param) => format!("{} → {} ({}: {param})", e.from, e.to, e.kind),
            None => format!("{} → {} ({})", e.from, e.to, e.kind),
        };
        let _ = writeln!(
            s,
            "<g class=\"edge {}\"><title>{}</title><path d=\"{p}\" fill=\"none\" stroke-width=\"1.5\" {style}/></g>",
            e.kind,
            esc(&title)
        );
    }
    for (i, r) in nodes {
        let n = &d.nodes[*i];
        let r = Rect {
            x: r.x + dx,
            y: r.y + dy,
            ..*r
        };
        let _ = write!(
            s,
            "<g class=\"node {}{}\"><title>{}</title>",
            n.kind,
            if n.is_mapped() { " mapped" } else { "" },
            esc(&format!("{} ({})", n.id, n.kind.replace('_', " ")))
        );
        s.push_str(&shape(n.kind, r, n.is_mapped()));
        let lines = node_lines(d, *i);
        let top = r.y + r.h / 2.0 - (lines.len() as f64 - 1.0) * LINE_H / 2.0;
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#111827\"{}>{}</text>",
                num(r.x + r.w / 2.0),
                num(top + k as f64 * LINE_H),
                if k > 0 {
                    " font-size=\"10\" font-style=\"italic\""
                } else {
                    ""
                },
                esc(line)
            );
        }
        s.push_str("</g>\n");
    }
    // The legend: what each shape, mark and line means, for the kinds present.
    let mut x = MARGIN;
    let y = height - LEGEND_H + 6.0;
    s.push_str("<g class=\"legend\">");
    for (item, w) in &legend {
        let sw = Rect {
            x,
            y,
            w: 34.0,
            h: 20.0,
        };
        match item.as_str() {
            "edge:data" | "edge:order" | "edge:check" => {
                let kind = &item[5..];
                let style = match kind {
                    "data" => format!("stroke=\"#374151\" marker-end=\"url(#{prefix}arrow)\""),
                    "check" => format!(
                        "stroke=\"#15803d\" stroke-dasharray=\"2 3\" marker-end=\"url(#{prefix}dot)\""
                    ),
                    _ => format!(
                        "stroke=\"#374151\" stroke-dasharray=\"6 4\" marker-end=\"url(#{prefix}arrow)\""
                    ),
                };
                let _ = write!(
                    s,
                    "<path d=\"M{} {}H{}\" stroke-width=\"1.5\" {style}/>",
                    num(x),
                    num(y + 10.0),
                    num(x + 30.0)
                );
            }
            "mapped" => s.push_str(&shape("task", sw, true)),
            k => s.push_str(&shape(k, sw, false)),
        }
        let label = match item.as_str() {
            "edge:data" => "data",
            "edge:order" => "order only",
            "edge:check" => "check",
            "mapped" => "mapped",
            k => k,
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" fill=\"#374151\" font-size=\"11\">{}</text>",
            num(x + 40.0),
            num(y + 10.0),
            esc(&label.replace('_', " "))
        );
        x += w;
    }
    s.push_str("</g>\n</svg>\n");
    s
}

/// Legend entries (node kinds, the mapped mark, edge kinds present) with their widths.
fn legend_items(d: &Drawing) -> Vec<(String, f64)> {
    let mut items: Vec<String> = d.kinds_present().iter().map(|k| k.to_string()).collect();
    if d.nodes.iter().any(|n| n.is_mapped()) {
        items.push("mapped".into());
    }
    items.extend(d.edge_kinds_present().iter().map(|e| format!("edge:{e}")));
    items
        .into_iter()
        .map(|i| {
            let label = i.strip_prefix("edge:").unwrap_or(&i).len().max(4);
            let w = 40.0 + label as f64 * 6.6 + 16.0;
            (i, w)
        })
        .collect()
}

/// The outline of a node kind inside its box; mapped nodes are drawn as a stack.
fn shape(kind: &str, r: Rect, mapped: bool) -> String {
    let fill = kind_fill(kind);
    let (stroke, width) = if mapped {
        ("#7c3aed", "2.5")
    } else {
        ("#374151", "1.2")
    };
    let dash = if kind == "external_asset" {
        " stroke-dasharray=\"4 3\""
    } else {
        ""
    };
    let paint = format!("fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}");
    let (x, y, w, h) = (r.x, r.y, r.w, r.h);
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let pts = |p: &[(f64, f64)]| {
        p.iter()
            .map(|(a, b)| format!("{},{}", num(*a), num(*b)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = String::new();
    if mapped {
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.2\"/>",
            num(x + 4.0),
            num(y - 4.0),
            num(w),
            num(h)
        );
    }
    match kind {
        "asset" | "external_asset" => {
            let e = (h / 6.0).min(7.0);
            let _ = write!(
                s,
                "<path d=\"M{x0} {y0}L{x0} {y1}A{rx} {e} 0 0 0 {x1} {y1}L{x1} {y0}A{rx} {e} 0 0 0 {x0} {y0}z\" {paint}/><ellipse cx=\"{cx}\" cy=\"{y0}\" rx=\"{rx}\" ry=\"{e}\" {paint}/>",
                x0 = num(x),
                x1 = num(x + w),
                y0 = num(y + e),
                y1 = num(y + h - e),
                rx = num(w / 2.0),
                e = num(e),
                cx = num(cx),
            );
        }
        "sensor" => {
            let k = h / 3.0;
            let _ = write!(
                s,
                "<polygon points=\"{}\" {paint}/>",
                pts(&[
                    (x + k, y),
                    (x + w - k, y),
                    (x + w, cy),
                    (x + w - k, y + h),
                    (x + k, y + h),
                    (x, cy)
                ])
            );
        }
        "branch" | "short_circuit" => {
            let _ = write!(
                s,
                "<polygon points=\"{}\" {paint}/>",
                pts(&[
                    (x - 12.0, cy),
                    (cx, y - 8.0),
                    (x + w + 12.0, cy),
                    (cx, y + h + 8.0)
                ])
            );
        }
        "empty" => {
            let _ = write!(
                s,
                "<ellipse cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" {paint}/>",
                num(cx),
                num(cy),
                num(w / 2.0),
                num(h / 2.0)
            );
        }
        "trigger" => {
            let k = h / 2.5;
            let _ = write!(
                s,
                "<polygon points=\"{}\" {paint}/>",
                pts(&[
                    (x, y),
                    (x + w - k, y),
                    (x + w, cy),
                    (x + w - k, y + h),
                    (x, y + h)
                ])
            );
        }
        "check" => {
            let k = h / 3.0;
            let _ = write!(
                s,
                "<polygon points=\"{}\" {paint}/>",
                pts(&[(x + k, y), (x + w, y), (x + w - k, y + h), (x, y + h)])
            );
        }
        _ => {
            let rx = if kind == "op" { 10.0 } else { 3.0 };
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" {paint}/>",
                num(x),
                num(y),
                num(w),
                num(h),
                num(rx)
            );
            if kind == "sub_pipeline" {
                let _ = write!(
                    s,
                    "<path d=\"M{a} {t}V{b}M{c} {t}V{b}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
                    a = num(x + 6.0),
                    c = num(x + w - 6.0),
                    t = num(y),
                    b = num(y + h)
                );
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;

    #[test]
    fn lays_out_every_node_and_edge_deterministically() {
        let d = Drawing::new(&sample());
        let a = render(&d, "g0-").unwrap();
        assert_eq!(a, render(&d, "g0-").unwrap());
        assert!(a.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(a.matches("<g class=\"node ").count(), d.nodes.len(), "{a}");
        assert_eq!(a.matches("<g class=\"edge ").count(), d.edges.len(), "{a}");
        assert_eq!(a.matches("<g class=\"cluster\">").count(), 1);
        assert!(a.contains("say &quot;hi&quot;"), "{a}");
        assert!(a.contains("url(#g0-arrow)"));
        assert!(a.contains("<g class=\"legend\">"));
    }

    #[test]
    fn a_pipeline_without_nodes_is_an_empty_picture() {
        let d = Drawing::new(&crate::ir::Pipeline::default());
        let s = render(&d, "").unwrap();
        assert!(s.ends_with("</svg>\n"));
    }
}
