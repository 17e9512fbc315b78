//! Port targets as versioned profiles: `airflow@3`, `airflow@2`, `dagster@1`, `prefect@3`, `prefect@2`.

use crate::ir::Framework;

/// A target framework and the API generation to write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The framework.
    pub framework: Framework,
    /// Major version of its API.
    pub version: u32,
}

impl Target {
    /// Parses `airflow`, `airflow@3`, `dagster@1`, `prefect@2`, …; the bare name is the current release.
    pub fn parse(text: &str) -> Result<Target, String> {
        let (name, version) = match text.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        let framework = match name {
            "airflow" => Framework::Airflow,
            "dagster" => Framework::Dagster,
            "prefect" => Framework::Prefect,
            other => {
                return Err(format!(
                    "unknown target `{other}`; targets are airflow, dagster, prefect (optionally @version: airflow@3, airflow@2, dagster@1, prefect@3, prefect@2)"
                ));
            }
        };
        let supported: &[u32] = match framework {
            Framework::Airflow => &[3, 2],
            Framework::Dagster => &[1],
            Framework::Prefect => &[3, 2],
        };
        let version = match version {
            None => supported[0],
            Some(v) => match v.parse::<u32>() {
                Ok(n) if supported.contains(&n) => n,
                _ => {
                    let list: Vec<String> =
                        supported.iter().map(|s| format!("{name}@{s}")).collect();
                    return Err(format!(
                        "unsupported version `{text}`; supported: {}",
                        list.join(", ")
                    ));
                }
            },
        };
        Ok(Target { framework, version })
    }

    /// `airflow@3` etc.
    pub fn label(&self) -> String {
        format!("{}@{}", self.framework.id(), self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_profiles() {
        assert_eq!(Target::parse("airflow").unwrap().label(), "airflow@3");
        assert_eq!(Target::parse("prefect@2").unwrap().label(), "prefect@2");
        assert!(
            Target::parse("dagster@2")
                .unwrap_err()
                .contains("dagster@1")
        );
        assert!(
            Target::parse("luigi")
                .unwrap_err()
                .contains("unknown target")
        );
    }
}
