//! One module's directives on their way: every directive stays until the module acknowledges
//! it, and a module that (re)opens its directive stream gets those first. Delivery is at least
//! once; the module applies each id once.

use std::collections::BTreeMap;

use steward_core::registration::DirectiveOrder;
use tokio::sync::mpsc;

#[derive(Debug, Default)]
pub struct Mailbox {
    watchers: Vec<mpsc::UnboundedSender<DirectiveOrder>>,
    unacked: BTreeMap<u64, DirectiveOrder>,
}

impl Mailbox {
    /// A new directive stream: the unacknowledged directives, then each new one.
    pub fn watch(&mut self) -> mpsc::UnboundedReceiver<DirectiveOrder> {
        let (tx, rx) = mpsc::unbounded_channel();
        for order in self.unacked.values() {
            let _ = tx.send(order.clone());
        }
        self.watchers.push(tx);
        rx
    }

    /// Keeps `order` until it is acknowledged and hands it to every open stream.
    pub fn deliver(&mut self, order: DirectiveOrder) {
        self.watchers.retain(|w| w.send(order.clone()).is_ok());
        self.unacked.insert(order.id, order);
    }

    /// False when no such directive was waiting (unknown, or acknowledged already).
    pub fn acked(&mut self, id: u64) -> bool {
        self.unacked.remove(&id).is_some()
    }

    /// Ends every stream (the module deregistered); unacknowledged directives are dropped.
    pub fn close(&mut self) {
        self.watchers.clear();
        self.unacked.clear();
    }

    /// Whether a directive stream is open.
    pub fn is_watched(&mut self) -> bool {
        self.watchers.retain(|w| !w.is_closed());
        !self.watchers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use steward_core::registration::Directive;

    use super::*;

    fn order(id: u64) -> DirectiveOrder {
        DirectiveOrder { id, directive: Directive::Pause, reason: "test".into() }
    }

    #[test]
    fn unacknowledged_directives_reach_a_stream_opened_later() {
        let mut m = Mailbox::default();
        m.deliver(order(1));
        m.deliver(order(2));
        assert!(m.acked(1));
        assert!(!m.acked(1), "acknowledged once");
        let mut rx = m.watch();
        m.deliver(order(3));
        assert_eq!(rx.try_recv().unwrap().id, 2);
        assert_eq!(rx.try_recv().unwrap().id, 3);
        m.close();
        assert!(rx.try_recv().is_err());
        assert!(!m.is_watched());
    }
}
