//! Datasets registered with the nodes that hold a copy: the balancer prefers those nodes for
//! tasks naming the dataset, costing a move at the configured link speed. Persisted, so the
//! locality survives a restart; a task naming a dataset nobody registered is refused.

use std::collections::HashSet;

use steward_core::alloc::FieldError;
use steward_core::dispatch::{Dataset, Locality, TaskSpec};

use super::{Dispatcher, State};
use crate::ApiError;
use crate::clock::now_ms;
use crate::cluster::LOCAL_NODE;

const MAX_NAME_LEN: usize = 128;
const MAX_NODE_ID_LEN: usize = 256;
/// The largest size a JSON number (and so the UI) carries exactly: 2^53 − 1 bytes (8 PiB).
pub const MAX_DATASET_BYTES: u64 = (1 << 53) - 1;

/// The registered datasets as the balancer sees them.
pub(crate) fn load_locality(store: &steward_store::Store, link_bytes_per_s: f64) -> Result<Locality, ApiError> {
    let datasets = store.datasets()?.into_iter().map(|d| (d.name.clone(), d)).collect();
    Ok(Locality { datasets, bandwidth_bytes_per_s: link_bytes_per_s })
}

/// Per-node problems named one by one; beyond this many they are counted.
const MAX_NODE_ERRORS: usize = 20;

/// The dataset as it is kept (node ids trimmed), or every field that is wrong with it. `known`
/// holds the node ids a dataset may name. Linear in the number of nodes.
pub fn validate_dataset(mut d: Dataset, known: &HashSet<String>) -> Result<Dataset, ApiError> {
    let mut errors = Vec::new();
    if let Some(problem) = name_problem(&d.name) {
        errors.push(FieldError::new("name", problem));
    }
    if d.bytes > MAX_DATASET_BYTES {
        errors.push(FieldError::new("bytes", format!("must be at most {MAX_DATASET_BYTES} (8 PiB)")));
    }
    if d.nodes.is_empty() {
        errors.push(FieldError::new("nodes", "list at least one node that holds a copy"));
    }
    let mut node_errors = Vec::new();
    let mut seen = HashSet::with_capacity(d.nodes.len());
    for (i, node) in d.nodes.iter_mut().enumerate() {
        *node = node.trim().to_string();
        if let Some(problem) = node_problem(node, known, &mut seen) {
            node_errors.push(FieldError::new(format!("nodes[{i}]"), problem));
        }
    }
    let more = node_errors.len().saturating_sub(MAX_NODE_ERRORS);
    node_errors.truncate(MAX_NODE_ERRORS);
    errors.extend(node_errors);
    if more > 0 {
        errors.push(FieldError::new("nodes", format!("{more} more entries are wrong too")));
    }
    if errors.is_empty() { Ok(d) } else { Err(ApiError::InvalidFields(errors)) }
}

fn node_problem(node: &str, known: &HashSet<String>, seen: &mut HashSet<String>) -> Option<String> {
    if node.is_empty() {
        return Some("must be a node id (as `stewardctl node list` shows it), not empty".into());
    }
    if node.len() > MAX_NODE_ID_LEN || node.chars().any(char::is_control) {
        return Some(format!("must be at most {MAX_NODE_ID_LEN} characters without control characters"));
    }
    if !known.contains(node) {
        return Some(format!("{node:?} is not a node of this cluster (`stewardctl node list` shows their ids)"));
    }
    if !seen.insert(node.to_string()) {
        return Some(format!("{node:?} is listed twice"));
    }
    None
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

impl Dispatcher {
    /// Registers a dataset with the nodes that hold it (or replaces one of the same name):
    /// written to the store, then used by placement. Answers it as kept.
    pub(crate) fn register_dataset(&self, dataset: Dataset) -> Result<Dataset, ApiError> {
        let dataset = validate_dataset(dataset, &self.node_ids())?;
        // Store, then dispatch state: the order the executor takes them in.
        let mut store = self.ctx.store.lock()?;
        store.put_dataset(&dataset, now_ms())?;
        self.lock()?.locality.datasets.insert(dataset.name.clone(), dataset.clone());
        Ok(dataset)
    }

    /// Every id a dataset may name: this machine, the cluster's nodes and the executor's.
    fn node_ids(&self) -> HashSet<String> {
        let cluster = self.ctx.cluster.node_states().into_iter().map(|(id, ..)| id);
        let cluster = std::iter::once(LOCAL_NODE.to_string()).chain(cluster);
        let dispatch = self.node_source().dispatch_nodes();
        cluster.chain(dispatch.into_iter().map(|n| n.id)).collect()
    }

    /// Every registered dataset, by name.
    pub(crate) fn datasets(&self) -> Result<Vec<Dataset>, ApiError> {
        Ok(self.lock()?.locality.datasets.values().cloned().collect())
    }

    /// Forgets a dataset; tasks already placed keep their nodes.
    pub(crate) fn remove_dataset(&self, name: &str) -> Result<(), ApiError> {
        let mut store = self.ctx.store.lock()?;
        if !store.delete_dataset(name)? {
            return Err(ApiError::NotFound(format!("no dataset named {name:?}")));
        }
        self.lock()?.locality.datasets.remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(name: &str, bytes: u64, nodes: &[&str]) -> Dataset {
        Dataset { name: name.into(), bytes, nodes: nodes.iter().map(ToString::to_string).collect() }
    }

    fn known() -> HashSet<String> {
        ["a", "b", "a:7443"].into_iter().map(String::from).collect()
    }

    fn problem(d: Dataset) -> String {
        validate_dataset(d, &known()).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_dataset_is_kept_with_trimmed_node_ids() {
        assert_eq!(
            validate_dataset(ds("logs-2024.v1", 0, &[" a:7443 ", "b"]), &known()).unwrap(),
            ds("logs-2024.v1", 0, &["a:7443", "b"])
        );
        assert!(validate_dataset(ds("x", MAX_DATASET_BYTES, &["a"]), &known()).is_ok());
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
        assert!(problem(ds("d", 1, &["a", "zz"])).contains("nodes[1]: \"zz\" is not a node of this cluster"));
    }

    /// CPU time of this thread: what the work cost, whatever else the machine is doing.
    fn thread_cpu() -> std::time::Duration {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime only writes the timespec it is given.
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) }, 0);
        std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    #[test]
    fn a_hundred_thousand_nodes_take_well_under_a_second() {
        let ids: Vec<String> = (0..100_000).map(|i| format!("10.0.{}.{}:7443", i / 256, i % 256)).collect();
        let known: HashSet<String> = ids.iter().cloned().collect();
        let mut twice = ids.clone();
        twice.push("10.0.0.0:7443".into());
        let d = Dataset { name: "big".into(), bytes: 1, nodes: ids };
        let start = thread_cpu();
        assert_eq!(validate_dataset(d, &known).unwrap().nodes.len(), 100_000);
        let took = thread_cpu() - start;
        let err = validate_dataset(Dataset { name: "big".into(), bytes: 1, nodes: twice }, &known).unwrap_err();
        assert!(err.to_string().contains("nodes[100000]: \"10.0.0.0:7443\" is listed twice"), "{err}");
        eprintln!("100,000 nodes validated in {took:?} of CPU");
        // Quadratic, this was 55 s; linear, it is milliseconds (a debug build included).
        assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    }
}
