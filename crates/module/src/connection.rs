//! A module's connection kept up in the background: connect, register, open the directive
//! stream, then report every interval, pass each directive on once and send acks — and on any
//! failure start again after a backoff (100 ms doubling to 5 s), registering anew.

use std::time::Duration;

use steward_core::registration::{Ack, DirectiveOrder, Registration, UsageReport};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::{ModuleClient, ModuleError, Target};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The module's side of a running registration. Dropping it stops the background task
/// without deregistering (Steward then marks the module lost); [`Connection::deregister`]
/// says goodbye.
pub struct Connection {
    reports: watch::Sender<Option<UsageReport>>,
    acks: mpsc::UnboundedSender<(u64, Ack)>,
    stop: watch::Sender<bool>,
    node: watch::Receiver<Option<String>>,
    task: Option<JoinHandle<()>>,
}

/// Starts keeping `registration` registered at `target` (on the current tokio runtime);
/// directives arrive on the returned receiver, each once.
pub fn start(
    target: Target,
    token: String,
    registration: Registration,
) -> (Connection, mpsc::UnboundedReceiver<DirectiveOrder>) {
    let (reports, reports_rx) = watch::channel(None);
    let (acks, acks_rx) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let (node_tx, node) = watch::channel(None);
    let (directives_tx, directives) = mpsc::unbounded_channel();
    let worker = Worker {
        target,
        token,
        registration,
        reports: reports_rx,
        acks: acks_rx,
        unsent_acks: Vec::new(),
        stop: stop_rx,
        node: node_tx,
        directives: directives_tx,
        last_directive: 0,
    };
    let task = tokio::spawn(worker.run());
    (Connection { reports, acks, stop, node, task: Some(task) }, directives)
}

impl Connection {
    /// The report sent from the next interval on (the latest wins).
    pub fn report(&self, report: UsageReport) {
        self.reports.send_replace(Some(report));
    }

    /// Answers a directive; kept and sent again if Steward cannot be reached now.
    pub fn ack(&self, directive_id: u64, ack: Ack) {
        let _ = self.acks.send((directive_id, ack));
    }

    /// The node the module is registered on; `None` while (re)connecting.
    pub fn node(&self) -> Option<String> {
        self.node.borrow().clone()
    }

    /// Waits until registered; the node's name.
    pub async fn registered(&mut self) -> String {
        loop {
            if let Some(n) = self.node.borrow_and_update().clone() {
                return n;
            }
            if self.node.changed().await.is_err() {
                return String::new();
            }
        }
    }

    /// Deregisters (when connected) and stops.
    pub async fn deregister(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Worker {
    target: Target,
    token: String,
    registration: Registration,
    reports: watch::Receiver<Option<UsageReport>>,
    acks: mpsc::UnboundedReceiver<(u64, Ack)>,
    unsent_acks: Vec<(u64, Ack)>,
    stop: watch::Receiver<bool>,
    node: watch::Sender<Option<String>>,
    directives: mpsc::UnboundedSender<DirectiveOrder>,
    /// Directives are numbered increasingly per module: one not above this was passed on.
    last_directive: u64,
}

impl Worker {
    async fn run(mut self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let started = tokio::time::Instant::now();
            let failed = match self.session().await {
                Ok(()) => return, // deregistered
                Err(e) => e,
            };
            self.node.send_replace(None);
            tracing::warn!(module = %self.registration.name, "connection to Steward lost ({failed}); retrying");
            if started.elapsed() > MAX_BACKOFF * 2 {
                backoff = MIN_BACKOFF;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.stop.changed() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection until it fails; `Ok` once deregistered on request.
    async fn session(&mut self) -> Result<(), ModuleError> {
        let name = self.registration.name.clone();
        let client = ModuleClient::connect(&self.target, &self.token).await?;
        let node = client.register(&self.registration).await?;
        let mut directives = client.watch_directives(&name).await?;
        self.node.send_replace(Some(node));
        for (id, ack) in std::mem::take(&mut self.unsent_acks) {
            self.send_ack(&client, id, ack).await?;
        }
        let every = Duration::from_millis(self.registration.report_interval_ms.into());
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let report = self.reports.borrow().clone();
                    if let Some(r) = report {
                        client.report(&name, &r).await?;
                    }
                }
                order = directives.next() => {
                    let Some(order) = order? else {
                        return Err(ModuleError::NotRegistered("Steward ended the directive stream".into()));
                    };
                    if order.id > self.last_directive {
                        self.last_directive = order.id;
                        let _ = self.directives.send(order);
                    }
                }
                Some((id, ack)) = self.acks.recv() => self.send_ack(&client, id, ack).await?,
                _ = self.stop.changed() => {
                    let _ = client.deregister(&name).await;
                    return Ok(());
                }
            }
        }
    }

    /// An ack Steward no longer waits for (it restarted without the directive) is dropped;
    /// one that could not be sent is kept for the next connection.
    async fn send_ack(&mut self, client: &ModuleClient, id: u64, ack: Ack) -> Result<(), ModuleError> {
        match client.ack(&self.registration.name, id, &ack).await {
            Ok(()) | Err(ModuleError::NotRegistered(_)) => Ok(()),
            Err(e) => {
                self.unsent_acks.push((id, ack));
                Err(e)
            }
        }
    }
}
