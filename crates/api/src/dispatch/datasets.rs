//! Datasets registered with the nodes that hold a copy: the balancer prefers those nodes for
//! tasks naming the dataset, costing a move at the configured link speed. Persisted, so the
//! locality survives a restart; a task naming a dataset nobody registered is refused.

use steward_core::alloc::FieldError;
use steward_core::dispatch::{Dataset, Locality, TaskSpec};

use super::State;
use crate::ApiError;
use crate::service::{Steward, now_ms};

const MAX_NAME_LEN: usize = 128;
const MAX_NODE_ID_LEN: usize = 256;
/// The largest size a JSON number (and so the UI) carries exactly: 2^53 − 1 bytes (8 PiB).
pub const MAX_DATASET_BYTES: u64 = (1 << 53) - 1;

/// The registered datasets as the balancer sees them.
pub(crate) fn load_locality(store: &steward_store::Store, link_bytes_per_s: f64) -> Result<Locality, ApiError> {
    let datasets = store.datasets()?.into_iter().map(|d| (d.name.clone(), d)).collect();
    Ok(Locality { datasets, bandwidth_bytes_per_s: link_bytes_per_s })
}

/// The dataset as it is kept (node ids trimmed), or every field that is wrong with it.
pub fn validate_dataset(mut d: Dataset) -> Result<Dataset, ApiError> {
    let mut errors = Vec::new();
    if let Some(problem) = name_problem(&d.name) {
        errors.push(format!("name: {problem}"));
    }
    if d.bytes > MAX_DATASET_BYTES {
        errors.push(format!("bytes: must be at most {MAX_DATASET_BYTES} (8 PiB)"));
    }
    if d.nodes.is_empty() {
        errors.push("nodes: list at least one node that holds a copy".into());
    }
    for (i, node) in d.nodes.iter_mut().enumerate() {
        *node = node.trim().to_string();
        if node.is_empty() {
            errors.push(format!("nodes[{i}]: must be a node id (as `stewardctl node list` shows it), not empty"));
        } else if node.len() > MAX_NODE_ID_LEN || node.chars().any(char::is_control) {
            errors.push(format!("nodes[{i}]: must be at most {MAX_NODE_ID_LEN} characters without control characters"));
        }
    }
    for (i, node) in d.nodes.iter().enumerate() {
        if !node.is_empty() && d.nodes[..i].contains(node) {
            errors.push(format!("nodes[{i}]: {node:?} is listed twice"));
        }
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(ApiError::InvalidInput(format!("invalid dataset: {}", errors.join("; "))))
    }
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Some(format!("must be 1 to {MAX_NAME_LEN} characters"));
    }
    if name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
        return Some(format!("{name:?} may hold only letters, digits, '_', '-' and '.' (not first)"));
    }
    None
}

impl State {
    /// Why `task` cannot run here because of its dataset, if it names one nobody registered.
    pub(crate) fn dataset_error(&self, task: &TaskSpec, prefix: &str) -> Option<FieldError> {
        let name = task.dataset.as_deref()?;
        if self.locality.datasets.contains_key(name) {
            return None;
        }
        let known: Vec<&str> = self.locality.datasets.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "no datasets are registered yet".to_string()
        } else {
            format!("registered: {}", known.join(", "))
        };
        Some(FieldError::new(
            format!("{prefix}.dataset"),
            format!("{name:?} is not a registered dataset ({hint}); register it with the nodes that hold it first"),
        ))
    }
}

impl Steward {
    /// Registers a dataset with the nodes that hold it (or replaces one of the same name):
    /// written to the store, then used by placement. Answers it as kept.
    pub fn register_dataset(&self, dataset: Dataset) -> Result<Dataset, ApiError> {
        let dataset = validate_dataset(dataset)?;
        // Store, then dispatch state: the order the executor takes them in.
        let mut store = self.shared.lock_store()?;
        store.put_dataset(&dataset, now_ms())?;
        self.shared.dispatch.lock()?.locality.datasets.insert(dataset.name.clone(), dataset.clone());
        Ok(dataset)
    }

    /// Every registered dataset, by name.
    pub fn datasets(&self) -> Result<Vec<Dataset>, ApiError> {
        Ok(self.shared.dispatch.lock()?.locality.datasets.values().cloned().collect())
    }

    /// Forgets a dataset; tasks already placed keep their nodes.
    pub fn remove_dataset(&self, name: &str) -> Result<(), ApiError> {
        let mut store = self.shared.lock_store()?;
        if !store.delete_dataset(name)? {
            return Err(ApiError::NotFound(format!("no dataset named {name:?}")));
        }
        self.shared.dispatch.lock()?.locality.datasets.remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(name: &str, bytes: u64, nodes: &[&str]) -> Dataset {
        Dataset { name: name.into(), bytes, nodes: nodes.iter().map(ToString::to_string).collect() }
    }

    fn problem(d: Dataset) -> String {
        validate_dataset(d).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_dataset_is_kept_with_trimmed_node_ids() {
        assert_eq!(
            validate_dataset(ds("logs-2024.v1", 0, &[" a:7443 ", "b"])).unwrap(),
            ds("logs-2024.v1", 0, &["a:7443", "b"])
        );
        assert!(validate_dataset(ds("x", MAX_DATASET_BYTES, &["a"])).is_ok());
    }

    #[test]
    fn each_wrong_field_is_named() {
        assert!(problem(ds("", 1, &["a"])).contains("name: must be 1 to 128"));
        assert!(problem(ds("a/b", 1, &["a"])).contains("name: \"a/b\" may hold only"));
        assert!(problem(ds("..", 1, &["a"])).contains("name:"));
        assert!(problem(ds("d", MAX_DATASET_BYTES + 1, &["a"])).contains("bytes: must be at most"));
        assert!(problem(ds("d", 1, &[])).contains("nodes: list at least one"));
        assert!(problem(ds("d", 1, &["a", "  "])).contains("nodes[1]: must be a node id"));
        assert!(problem(ds("d", 1, &["a", "a "])).contains("nodes[1]: \"a\" is listed twice"));
        let both = problem(ds("", 1, &[]));
        assert!(both.contains("name:") && both.contains("nodes:"), "{both}");
    }
}
