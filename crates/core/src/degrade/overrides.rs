//! A person's override of one module: force a quality level, keep features on, or exempt the
//! module from every policy — with who set it and when.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::commanded::ModuleView;
use crate::TimestampMs;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleOverride {
    pub module: String,
    /// The level the module runs at whatever the policies say.
    #[serde(default)]
    pub force_level: Option<u32>,
    /// Features kept on whatever the policies say.
    #[serde(default)]
    pub pinned_features: Vec<String>,
    /// No policy touches the module (it runs at full quality unless `force_level`).
    #[serde(default)]
    pub exempt: bool,
    /// Who set it (the front door's user or the CLI's `--by`).
    pub by: String,
    #[ts(type = "number")]
    pub at_ms: TimestampMs,
    #[serde(default)]
    pub reason: String,
}

impl ModuleOverride {
    /// What is wrong with the override for `module`, per field.
    pub fn problems(&self, module: &ModuleView) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.force_level.is_none() && self.pinned_features.is_empty() && !self.exempt {
            out.push(("force_level", "an override needs force_level, pinned_features or exempt".to_string()));
        }
        if let Some(level) = self.force_level {
            if level >= module.levels {
                out.push(("force_level", format!("{} has levels 0–{}, not {level}", module.name, module.levels - 1)));
            } else if level > 0 && module.protected() {
                out.push(("force_level", format!("{} is critical: it is never run below full quality", module.name)));
            }
        }
        for f in &self.pinned_features {
            if !module.features.iter().any(|x| &x.name == f) {
                out.push(("pinned_features", format!("{} has no feature {f:?}", module.name)));
            }
        }
        out
    }

    /// In words, for the timeline.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.force_level {
            parts.push(format!("level forced to {l}"));
        }
        if !self.pinned_features.is_empty() {
            parts.push(format!("{} pinned on", self.pinned_features.join(", ")));
        }
        if self.exempt {
            parts.push("exempt from policies".into());
        }
        format!("{}: {} by {}", self.module, parts.join("; "), self.by)
    }
}
