//! The registered modules of every node, in memory and in the store: registrations, latest
//! reports with goodput, state (active, lost, deregistered) and the directives with their acks.
//! Every change is written before it is answered. Callers lock the store first, then the
//! registry (`Registry::change`), so the two locks are always taken in that order.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use steward_agent::module_api::Mailbox;
use steward_core::module_status::{
    DirectiveRecord, ModuleState, ModuleStatus, goodput_rate, is_overdue, registration_problems,
};
use steward_core::registration::{Ack, Directive, DirectiveOrder, Registration, UsageReport};
use steward_store::Store;
use tokio::sync::mpsc;

use crate::ApiError;

/// Directives kept in memory per module (the store keeps more).
const KEPT_DIRECTIVES: usize = 50;

type Key = (String, String);

struct Entry {
    status: ModuleStatus,
    /// When the control center last heard from it (a report or the registration).
    last_seen_ms: i64,
    /// The last report's goodput counter, for the rate.
    last_goodput: Option<(i64, u64)>,
    next_directive_id: u64,
    /// Local modules' directive streams (a remote module's are on its agent).
    mailbox: Mailbox,
}

#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<BTreeMap<Key, Entry>>,
}

fn key(node: &str, module: &str) -> Key {
    (node.to_string(), module.to_string())
}

fn not_registered(node: &str, module: &str) -> ApiError {
    ApiError::NotFound(format!("no module {module:?} is registered on node {node:?}"))
}

impl Registry {
    /// Who was registered before the restart; their silence is judged from now.
    pub(crate) fn load(store: &Store, now_ms: i64) -> Result<Registry, ApiError> {
        let mut entries = BTreeMap::new();
        for status in store.registered_modules(KEPT_DIRECTIVES)? {
            let next_directive_id = status.directives.last().map_or(1, |d| d.order.id + 1);
            let mut mailbox = Mailbox::default();
            for d in status.directives.iter().filter(|d| d.ack.is_none()) {
                mailbox.deliver(d.order.clone());
            }
            let k = key(&status.node, &status.registration.name);
            entries.insert(k, Entry { status, last_seen_ms: now_ms, last_goodput: None, next_directive_id, mailbox });
        }
        Ok(Registry { entries: Mutex::new(entries) })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every module, lost ones judged as of `now_ms`.
    pub(crate) fn list(&self, now_ms: i64) -> Vec<ModuleStatus> {
        let entries = self.lock();
        entries
            .values()
            .map(|e| {
                let mut s = e.status.clone();
                if s.state == ModuleState::Active
                    && is_overdue(e.last_seen_ms, s.registration.report_interval_ms, now_ms)
                {
                    s.state = ModuleState::Lost;
                    s.lost_reason = Some(silence(s.registration.report_interval_ms));
                }
                s
            })
            .collect()
    }

    /// The PIDs of this node's active modules, by name (for the profiler's pids matchers).
    pub(crate) fn pids_on(&self, node: &str) -> BTreeMap<String, Vec<u32>> {
        self.lock()
            .values()
            .filter(|e| e.status.node == node && e.status.state == ModuleState::Active)
            .map(|e| (e.status.registration.name.clone(), e.status.registration.pids.clone()))
            .collect()
    }

    pub(crate) fn register(
        &self,
        store: &mut Store,
        node: &str,
        registration: Registration,
        now_ms: i64,
    ) -> Result<ModuleStatus, ApiError> {
        let problems = registration_problems(&registration);
        if !problems.is_empty() {
            return Err(ApiError::InvalidFields(problems));
        }
        let mut entries = self.lock();
        let k = key(node, &registration.name);
        let (directives, next_directive_id, mailbox) = match entries.remove(&k) {
            Some(e) => (e.status.directives, e.next_directive_id, e.mailbox),
            None => (Vec::new(), 1, Mailbox::default()),
        };
        let status = ModuleStatus {
            node: node.to_string(),
            registration,
            state: ModuleState::Active,
            lost_reason: None,
            registered_ms: now_ms,
            last_report_ms: None,
            report: None,
            goodput_per_s: None,
            directives,
        };
        store.put_registered_module(&status)?;
        let entry =
            Entry { status: status.clone(), last_seen_ms: now_ms, last_goodput: None, next_directive_id, mailbox };
        entries.insert(k, entry);
        Ok(status)
    }

    pub(crate) fn report(
        &self,
        store: &mut Store,
        node: &str,
        module: &str,
        report: UsageReport,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let mut entries = self.lock();
        let e = entries.get_mut(&key(node, module)).filter(|e| e.status.state != ModuleState::Deregistered);
        let e = e.ok_or_else(|| not_registered(node, module))?;
        if let Some(total) = report.goodput_total {
            e.status.goodput_per_s = e.last_goodput.and_then(|before| goodput_rate(before, (now_ms, total)));
            e.last_goodput = Some((now_ms, total));
        }
        e.status.report = Some(report);
        e.status.last_report_ms = Some(now_ms);
        e.status.state = ModuleState::Active;
        e.status.lost_reason = None;
        e.last_seen_ms = now_ms;
        store.put_registered_module(&e.status)?;
        Ok(())
    }

    /// A local module's directive stream (unacknowledged directives first).
    pub(crate) fn watch(&self, node: &str, module: &str) -> Result<mpsc::UnboundedReceiver<DirectiveOrder>, ApiError> {
        let mut entries = self.lock();
        let e = entries.get_mut(&key(node, module)).filter(|e| e.status.state != ModuleState::Deregistered);
        Ok(e.ok_or_else(|| not_registered(node, module))?.mailbox.watch())
    }

    /// Numbers, records and (for a local module) delivers a directive; the caller forwards a
    /// remote module's to its agent. Refuses what the module did not declare.
    pub(crate) fn direct(
        &self,
        store: &mut Store,
        node: &str,
        module: &str,
        directive: Directive,
        reason: String,
        now_ms: i64,
    ) -> Result<DirectiveOrder, ApiError> {
        let mut entries = self.lock();
        let e = entries.get_mut(&key(node, module)).ok_or_else(|| not_registered(node, module))?;
        if e.status.state == ModuleState::Deregistered {
            return Err(ApiError::Conflict(format!("module {module:?} on {node:?} has deregistered")));
        }
        undeclared(&e.status.registration, &directive).map_or(Ok(()), |why| Err(ApiError::InvalidInput(why)))?;
        let order = DirectiveOrder { id: e.next_directive_id, directive, reason };
        let record = DirectiveRecord { order: order.clone(), sent_ms: now_ms, ack: None, acked_ms: None };
        store.put_module_directive(node, module, &record)?;
        e.next_directive_id += 1;
        push_bounded(&mut e.status.directives, record);
        e.mailbox.deliver(order.clone());
        Ok(order)
    }

    pub(crate) fn ack(
        &self,
        store: &mut Store,
        node: &str,
        module: &str,
        directive_id: u64,
        ack: Ack,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let mut entries = self.lock();
        let e = entries.get_mut(&key(node, module)).ok_or_else(|| not_registered(node, module))?;
        e.mailbox.acked(directive_id);
        let Some(record) = e.status.directives.iter_mut().find(|d| d.order.id == directive_id) else {
            return Err(ApiError::NotFound(format!("module {module:?} was sent no directive {directive_id}")));
        };
        if record.ack.is_none() {
            record.ack = Some(ack);
            record.acked_ms = Some(now_ms);
            store.put_module_directive(node, module, record)?;
        }
        Ok(())
    }

    pub(crate) fn deregister(&self, store: &mut Store, node: &str, module: &str) -> Result<(), ApiError> {
        let mut entries = self.lock();
        let e = entries.get_mut(&key(node, module)).ok_or_else(|| not_registered(node, module))?;
        e.status.state = ModuleState::Deregistered;
        e.status.lost_reason = None;
        e.mailbox.close();
        store.put_registered_module(&e.status)?;
        Ok(())
    }

    /// Marks lost the active modules silent for three report intervals; true when any changed.
    pub(crate) fn sweep(&self, store: &mut Store, now_ms: i64) -> Result<bool, ApiError> {
        self.lose_where(store, |e| {
            let interval = e.status.registration.report_interval_ms;
            is_overdue(e.last_seen_ms, interval, now_ms).then(|| silence(interval))
        })
    }

    /// Marks lost every active module of a node that went down (or whose agent no longer
    /// has it), saying why.
    pub(crate) fn node_lost(
        &self,
        store: &mut Store,
        node: &str,
        keep: &[String],
        reason: &str,
    ) -> Result<bool, ApiError> {
        self.lose_where(store, |e| {
            let gone = e.status.node == node && !keep.contains(&e.status.registration.name);
            gone.then(|| reason.to_string())
        })
    }

    fn lose_where(&self, store: &mut Store, why: impl Fn(&Entry) -> Option<String>) -> Result<bool, ApiError> {
        let mut entries = self.lock();
        let mut changed = false;
        for e in entries.values_mut().filter(|e| e.status.state == ModuleState::Active) {
            if let Some(why) = why(e) {
                e.status.state = ModuleState::Lost;
                e.status.lost_reason = Some(why);
                store.put_registered_module(&e.status)?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// The active modules of `node` and their unacknowledged directives (to send again to an
    /// agent that reconnected).
    pub(crate) fn unacked_on(&self, node: &str) -> Vec<(String, DirectiveOrder)> {
        let entries = self.lock();
        entries
            .values()
            .filter(|e| e.status.node == node && e.status.state == ModuleState::Active)
            .flat_map(|e| {
                let name = &e.status.registration.name;
                e.status.directives.iter().filter(|d| d.ack.is_none()).map(|d| (name.clone(), d.order.clone()))
            })
            .collect()
    }
}

/// Why a silent module is lost, in words.
pub(crate) fn silence(interval_ms: u32) -> String {
    format!("no report for 3 intervals ({} ms)", 3 * u64::from(interval_ms))
}

fn push_bounded(directives: &mut Vec<DirectiveRecord>, record: DirectiveRecord) {
    directives.push(record);
    if directives.len() > KEPT_DIRECTIVES {
        directives.remove(0);
    }
}

/// Why `directive` cannot go to a module that registered `r`, if it cannot.
fn undeclared(r: &Registration, directive: &Directive) -> Option<String> {
    match directive {
        Directive::SetQuality { level } if *level > r.minimal_level => Some(format!(
            "module {:?} declares levels 0 to {} with {} as its minimal viable one; {level} is below it",
            r.name,
            r.quality_levels.len().saturating_sub(1),
            r.minimal_level
        )),
        Directive::DisableFeature { name } | Directive::EnableFeature { name }
            if !r.features.iter().any(|f| &f.name == name) =>
        {
            let known: Vec<&str> = r.features.iter().map(|f| f.name.as_str()).collect();
            Some(format!("module {:?} declares no feature {name:?} (it has: {})", r.name, known.join(", ")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use steward_core::registration::{Criticality, Feature, QualityLevel};

    use super::*;

    fn registration(name: &str) -> Registration {
        let level = |level: u32| QualityLevel {
            level,
            label: format!("level {level}"),
            cpu_millis: Some(1000 >> level),
            memory_bytes: None,
            gpu_memory_bytes: None,
        };
        Registration {
            name: name.into(),
            role: "perception".into(),
            criticality: Criticality::Sheddable,
            features: vec![Feature { name: "depth".into(), rank: 1 }],
            quality_levels: vec![level(0), level(1), level(2)],
            minimal_level: 1,
            pids: vec![4242],
            report_interval_ms: 1000,
        }
    }

    fn report(goodput_total: u64) -> UsageReport {
        UsageReport {
            cpu_millis: Some(300),
            memory_bytes: Some(1 << 20),
            gpu_memory_bytes: None,
            healthy: true,
            quality_level: 0,
            features_on: vec!["depth".into()],
            goodput_total: Some(goodput_total),
            latency_ms: None,
        }
    }

    #[test]
    fn registration_reports_directives_and_acks_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let order = {
            let mut store = Store::open(&path).unwrap();
            let r = Registry::load(&store, 0).unwrap();
            r.register(&mut store, "local", registration("vision"), 1_000).unwrap();
            r.report(&mut store, "local", "vision", report(100), 2_000).unwrap();
            r.report(&mut store, "local", "vision", report(160), 4_000).unwrap();
            assert_eq!(r.list(4_000)[0].goodput_per_s, Some(30.0));
            let mut directives = r.watch("local", "vision").unwrap();
            let first = r.direct(&mut store, "local", "vision", Directive::Pause, "test".into(), 4_100).unwrap();
            let second = r
                .direct(&mut store, "local", "vision", Directive::SetQuality { level: 1 }, "memory 80%".into(), 4_200)
                .unwrap();
            assert_eq!((first.id, second.id), (1, 2));
            assert_eq!(directives.try_recv().unwrap(), first);
            r.ack(&mut store, "local", "vision", 1, Ack::Applied, 4_300).unwrap();
            second
        };
        let mut store = Store::open(&path).unwrap();
        let r = Registry::load(&store, 10_000).unwrap();
        let m = &r.list(10_000)[0];
        assert_eq!((m.node.as_str(), m.state, m.report.clone()), ("local", ModuleState::Active, Some(report(160))));
        assert_eq!(m.directives.len(), 2);
        assert_eq!((m.directives[0].ack.clone(), m.directives[0].acked_ms), (Some(Ack::Applied), Some(4_300)));
        assert_eq!(m.directives[1].ack, None);
        // The unacknowledged one is delivered again, and numbering goes on after a restart.
        let mut directives = r.watch("local", "vision").unwrap();
        assert_eq!(directives.try_recv().unwrap(), order);
        let next = r.direct(&mut store, "local", "vision", Directive::Resume, "cleared".into(), 11_000).unwrap();
        assert_eq!(next.id, 3);
    }

    #[test]
    fn silent_modules_are_lost_after_three_intervals_and_a_report_brings_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let r = Registry::load(&store, 0).unwrap();
        r.register(&mut store, "local", registration("vision"), 1_000).unwrap();
        r.report(&mut store, "local", "vision", report(1), 2_000).unwrap();
        assert!(!r.sweep(&mut store, 5_000).unwrap());
        assert_eq!(r.list(5_000)[0].state, ModuleState::Active);
        assert_eq!(r.list(5_001)[0].state, ModuleState::Lost, "judged as of the asking time");
        assert!(r.sweep(&mut store, 5_001).unwrap());
        assert_eq!(r.list(5_001)[0].lost_reason.as_deref(), Some("no report for 3 intervals (3000 ms)"));
        assert_eq!(Registry::load(&store, 0).unwrap().list(0)[0].state, ModuleState::Lost, "written");
        r.report(&mut store, "local", "vision", report(2), 6_000).unwrap();
        assert_eq!(r.list(6_000)[0].state, ModuleState::Active);
        r.deregister(&mut store, "local", "vision").unwrap();
        assert_eq!(r.list(60_000)[0].state, ModuleState::Deregistered, "never lost once deregistered");
        assert!(matches!(r.report(&mut store, "local", "vision", report(3), 7_000), Err(ApiError::NotFound(_))));
        assert!(r.pids_on("local").is_empty());
    }

    #[test]
    fn a_node_going_down_loses_its_modules_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let r = Registry::load(&store, 0).unwrap();
        r.register(&mut store, "local", registration("vision"), 0).unwrap();
        r.register(&mut store, "node-b", registration("vision"), 0).unwrap();
        r.register(&mut store, "node-b", registration("cache"), 0).unwrap();
        assert!(r.node_lost(&mut store, "node-b", &["cache".into()], "agent restarted").unwrap());
        let states: Vec<_> = r.list(0).into_iter().map(|m| (m.node, m.registration.name, m.state)).collect();
        assert_eq!(
            states,
            [
                ("local".into(), "vision".into(), ModuleState::Active),
                ("node-b".into(), "cache".into(), ModuleState::Active),
                ("node-b".into(), "vision".into(), ModuleState::Lost),
            ]
        );
        assert_eq!(r.pids_on("local"), BTreeMap::from([("vision".to_string(), vec![4242])]));
    }

    #[test]
    fn directives_a_module_did_not_declare_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let r = Registry::load(&store, 0).unwrap();
        r.register(&mut store, "local", registration("vision"), 0).unwrap();
        let mut direct = |d: Directive| r.direct(&mut store, "local", "vision", d, "test".into(), 1);
        let below_minimal = direct(Directive::SetQuality { level: 2 }).unwrap_err().to_string();
        assert!(below_minimal.contains("minimal viable one"), "{below_minimal}");
        let unknown = direct(Directive::DisableFeature { name: "color".into() }).unwrap_err().to_string();
        assert!(unknown.contains("no feature \"color\" (it has: depth)"), "{unknown}");
        assert!(matches!(
            r.direct(&mut store, "local", "nobody", Directive::Pause, "t".into(), 1),
            Err(ApiError::NotFound(_))
        ));
        let mut bad = registration("a b");
        bad.minimal_level = 9;
        let Err(ApiError::InvalidFields(fields)) = r.register(&mut store, "local", bad, 0) else { panic!() };
        assert_eq!(fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["name", "minimal_level"]);
    }
}
