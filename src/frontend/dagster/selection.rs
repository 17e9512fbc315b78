//! Dagster asset selections: the `AssetSelection` algebra, the selection-string syntax
//! (`key:a+`, `group:g and not tag:t`, legacy `*a`, `a*`, `++a`), and their resolution over the
//! assets of a file.

use std::collections::{BTreeMap, BTreeSet};

/// An asset selection, as `AssetSelection` builds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every materialisable asset.
    All,
    /// Exactly these keys.
    Keys(Vec<Vec<String>>),
    /// Keys matching a `key:` pattern with `*` wildcards (on the `/`-joined key).
    KeyWildcard(String),
    /// Assets in these groups.
    Groups(Vec<String>),
    /// Assets whose key starts with one of these prefixes.
    KeyPrefixes(Vec<Vec<String>>),
    /// Assets with a tag (value `""` matches a key-only tag).
    Tag(String, String),
    /// Assets of a kind.
    Kind(String),
    /// Assets owned by someone.
    Owner(String),
    /// A selection and its ancestors.
    Upstream {
        /// The selection.
        of: Box<Selection>,
        /// How many levels; `None` for all.
        depth: Option<u32>,
        /// Whether the selection itself stays in.
        include_self: bool,
    },
    /// A selection and its descendants.
    Downstream {
        /// The selection.
        of: Box<Selection>,
        /// How many levels; `None` for all.
        depth: Option<u32>,
        /// Whether the selection itself stays in.
        include_self: bool,
    },
    /// Members with no parent inside the selection.
    Roots(Box<Selection>),
    /// Members with no child inside the selection.
    Sinks(Box<Selection>),
    /// The selection plus the other outputs of the multi-assets it touches.
    RequiredNeighbors(Box<Selection>),
    /// Union.
    Or(Vec<Selection>),
    /// Intersection.
    And(Vec<Selection>),
    /// Difference.
    Sub(Box<Selection>, Box<Selection>),
    /// Complement (within every asset).
    Not(Box<Selection>),
    /// The same assets, without their checks (`.without_checks()`).
    WithoutChecks(Box<Selection>),
}

/// What resolution needs to know about one asset.
#[derive(Debug, Clone, Default)]
pub struct AssetInfo {
    /// The key path.
    pub key: Vec<String>,
    /// The group.
    pub group: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Kinds.
    pub kinds: Vec<String>,
    /// Owners.
    pub owners: Vec<String>,
    /// Indexes of the upstream assets.
    pub deps: Vec<usize>,
    /// Not materialisable here (an `AssetSpec`).
    pub external: bool,
    /// The definition it comes from (outputs of one multi-asset share it).
    pub definition: usize,
}

impl Selection {
    /// `a | b`, flattening unions.
    pub fn or(self, other: Selection) -> Selection {
        match (self, other) {
            (Selection::Or(mut a), Selection::Or(b)) => {
                a.extend(b);
                Selection::Or(a)
            }
            (Selection::Or(mut a), b) => {
                a.push(b);
                Selection::Or(a)
            }
            (a, b) => Selection::Or(vec![a, b]),
        }
    }

    /// `a & b`, flattening intersections.
    pub fn and(self, other: Selection) -> Selection {
        match (self, other) {
            (Selection::And(mut a), Selection::And(b)) => {
                a.extend(b);
                Selection::And(a)
            }
            (Selection::And(mut a), b) => {
                a.push(b);
                Selection::And(a)
            }
            (a, b) => Selection::And(vec![a, b]),
        }
    }

    /// The indexes of the assets selected, in ascending order.
    pub fn resolve(&self, assets: &[AssetInfo]) -> BTreeSet<usize> {
        let all = || (0..assets.len()).filter(|&i| !assets[i].external);
        match self {
            Selection::All => all().collect(),
            Selection::Keys(keys) => (0..assets.len())
                .filter(|&i| keys.contains(&assets[i].key))
                .collect(),
            Selection::KeyWildcard(pattern) => all()
                .filter(|&i| wildcard(pattern, &assets[i].key.join("/")))
                .collect(),
            Selection::Groups(groups) => all()
                .filter(|&i| groups.contains(&assets[i].group))
                .collect(),
            Selection::KeyPrefixes(prefixes) => all()
                .filter(|&i| prefixes.iter().any(|p| assets[i].key.starts_with(p)))
                .collect(),
            Selection::Tag(k, v) => all()
                .filter(|&i| assets[i].tags.get(k).is_some_and(|x| x == v))
                .collect(),
            Selection::Kind(k) => all().filter(|&i| assets[i].kinds.contains(k)).collect(),
            Selection::Owner(o) => all().filter(|&i| assets[i].owners.contains(o)).collect(),
            Selection::Upstream {
                of,
                depth,
                include_self,
            } => traverse(assets, &of.resolve(assets), *depth, *include_self, true),
            Selection::Downstream {
                of,
                depth,
                include_self,
            } => traverse(assets, &of.resolve(assets), *depth, *include_self, false),
            Selection::Roots(of) => {
                let inner = of.resolve(assets);
                inner
                    .iter()
                    .copied()
                    .filter(|&i| !assets[i].deps.iter().any(|d| inner.contains(d)))
                    .collect()
            }
            Selection::Sinks(of) => {
                let inner = of.resolve(assets);
                inner
                    .iter()
                    .copied()
                    .filter(|&i| !inner.iter().any(|&j| j != i && assets[j].deps.contains(&i)))
                    .collect()
            }
            Selection::RequiredNeighbors(of) => {
                let inner = of.resolve(assets);
                let defs: BTreeSet<usize> = inner.iter().map(|&i| assets[i].definition).collect();
                (0..assets.len())
                    .filter(|&i| inner.contains(&i) || defs.contains(&assets[i].definition))
                    .collect()
            }
            Selection::Or(parts) => parts.iter().flat_map(|p| p.resolve(assets)).collect(),
            Selection::And(parts) => {
                let mut it = parts.iter();
                let Some(first) = it.next() else {
                    return BTreeSet::new();
                };
                let mut acc = first.resolve(assets);
                for p in it {
                    let r = p.resolve(assets);
                    acc.retain(|i| r.contains(i));
                }
                acc
            }
            Selection::Sub(a, b) => {
                let b = b.resolve(assets);
                a.resolve(assets)
                    .into_iter()
                    .filter(|i| !b.contains(i))
                    .collect()
            }
            Selection::Not(a) => {
                let a = a.resolve(assets);
                all().filter(|i| !a.contains(i)).collect()
            }
            Selection::WithoutChecks(of) => of.resolve(assets),
        }
    }

    /// The selected assets whose checks the selection leaves out (`.without_checks()` on a part
    /// of it); their checks are not part of the job.
    pub fn without_checks(&self, assets: &[AssetInfo]) -> BTreeSet<usize> {
        match self {
            Selection::WithoutChecks(of) => of.resolve(assets),
            Selection::Or(parts) | Selection::And(parts) => parts
                .iter()
                .flat_map(|p| p.without_checks(assets))
                .collect(),
            Selection::Sub(a, _) => a.without_checks(assets),
            _ => BTreeSet::new(),
        }
    }
}

fn traverse(
    assets: &[AssetInfo],
    start: &BTreeSet<usize>,
    depth: Option<u32>,
    include_self: bool,
    up: bool,
) -> BTreeSet<usize> {
    let mut seen: BTreeSet<usize> = start.clone();
    let mut frontier: Vec<usize> = start.iter().copied().collect();
    let mut level = 0u32;
    while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
        level += 1;
        let mut next = Vec::new();
        for &i in &frontier {
            let neighbours: Vec<usize> = if up {
                assets[i].deps.clone()
            } else {
                (0..assets.len())
                    .filter(|&j| assets[j].deps.contains(&i))
                    .collect()
            };
            for n in neighbours {
                if seen.insert(n) {
                    next.push(n);
                }
            }
        }
        frontier = next;
    }
    if !include_self {
        for i in start {
            seen.remove(i);
        }
    }
    seen
}

/// `*`-wildcard match over a whole string.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// A key given as a user string (`a/b` → `["a", "b"]`), as `AssetSelection.keys` reads it.
pub fn user_key(text: &str) -> Vec<String> {
    text.split('/').map(str::to_string).collect()
}

/// Parses a selection string (Dagster's selection syntax, with the legacy `*`/`+` clauses).
pub fn parse(text: &str) -> Result<Selection, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    p.skip_ws();
    if p.at == p.chars.len() {
        return Err("empty selection".into());
    }
    let sel = p.or()?;
    p.skip_ws();
    if p.at != p.chars.len() {
        return Err(format!(
            "unexpected `{}` in the selection `{text}`",
            p.chars[p.at..].iter().collect::<String>()
        ));
    }
    Ok(sel)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_ws();
        let end = self.at + word.len();
        if end > self.chars.len() {
            return false;
        }
        let candidate: String = self.chars[self.at..end].iter().collect();
        let boundary = self
            .chars
            .get(end)
            .is_none_or(|c| c.is_whitespace() || *c == '(');
        if candidate == word && boundary {
            self.at = end;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Selection, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            let right = self.and()?;
            left = left.or(right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Selection, String> {
        let mut left = self.not()?;
        while self.keyword("and") {
            let right = self.not()?;
            left = left.and(right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Selection, String> {
        if self.keyword("not") {
            return Ok(Selection::Not(Box::new(self.not()?)));
        }
        self.traversal()
    }

    fn digits(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        text.parse().ok()
    }

    /// An upstream prefix: `*`, `N+` or `+…+`; `Some(None)` is unbounded.
    fn up_prefix(&mut self) -> Option<Option<u32>> {
        self.skip_ws();
        match self.peek() {
            Some('*')
                if self
                    .chars
                    .get(self.at + 1)
                    .is_some_and(|c| !c.is_whitespace()) =>
            {
                self.at += 1;
                Some(None)
            }
            Some('+') => {
                let mut n = 0;
                while self.peek() == Some('+') {
                    self.at += 1;
                    n += 1;
                }
                Some(Some(n))
            }
            Some(c) if c.is_ascii_digit() => {
                let save = self.at;
                let n = self.digits();
                if self.peek() == Some('+') {
                    self.at += 1;
                    Some(n)
                } else {
                    self.at = save;
                    None
                }
            }
            _ => None,
        }
    }

    /// A downstream suffix: `*`, `+N` or `+…+`.
    fn down_suffix(&mut self) -> Option<Option<u32>> {
        match self.peek() {
            Some('*') => {
                self.at += 1;
                Some(None)
            }
            Some('+') => {
                self.at += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Some(self.digits());
                }
                let mut n = 1;
                while self.peek() == Some('+') {
                    self.at += 1;
                    n += 1;
                }
                Some(Some(n))
            }
            _ => None,
        }
    }

    fn traversal(&mut self) -> Result<Selection, String> {
        let up = self.up_prefix();
        let prim = self.primary()?;
        let down = self.down_suffix();
        Ok(match (up, down) {
            (None, None) => prim,
            (Some(d), None) => Selection::Upstream {
                of: Box::new(prim),
                depth: d,
                include_self: true,
            },
            (None, Some(d)) => Selection::Downstream {
                of: Box::new(prim),
                depth: d,
                include_self: true,
            },
            (Some(u), Some(d)) => Selection::Or(vec![
                Selection::Upstream {
                    of: Box::new(prim.clone()),
                    depth: u,
                    include_self: true,
                },
                Selection::Downstream {
                    of: Box::new(prim),
                    depth: d,
                    include_self: true,
                },
            ]),
        })
    }

    fn value(&mut self, attr: bool) -> Result<String, String> {
        if self.peek() == Some('"') {
            self.at += 1;
            let start = self.at;
            while self.peek().is_some_and(|c| c != '"') {
                self.at += 1;
            }
            let v: String = self.chars[start..self.at].iter().collect();
            if self.peek() != Some('"') {
                return Err("unterminated quoted value in the selection".into());
            }
            self.at += 1;
            return Ok(v);
        }
        let start = self.at;
        while let Some(c) = self.peek() {
            let stop = c.is_whitespace()
                || c == '('
                || c == ')'
                || c == '+'
                || (!attr && (c == '*' || c == ':'));
            if stop {
                break;
            }
            self.at += 1;
        }
        if start == self.at {
            return Err("expected an asset key or attribute in the selection".into());
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn primary(&mut self) -> Result<Selection, String> {
        self.skip_ws();
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.or()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err("unbalanced parentheses in the selection".into());
                }
                self.at += 1;
                return Ok(inner);
            }
            Some('*') => {
                self.at += 1;
                return Ok(Selection::All);
            }
            _ => {}
        }
        for (func, wrap) in [
            ("sinks", Selection::Sinks as fn(Box<Selection>) -> Selection),
            ("roots", Selection::Roots),
        ] {
            let save = self.at;
            if self.keyword(func) {
                self.skip_ws();
                if self.peek() == Some('(') {
                    self.at += 1;
                    let inner = self.or()?;
                    self.skip_ws();
                    if self.peek() != Some(')') {
                        return Err("unbalanced parentheses in the selection".into());
                    }
                    self.at += 1;
                    return Ok(wrap(Box::new(inner)));
                }
            }
            self.at = save;
        }
        let word = self.value(false)?;
        if self.peek() == Some(':') {
            self.at += 1;
            let v = self.value(true)?;
            return Ok(match word.as_str() {
                "key" if v.contains('*') => Selection::KeyWildcard(v),
                "key" => Selection::Keys(vec![user_key(&v)]),
                "group" => Selection::Groups(vec![v]),
                "tag" => match v.split_once('=') {
                    Some((k, val)) => Selection::Tag(k.into(), val.into()),
                    None => Selection::Tag(v, String::new()),
                },
                "kind" => Selection::Kind(v),
                "owner" => Selection::Owner(v),
                other => {
                    return Err(format!(
                        "the selection attribute `{other}:` is not one orchmig resolves statically"
                    ));
                }
            });
        }
        Ok(Selection::Keys(vec![user_key(&word)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(key: &str, group: &str, deps: &[usize]) -> AssetInfo {
        AssetInfo {
            key: user_key(key),
            group: group.into(),
            deps: deps.to_vec(),
            definition: 0,
            ..AssetInfo::default()
        }
    }

    /// a → b → c, b → d (d in group "other"), e external feeding a.
    fn graph() -> Vec<AssetInfo> {
        let mut v = vec![
            info("a", "g", &[4]),
            info("wh/b", "g", &[0]),
            info("c", "g", &[1]),
            info("d", "other", &[1]),
            info("e", "src", &[]),
        ];
        v[4].external = true;
        v[2].tags.insert("tier".into(), "gold".into());
        for (i, a) in v.iter_mut().enumerate() {
            a.definition = i;
        }
        v
    }

    fn keys(sel: &Selection) -> Vec<String> {
        let g = graph();
        sel.resolve(&g)
            .into_iter()
            .map(|i| g[i].key.join("/"))
            .collect()
    }

    #[test]
    fn strings_in_both_syntaxes() {
        assert_eq!(parse("d").unwrap(), Selection::Keys(vec![vec!["d".into()]]));
        assert_eq!(keys(&parse("wh/b").unwrap()), ["wh/b"]);
        assert_eq!(keys(&parse("*c").unwrap()), ["a", "wh/b", "c", "e"]);
        assert_eq!(keys(&parse("a*").unwrap()), ["a", "wh/b", "c", "d"]);
        assert_eq!(keys(&parse("+c").unwrap()), ["wh/b", "c"]);
        assert_eq!(keys(&parse("++c").unwrap()), ["a", "wh/b", "c"]);
        assert_eq!(keys(&parse("key:a+2").unwrap()), ["a", "wh/b", "c", "d"]);
        assert_eq!(keys(&parse("1+key:c").unwrap()), ["wh/b", "c"]);
        assert_eq!(keys(&parse("*").unwrap()), ["a", "wh/b", "c", "d"]);
        assert_eq!(keys(&parse("key:wh/*").unwrap()), ["wh/b"]);
        assert_eq!(
            keys(&parse("group:g and not tag:tier=gold").unwrap()),
            ["a", "wh/b"]
        );
        assert_eq!(
            keys(&parse("key:a+ or (group:other)").unwrap()),
            ["a", "wh/b", "d"]
        );
        assert_eq!(keys(&parse("sinks(group:g)").unwrap()), ["c"]);
        assert!(parse("code_location:x").is_err());
        assert!(parse("(group:g").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn algebra() {
        let g = Selection::Groups(vec!["g".into()]);
        let down = Selection::Downstream {
            of: Box::new(Selection::Keys(vec![vec!["wh".into(), "b".into()]])),
            depth: None,
            include_self: false,
        };
        assert_eq!(keys(&down), ["c", "d"]);
        assert_eq!(
            keys(&Selection::Sub(Box::new(g.clone()), Box::new(down.clone()))),
            ["a", "wh/b"]
        );
        assert_eq!(keys(&g.clone().and(down.clone())), ["c"]);
        assert_eq!(
            keys(
                &Selection::Groups(vec!["other".into()])
                    .or(Selection::KeyPrefixes(vec![vec!["wh".into()]]))
            ),
            ["wh/b", "d"]
        );
        assert_eq!(keys(&Selection::Roots(Box::new(g))), ["a"]);
        assert_eq!(keys(&Selection::All), ["a", "wh/b", "c", "d"]);
        let up = Selection::Upstream {
            of: Box::new(Selection::Keys(vec![vec!["a".into()]])),
            depth: Some(1),
            include_self: true,
        };
        assert_eq!(keys(&up), ["a", "e"]);
    }

    #[test]
    fn multi_asset_neighbours() {
        let mut g = graph();
        g[3].definition = g[2].definition;
        let sel = Selection::RequiredNeighbors(Box::new(Selection::Keys(vec![vec!["c".into()]])));
        let got: Vec<usize> = sel.resolve(&g).into_iter().collect();
        assert_eq!(got, [2, 3]);
    }
}
