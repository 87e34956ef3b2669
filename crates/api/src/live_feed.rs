//! The live side of sampling: the latest snapshot, the broadcast to subscribers, and the
//! audience that sets the sampling mode (subscribers, and whether they can see it). Changes to
//! the audience wake the sampling loop so the new mode applies at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, RwLock};

use steward_core::Snapshot;
use tokio::sync::broadcast;

use crate::status::SamplingMode;

pub(crate) struct LiveFeed {
    latest: RwLock<Option<Arc<Snapshot>>>,
    live: broadcast::Sender<Arc<Snapshot>>,
    visible: AtomicBool,
    /// Subscriptions whose viewer said it is hidden (a background browser tab).
    hidden_subscriptions: AtomicUsize,
    wake: Mutex<Sender<()>>,
    /// Whether something besides a viewer needs prompt samples (an active registered module,
    /// for degradation): then the sampler stays at its active rate with no one watching.
    keep_active: KeepActive,
    /// A degradation step holds the sampler at the hidden rate: why.
    lowered_by: RwLock<Option<String>>,
}

/// Asked each time the mode is decided; true keeps the sampler at its active rate.
pub(crate) type KeepActive = Box<dyn Fn() -> bool + Send + Sync>;

impl LiveFeed {
    /// `wake` reaches the sampling loop.
    pub(crate) fn new(wake: Sender<()>, keep_active: KeepActive) -> LiveFeed {
        LiveFeed {
            latest: RwLock::new(None),
            live: broadcast::channel(16).0,
            visible: AtomicBool::new(true),
            hidden_subscriptions: AtomicUsize::new(0),
            wake: Mutex::new(wake),
            keep_active,
            lowered_by: RwLock::new(None),
        }
    }

    pub(crate) fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest.read().ok().and_then(|l| l.clone())
    }

    pub(crate) fn publish(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut l) = self.latest.write() {
            *l = Some(snapshot.clone());
        }
        let _ = self.live.send(snapshot);
    }

    /// Live snapshots from now on. Subscribing (or dropping the last subscriber) changes the
    /// sampling mode, so the sampler is told at once.
    pub(crate) fn subscribe(self: &Arc<Self>) -> Subscription {
        let rx = self.live.subscribe();
        self.wake();
        Subscription { rx, feed: self.clone(), hidden: false }
    }

    /// The desktop window's visibility; hidden, it slows the sampler down.
    pub(crate) fn set_visible(&self, visible: bool) {
        self.visible.store(visible, Ordering::Relaxed);
        self.wake();
    }

    pub(crate) fn sampling_mode(&self) -> SamplingMode {
        // The loop's own receiver does not exist; every receiver is a UI or API client.
        let subscribers = self.live.receiver_count();
        let all_hidden = self.hidden_subscriptions.load(Ordering::Relaxed) >= subscribers;
        if subscribers == 0 && !(self.keep_active)() {
            SamplingMode::Idle
        } else if (subscribers == 0 || (self.visible.load(Ordering::Relaxed) && !all_hidden))
            && self.lowered_by().is_none()
        {
            SamplingMode::Active
        } else {
            SamplingMode::Hidden
        }
    }

    /// Holds the sampler at the hidden rate (`Some(why)`) or lets it go back (`None`).
    pub(crate) fn set_lowered(&self, why: Option<String>) {
        let Ok(mut l) = self.lowered_by.write() else { return };
        if *l != why {
            *l = why;
            drop(l);
            self.wake();
        }
    }

    pub(crate) fn lowered_by(&self) -> Option<String> {
        self.lowered_by.read().ok().and_then(|l| l.clone())
    }

    /// Wakes the sampling loop (a mode change, or a stop request).
    pub(crate) fn wake(&self) {
        if let Ok(tx) = self.wake.lock() {
            let _ = tx.send(());
        }
    }
}

/// A live feed of snapshots; dropping it may let the sampler slow down.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Snapshot>>,
    feed: Arc<LiveFeed>,
    hidden: bool,
}

impl Subscription {
    /// The next snapshot; `None` when the service stopped. A slow reader skips missed ones.
    pub async fn next(&mut self) -> Option<Arc<Snapshot>> {
        loop {
            match self.rx.recv().await {
                Ok(s) => return Some(s),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Whether the viewer of this feed can see it: sampling slows down only when every
    /// subscriber is hidden.
    pub fn set_visible(&mut self, visible: bool) {
        if self.hidden != visible {
            return;
        }
        self.hidden = !visible;
        if self.hidden {
            self.feed.hidden_subscriptions.fetch_add(1, Ordering::Relaxed);
        } else {
            self.feed.hidden_subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        self.feed.wake();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.hidden {
            self.feed.hidden_subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        self.feed.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;

    use super::*;

    #[tokio::test]
    async fn a_lowering_step_holds_a_watched_sampler_at_the_hidden_rate() {
        let (tx, rx) = channel();
        let feed = Arc::new(LiveFeed::new(tx, Box::new(|| false)));
        let _watching = feed.subscribe();
        assert_eq!(feed.sampling_mode(), SamplingMode::Active);
        feed.set_lowered(Some("cpu-saturated (CPU 97 % busy)".into()));
        assert_eq!(feed.sampling_mode(), SamplingMode::Hidden);
        assert!(rx.try_iter().count() >= 2, "the loop is woken for the new mode");
        feed.set_lowered(None);
        assert_eq!(feed.sampling_mode(), SamplingMode::Active);
        assert_eq!(feed.lowered_by(), None);
    }
}
