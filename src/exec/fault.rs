//! Fault injection for the dry runner: `--fail NODE[@PARTITION][:N]` makes the first N attempts of
//! a step fail (every attempt without `:N`); `--hang` makes them hang until their timeout;
//! `--set-output NODE=JSON` makes a step's successful attempts return that value (a branch's
//! choice, a short-circuit's `false`, the result a condition reads), whatever the runner.

/// The injected faults of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// `--fail` specs as written.
    pub fail: Vec<String>,
    /// `--hang` specs as written.
    pub hang: Vec<String>,
    /// `--set-output` specs as written (`NODE=JSON`).
    pub set_output: Vec<String>,
}

/// The step and the value of a `--set-output NODE=JSON` spec; an error says what is wrong.
pub fn parse_set_output(spec: &str) -> Result<(String, serde_json::Value), String> {
    let Some((node, json)) = spec.split_once('=') else {
        return Err(format!("`{spec}` is not NODE=JSON"));
    };
    if node.is_empty() {
        return Err(format!("`{spec}` names no step"));
    }
    let value = serde_json::from_str(json)
        .map_err(|e| format!("the value of `{spec}` is not JSON ({e}); quote strings: '\"x\"'"))?;
    Ok((node.to_string(), value))
}

/// The readings of a spec: the whole text (every attempt), or the text before a `:N` suffix.
fn readings(spec: &str) -> Vec<(&str, Option<u32>)> {
    let mut out = vec![(spec, None)];
    if let Some((head, n)) = spec.rsplit_once(':')
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
        && !head.ends_with(':')
        && let Ok(n) = n.parse::<u32>()
    {
        out.push((head, Some(n)));
    }
    out
}

/// Whether a spec names this step (and partition): `Some(None)` for every attempt, `Some(Some(n))`
/// for the first n. Partition keys may contain `:` (`2024-05-01-00:00`); the exact reading wins.
pub fn matches(spec: &str, node: &str, partition: Option<&str>) -> Option<Option<u32>> {
    for (text, count) in readings(spec) {
        if text == node {
            return Some(count);
        }
        if let Some(p) = partition
            && text.len() == node.len() + 1 + p.len()
            && text.starts_with(node)
            && text[node.len()..].starts_with('@')
            && text.ends_with(p)
        {
            return Some(count);
        }
    }
    None
}

/// The step a spec names (the text before `@`, or before `:N`).
pub fn step_of(spec: &str) -> Vec<String> {
    readings(spec)
        .into_iter()
        .map(|(t, _)| t.split('@').next().unwrap_or(t).to_string())
        .collect()
}

impl Faults {
    /// Whether attempt number `attempt` (1-based, over the ledger's history) of a step fails.
    pub fn fails(&self, node: &str, partition: Option<&str>, attempt: u32) -> bool {
        hit(&self.fail, node, partition, attempt)
    }

    /// Whether attempt number `attempt` of a step hangs.
    pub fn hangs(&self, node: &str, partition: Option<&str>, attempt: u32) -> bool {
        hit(&self.hang, node, partition, attempt)
    }

    /// The value a `--set-output` spec forces on a step's successful attempts (the last spec
    /// naming it wins).
    pub fn forced_output(&self, node: &str) -> Option<serde_json::Value> {
        self.set_output
            .iter()
            .filter_map(|s| parse_set_output(s).ok())
            .rfind(|(n, _)| n == node)
            .map(|(_, v)| v)
    }

    /// Specs that name no known step (or, for `--set-output`, are not `NODE=JSON`).
    pub fn unknown(&self, known: &[String]) -> Vec<String> {
        let set = self.set_output.iter().filter(|s| {
            parse_set_output(s)
                .ok()
                .is_none_or(|(n, _)| !known.contains(&n))
        });
        self.fail
            .iter()
            .chain(&self.hang)
            .filter(|s| !step_of(s).iter().any(|n| known.contains(n)))
            .chain(set)
            .cloned()
            .collect()
    }
}

fn hit(specs: &[String], node: &str, partition: Option<&str>, attempt: u32) -> bool {
    specs
        .iter()
        .filter_map(|s| matches(s, node, partition))
        .any(|count| count.is_none_or(|n| attempt <= n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_node_partition_and_count() {
        assert_eq!(matches("load", "load", None), Some(None));
        assert_eq!(matches("load:2", "load", Some("x")), Some(Some(2)));
        assert_eq!(
            matches("load@2024-03-12", "load", Some("2024-03-12")),
            Some(None)
        );
        assert_eq!(matches("load@2024-03-12", "load", Some("2024-03-13")), None);
        assert_eq!(
            matches("raw@2024-05-01-00:00", "raw", Some("2024-05-01-00:00")),
            Some(None)
        );
        assert_eq!(
            matches("raw@2024-05-01-00:00:3", "raw", Some("2024-05-01-00:00")),
            Some(Some(3))
        );
        assert_eq!(matches("sub::child:1", "sub::child", None), Some(Some(1)));
        assert_eq!(matches("loader", "load", None), None);
        let f = Faults {
            fail: vec!["a:2".into()],
            hang: vec!["b@k".into()],
            set_output: vec![
                "a=\"x\"".into(),
                "a=[1]".into(),
                "c=1".into(),
                "a=oops".into(),
            ],
        };
        assert_eq!(f.forced_output("a"), Some(serde_json::json!([1])));
        assert_eq!(f.forced_output("b"), None);
        assert!(f.fails("a", None, 2));
        assert!(!f.fails("a", None, 3));
        assert!(f.hangs("b", Some("k"), 9));
        assert!(!f.hangs("b", None, 1));
        assert_eq!(
            f.unknown(&["a".into()]),
            vec!["b@k".to_string(), "c=1".into(), "a=oops".into()]
        );
        assert!(parse_set_output("=1").is_err());
        assert!(parse_set_output("pick").is_err());
    }
}
