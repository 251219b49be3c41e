//! `[rules] files = [...]`: rule files added to the default pack, in
//! Sentinel's format or as Prometheus alerting rules (those the engine can
//! evaluate are imported; the others are named in a notice).

use std::path::PathBuf;

use sentinel_detect::{RuleFile, default_pack, promrules};
use sentinel_model::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSettings {
    pub files: Vec<PathBuf>,
}

impl RulesSettings {
    /// The default pack plus every file that loads. A file that does not
    /// is left out whole, with a notice; the pack always runs.
    pub fn rules(&self, notices: &mut Vec<(Severity, String)>) -> RuleFile {
        let mut rules = default_pack();
        for path in &self.files {
            let loaded = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| promrules::load(&text).map_err(|e| e.to_string()));
            let got = match loaded {
                Ok(got) => got,
                Err(e) => {
                    notices.push((
                        Severity::Warning,
                        format!("Rule file {} is not used: {e}", path.display()),
                    ));
                    continue;
                }
            };
            if !got.skipped.is_empty() {
                let names: Vec<&str> = got.skipped.iter().map(|s| s.name.as_str()).collect();
                notices.push((
                    Severity::Info,
                    format!(
                        "{} rules of {} are left to Prometheus (Sentinel cannot evaluate them): {}",
                        names.len(),
                        path.display(),
                        names.join(", ")
                    ),
                ));
            }
            let mut with = rules.clone();
            with.rules.extend(got.rules.rules);
            match with.validate() {
                Ok(()) => rules = with,
                Err(e) => notices.push((
                    Severity::Warning,
                    format!("Rule file {} is not used: {e}", path.display()),
                )),
            }
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_join_the_pack_and_bad_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("sentinel-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prom = dir.join("prom.yaml");
        std::fs::write(
            &prom,
            "groups:\n- name: g\n  rules:\n  - alert: Load\n    expr: node_load1 > 4\n  - alert: Sum\n    expr: sum(up) > 1\n",
        )
        .unwrap();
        let clash = dir.join("clash.yaml");
        std::fs::write(
            &clash,
            "groups:\n- name: g\n  rules:\n  - alert: NodeCPUHigh\n    expr: x > 1\n",
        )
        .unwrap();
        let settings = RulesSettings {
            files: vec![prom.clone(), dir.join("missing.yaml"), clash],
        };
        let mut notices = Vec::new();
        let rules = settings.rules(&mut notices);
        assert_eq!(rules.rules.len(), default_pack().rules.len() + 1);
        assert!(rules.rules.iter().any(|r| r.name == "Load"));
        let said: Vec<&str> = notices.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(
            said[0].contains("1 rules of") && said[0].ends_with(": Sum"),
            "{said:?}"
        );
        assert!(said[1].contains("missing.yaml is not used"), "{said:?}");
        assert!(
            said[2].contains("clash.yaml is not used: rule NodeCPUHigh: the name is used twice"),
            "{said:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
