//! On-demand deep profiling of one module: a short, higher-rate look at only its processes, per
//! thread, that ends by itself. The api reads the counters (on its own thread, at the requested
//! interval) and passes them in with the time; this turns them into rates and a report.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TimestampMs;

pub const MAX_DURATION_S: u32 = 300;
pub const MIN_INTERVAL_MS: u32 = 100;
pub const DEFAULT_INTERVAL_MS: u32 = 250;
/// Points kept in the series: beyond this, every other point is dropped (the rate halves).
pub const MAX_POINTS: usize = 600;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeepProfileRequest {
    /// How long to profile, 1 to 300 s; it ends by itself.
    pub duration_s: u32,
    /// Sampling interval, at least 100 ms (250 ms when absent).
    #[serde(default = "default_interval")]
    #[ts(optional)]
    pub interval_ms: Option<u32>,
}

fn default_interval() -> Option<u32> {
    Some(DEFAULT_INTERVAL_MS)
}

impl DeepProfileRequest {
    pub fn interval(&self) -> u32 {
        self.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS)
    }

    /// Why this request cannot be run, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.duration_s == 0 || self.duration_s > MAX_DURATION_S {
            return Err(format!("duration_s must be between 1 and {MAX_DURATION_S}"));
        }
        if self.interval() < MIN_INTERVAL_MS {
            return Err(format!("interval_ms must be at least {MIN_INTERVAL_MS}"));
        }
        if u64::from(self.interval()) > u64::from(self.duration_s) * 1000 {
            return Err("interval_ms must not exceed the duration".into());
        }
        Ok(())
    }
}

/// One thread's CPU counter, from `/proc/<pid>/task/<tid>/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCounters {
    pub tid: u32,
    pub name: String,
    /// utime + stime in clock ticks.
    pub cpu_ticks: u64,
}

/// One process's counters at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessCounters {
    pub pid: u32,
    pub name: String,
    /// With the pid, identifies the process instance (a reused pid is another process).
    pub start_ticks: u64,
    pub cpu_ticks: u64,
    pub rss_bytes: u64,
    /// Storage (read, written) bytes; `None` where `/proc/<pid>/io` is unreadable.
    pub io: Option<(u64, u64)>,
    pub threads: Vec<ThreadCounters>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeepState {
    Running,
    Finished,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ThreadUsage {
    pub pid: u32,
    pub tid: u32,
    pub process: String,
    pub name: String,
    /// Mean percent of one core over the time the thread was seen.
    pub cpu_pct: f64,
    /// Highest percent of one core over one interval.
    pub peak_cpu_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeepPoint {
    pub ts_ms: TimestampMs,
    /// Percent of one core over the module's processes.
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    /// `None` when some process's IO counters are unreadable (another user's process).
    pub read_bps: Option<f64>,
    pub write_bps: Option<f64>,
    pub threads: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeepProfile {
    pub module_name: String,
    pub state: DeepState,
    pub started_ms: TimestampMs,
    pub ends_ms: TimestampMs,
    /// Time left until it ends by itself; 0 once finished.
    pub remaining_ms: i64,
    pub interval_ms: u32,
    pub samples: u32,
    /// Every process of the module seen during the profile.
    pub pids: Vec<u32>,
    /// Busiest first.
    pub threads: Vec<ThreadUsage>,
    pub series: Vec<DeepPoint>,
    /// What the profile could not see, or why it ended early.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
struct ThreadAcc {
    process: String,
    name: String,
    busy_ticks: u64,
    seen_ms: i64,
    peak_pct: f64,
}

/// The running (or finished) deep profile of one module.
#[derive(Debug, Clone)]
pub struct DeepProfiler {
    module: String,
    started_ms: i64,
    ends_ms: i64,
    interval_ms: u32,
    ticks_per_s: f64,
    prev: Option<(i64, Vec<ProcessCounters>)>,
    threads: BTreeMap<(u32, u32), ThreadAcc>,
    pids: BTreeSet<u32>,
    series: Vec<DeepPoint>,
    samples: u32,
    io_unreadable: bool,
    finished: Option<(i64, Option<String>)>,
}

impl DeepProfiler {
    /// `ticks_per_s` is the kernel's clock tick rate (`sysconf(_SC_CLK_TCK)`).
    pub fn new(module: &str, req: &DeepProfileRequest, now_ms: i64, ticks_per_s: f64) -> Self {
        DeepProfiler {
            module: module.to_string(),
            started_ms: now_ms,
            ends_ms: now_ms + i64::from(req.duration_s) * 1000,
            interval_ms: req.interval(),
            ticks_per_s,
            prev: None,
            threads: BTreeMap::new(),
            pids: BTreeSet::new(),
            series: Vec::new(),
            samples: 0,
            io_unreadable: false,
            finished: None,
        }
    }

    pub fn ends_ms(&self) -> i64 {
        self.ends_ms
    }

    pub fn interval_ms(&self) -> u32 {
        self.interval_ms
    }

    /// True once finished or past its end: the sampling thread stops.
    pub fn is_done(&self, now_ms: i64) -> bool {
        self.finished.is_some() || now_ms >= self.ends_ms
    }

    /// Ticks over `dt_ms` as percent of one core.
    fn pct(&self, ticks: u64, dt_ms: i64) -> f64 {
        ticks as f64 * 100_000.0 / (self.ticks_per_s * dt_ms as f64)
    }

    /// One reading of the module's processes at `ts_ms`.
    pub fn observe(&mut self, ts_ms: i64, procs: Vec<ProcessCounters>) {
        if self.finished.is_some() {
            return;
        }
        self.samples += 1;
        self.pids.extend(procs.iter().map(|p| p.pid));
        if let Some((prev_ts, prev)) = self.prev.take().filter(|(t, _)| *t < ts_ms) {
            let dt = ts_ms - prev_ts;
            let (mut cpu_ticks, mut read, mut written, mut io_known) = (0u64, 0u64, 0u64, true);
            for p in &procs {
                // A process new since the last reading has no delta yet; it counts from the next.
                let Some(q) = prev.iter().find(|q| q.pid == p.pid && q.start_ticks == p.start_ticks) else { continue };
                cpu_ticks += p.cpu_ticks.saturating_sub(q.cpu_ticks);
                match (p.io, q.io) {
                    (Some((r, w)), Some((qr, qw))) => {
                        read += r.saturating_sub(qr);
                        written += w.saturating_sub(qw);
                    }
                    _ => io_known = false,
                }
                for t in &p.threads {
                    let Some(u) = q.threads.iter().find(|u| u.tid == t.tid) else { continue };
                    let ticks = t.cpu_ticks.saturating_sub(u.cpu_ticks);
                    let pct = self.pct(ticks, dt);
                    let acc = self.threads.entry((p.pid, t.tid)).or_insert_with(|| ThreadAcc {
                        process: p.name.clone(),
                        name: t.name.clone(),
                        busy_ticks: 0,
                        seen_ms: 0,
                        peak_pct: 0.0,
                    });
                    // Threads rename themselves (pthread_setname_np): show the latest name.
                    acc.name.clone_from(&t.name);
                    acc.busy_ticks += ticks;
                    acc.seen_ms += dt;
                    acc.peak_pct = acc.peak_pct.max(pct);
                }
            }
            self.io_unreadable |= !io_known;
            let bps = |b: u64| io_known.then(|| b as f64 * 1000.0 / dt as f64);
            self.series.push(DeepPoint {
                ts_ms,
                cpu_pct: self.pct(cpu_ticks, dt),
                rss_bytes: procs.iter().map(|p| p.rss_bytes).sum(),
                read_bps: bps(read),
                write_bps: bps(written),
                threads: procs.iter().map(|p| p.threads.len() as u32).sum(),
            });
            if self.series.len() > MAX_POINTS {
                let mut i = 0;
                self.series.retain(|_| {
                    i += 1;
                    i % 2 == 0
                });
            }
        }
        self.prev = Some((ts_ms, procs));
    }

    /// Ends the profile at `now_ms`; `why` says why when it ends before its time.
    pub fn finish(&mut self, now_ms: i64, why: Option<String>) {
        if self.finished.is_none() {
            self.finished = Some((now_ms.min(self.ends_ms), why));
        }
    }

    pub fn report(&self, now_ms: i64) -> DeepProfile {
        let done = self.is_done(now_ms);
        let mut threads: Vec<ThreadUsage> = self
            .threads
            .iter()
            .filter(|(_, a)| a.seen_ms > 0)
            .map(|(&(pid, tid), a)| ThreadUsage {
                pid,
                tid,
                process: a.process.clone(),
                name: a.name.clone(),
                cpu_pct: self.pct(a.busy_ticks, a.seen_ms),
                peak_cpu_pct: a.peak_pct,
            })
            .collect();
        threads.sort_by(|a, b| b.cpu_pct.total_cmp(&a.cpu_pct).then(a.tid.cmp(&b.tid)));
        let mut notes = Vec::new();
        if let Some((_, Some(why))) = &self.finished {
            notes.push(why.clone());
        }
        if self.pids.is_empty() && self.samples > 0 {
            notes.push(format!("no process matched module {:?} while profiling", self.module));
        }
        if self.io_unreadable {
            notes.push("IO rates are missing where /proc/<pid>/io is unreadable (another user's process)".into());
        }
        DeepProfile {
            module_name: self.module.clone(),
            state: if done { DeepState::Finished } else { DeepState::Running },
            started_ms: self.started_ms,
            ends_ms: self.finished.as_ref().map_or(self.ends_ms, |f| f.0),
            remaining_ms: if done { 0 } else { self.ends_ms - now_ms },
            interval_ms: self.interval_ms,
            samples: self.samples,
            pids: self.pids.iter().copied().collect(),
            threads,
            series: self.series.clone(),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, start: u64, threads: &[(u32, &str, u64)], io: Option<(u64, u64)>) -> ProcessCounters {
        ProcessCounters {
            pid,
            name: "worker".into(),
            start_ticks: start,
            cpu_ticks: threads.iter().map(|t| t.2).sum(),
            rss_bytes: 1 << 20,
            io,
            threads: threads
                .iter()
                .map(|&(tid, name, cpu_ticks)| ThreadCounters { tid, name: name.into(), cpu_ticks })
                .collect(),
        }
    }

    #[test]
    fn requests_are_bounded() {
        let r = |duration_s, interval_ms| DeepProfileRequest { duration_s, interval_ms }.validate();
        assert!(r(60, Some(100)).is_ok());
        assert!(r(60, None).is_ok());
        assert!(r(301, None).unwrap_err().contains("300"));
        assert!(r(0, None).is_err());
        assert!(r(60, Some(99)).unwrap_err().contains("100"));
        let parsed: DeepProfileRequest = serde_json::from_str(r#"{"duration_s": 5}"#).unwrap();
        assert_eq!(parsed.interval(), DEFAULT_INTERVAL_MS);
    }

    #[test]
    fn per_thread_rates_and_the_end() {
        let req = DeepProfileRequest { duration_s: 2, interval_ms: Some(500) };
        let mut d = DeepProfiler::new("m", &req, 1_000, 100.0);
        d.observe(1_000, vec![proc(7, 1, &[(7, "main", 10), (8, "busy", 100)], Some((0, 0)))]);
        // 500 ms later: the busy thread used 50 ticks (a whole core), main 5 (10 %); 1 MB read.
        d.observe(1_500, vec![proc(7, 1, &[(7, "main", 15), (8, "busy", 150)], Some((1_000_000, 0)))]);
        // A pid reused by another process instance contributes nothing until its next reading.
        d.observe(2_000, vec![proc(7, 9, &[(7, "main", 500)], Some((0, 0)))]);
        let r = d.report(2_000);
        assert_eq!(r.state, DeepState::Running);
        assert_eq!(r.remaining_ms, 1_000);
        assert_eq!((r.threads[0].tid, r.threads[0].cpu_pct, r.threads[0].peak_cpu_pct), (8, 100.0, 100.0));
        assert_eq!((r.threads[1].tid, r.threads[1].cpu_pct), (7, 10.0));
        assert_eq!(r.series.len(), 2);
        assert_eq!((r.series[0].cpu_pct, r.series[0].read_bps, r.series[0].threads), (110.0, Some(2_000_000.0), 2));
        assert_eq!(r.series[1].cpu_pct, 0.0);
        assert!(d.is_done(3_000));
        let done = d.report(3_000);
        assert_eq!((done.state, done.remaining_ms), (DeepState::Finished, 0));
    }

    #[test]
    fn unreadable_io_is_said_not_zero() {
        let req = DeepProfileRequest { duration_s: 10, interval_ms: None };
        let mut d = DeepProfiler::new("m", &req, 0, 100.0);
        d.observe(0, vec![proc(7, 1, &[(7, "main", 0)], None)]);
        d.observe(1_000, vec![proc(7, 1, &[(7, "main", 0)], None)]);
        d.finish(1_500, Some("the service stopped".into()));
        let r = d.report(1_500);
        assert_eq!(r.series[0].read_bps, None);
        assert_eq!((r.state, r.ends_ms), (DeepState::Finished, 1_500));
        let note = r.note.unwrap();
        assert!(note.contains("unreadable") && note.contains("service stopped"), "{note}");
    }

    #[test]
    fn long_profiles_keep_a_short_series() {
        let req = DeepProfileRequest { duration_s: 300, interval_ms: Some(100) };
        let mut d = DeepProfiler::new("m", &req, 0, 100.0);
        for i in 0..3_000 {
            d.observe(i * 100, vec![proc(7, 1, &[(7, "main", i as u64)], Some((0, 0)))]);
        }
        let r = d.report(300_000);
        assert!(r.series.len() <= MAX_POINTS && r.series.len() > MAX_POINTS / 2, "{}", r.series.len());
        assert_eq!(r.threads[0].cpu_pct, 10.0);
    }
}
