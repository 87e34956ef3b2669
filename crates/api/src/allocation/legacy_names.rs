//! Records written while the allocation engine named this machine by its hostname (`vm`, GPUs
//! `vm/gpu0`) are read under the one id every front door uses, `local`: what ran or was reserved
//! here stays here after an upgrade instead of waiting on a node that no longer exists.

use std::sync::Arc;

use steward_store::AllocationState;

use crate::cluster::LOCAL_NODE;

/// `name` under the local id when it is the hostname or one of its GPUs (`<hostname>/gpuN`).
fn renamed(name: &str, hostname: &str) -> Option<String> {
    if name == hostname {
        return Some(LOCAL_NODE.to_string());
    }
    let rest = name.strip_prefix(hostname)?.strip_prefix('/')?;
    Some(format!("{LOCAL_NODE}/{rest}"))
}

fn rename(name: &mut String, hostname: &str) {
    if let Some(n) = renamed(name, hostname) {
        *name = n;
    }
}

/// Renames the hostname to `local` in every record (nodes, GPU ids, pinned constraints).
pub(super) fn rename_local(state: &mut AllocationState, hostname: &str) {
    if hostname.is_empty() || hostname == LOCAL_NODE {
        return;
    }
    for r in &mut state.reservations {
        rename(&mut r.node, hostname);
        r.gpus.iter_mut().for_each(|g| rename(g, hostname));
    }
    for a in &mut state.allocations {
        if let Some(n) = &mut a.node {
            rename(n, hostname);
        }
        a.gpus.iter_mut().for_each(|g| rename(g, hostname));
        if a.request.constraints.node.as_deref().is_some_and(|n| renamed(n, hostname).is_some()) {
            let req = Arc::make_mut(&mut a.request);
            if let Some(n) = &mut req.constraints.node {
                rename(n, hostname);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hostname_and_its_gpus_take_the_local_id_and_nothing_else_does() {
        assert_eq!(renamed("vm", "vm").as_deref(), Some("local"));
        assert_eq!(renamed("vm/gpu3", "vm").as_deref(), Some("local/gpu3"));
        assert_eq!(renamed("vm2", "vm"), None);
        assert_eq!(renamed("vm2/gpu0", "vm"), None);
        assert_eq!(renamed("10.0.0.5:7879/gpu0", "vm"), None);
    }
}
