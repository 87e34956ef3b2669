//! The agent's hub: the modules registered on this node, kept in memory (an agent keeps no
//! history) and forwarded to the control center as `ModuleEvent`s, which judges them (lost,
//! goodput) and numbers their directives.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use steward_core::module_status::registration_problems;
use steward_core::registration::{Ack, DirectiveOrder, Registration, UsageReport};
use steward_proto::agent::ModuleEvent;
use steward_proto::agent::module_event::Kind;
use tokio::sync::{broadcast, mpsc};

use super::{HubError, Mailbox, ModuleHub};

struct Entry {
    registration: Registration,
    report: Option<UsageReport>,
    mailbox: Mailbox,
}

pub struct LocalModules {
    node_id: String,
    entries: Mutex<BTreeMap<String, Entry>>,
    events: broadcast::Sender<ModuleEvent>,
}

fn event(kind: Kind, module: &str, json: Vec<u8>, directive_id: u64) -> ModuleEvent {
    ModuleEvent { kind: kind as i32, module: module.to_string(), json, directive_id }
}

fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

impl LocalModules {
    pub fn new(node_id: String) -> Self {
        // Room for a burst of reports while a control center reads slowly; one that lags
        // further re-syncs (`subscribe` again).
        let (events, _) = broadcast::channel(1024);
        LocalModules { node_id, entries: Mutex::new(BTreeMap::new()), events }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn not_registered(module: &str) -> HubError {
        HubError::NotRegistered(format!("module {module:?} is not registered on this node: register it again"))
    }

    /// What is registered now (each registration and latest report, then `IN_SYNC` with the
    /// names), and every change after it: taken under one lock, so nothing falls between.
    pub fn subscribe(&self) -> (Vec<ModuleEvent>, broadcast::Receiver<ModuleEvent>) {
        let entries = self.lock();
        let mut replay = Vec::new();
        for (name, e) in entries.iter() {
            replay.push(event(Kind::Registered, name, to_json(&e.registration), 0));
            if let Some(r) = &e.report {
                replay.push(event(Kind::Reported, name, to_json(r), 0));
            }
        }
        let names: Vec<&String> = entries.keys().collect();
        replay.push(event(Kind::InSync, "", to_json(&names), 0));
        (replay, self.events.subscribe())
    }

    /// Hands a directive the control center numbered to the module.
    pub fn direct(&self, module: &str, order: DirectiveOrder) -> Result<(), HubError> {
        let mut entries = self.lock();
        let entry = entries.get_mut(module).ok_or_else(|| Self::not_registered(module))?;
        entry.mailbox.deliver(order);
        Ok(())
    }

    fn publish(&self, e: ModuleEvent) {
        let _ = self.events.send(e); // no control center listening is fine
    }
}

impl ModuleHub for LocalModules {
    fn register(&self, registration: Registration) -> Result<String, HubError> {
        let problems = registration_problems(&registration);
        if let Some(p) = problems.first() {
            return Err(HubError::Invalid(format!("registration: {}: {}", p.field, p.message)));
        }
        let mut entries = self.lock();
        let name = registration.name.clone();
        let json = to_json(&registration);
        match entries.get_mut(&name) {
            Some(e) => e.registration = registration,
            None => {
                entries.insert(name.clone(), Entry { registration, report: None, mailbox: Mailbox::default() });
            }
        }
        self.publish(event(Kind::Registered, &name, json, 0));
        Ok(self.node_id.clone())
    }

    fn report(&self, module: &str, report: UsageReport) -> Result<(), HubError> {
        let mut entries = self.lock();
        let entry = entries.get_mut(module).ok_or_else(|| Self::not_registered(module))?;
        self.publish(event(Kind::Reported, module, to_json(&report), 0));
        entry.report = Some(report);
        Ok(())
    }

    fn watch(&self, module: &str) -> Result<mpsc::UnboundedReceiver<DirectiveOrder>, HubError> {
        let mut entries = self.lock();
        Ok(entries.get_mut(module).ok_or_else(|| Self::not_registered(module))?.mailbox.watch())
    }

    fn ack(&self, module: &str, directive_id: u64, ack: Ack) -> Result<(), HubError> {
        let mut entries = self.lock();
        let entry = entries.get_mut(module).ok_or_else(|| Self::not_registered(module))?;
        entry.mailbox.acked(directive_id);
        // Forwarded even when no longer waiting here: the control center decides what it knew.
        self.publish(event(Kind::Acked, module, to_json(&ack), directive_id));
        Ok(())
    }

    fn deregister(&self, module: &str) -> Result<(), HubError> {
        let mut entries = self.lock();
        let mut entry = entries.remove(module).ok_or_else(|| Self::not_registered(module))?;
        entry.mailbox.close();
        self.publish(event(Kind::Deregistered, module, Vec::new(), 0));
        Ok(())
    }
}
