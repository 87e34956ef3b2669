//! Reservations with Slurm-like rules: they never overlap on the same GPUs (or beyond a node's
//! cores/memory) unless one is flagged `overlap`; resources busy at the start are refused unless
//! `ignore_running`, and then whatever runs there is ended when the window starts; only
//! allocations that name a reservation run inside it. Moving and resizing obey the same rules,
//! for a whole series or for one occurrence of it (an exception, see `recurrence`).

use super::engine::Scheduler;
use super::record::{AllocState, OccurrenceException, Refusal, Reservation};
use super::recurrence::{Repeat, Series, zone};
use super::request::{FieldError, ReservationChange, ReservationRequest, Window};
use super::time::{format_rfc3339, parse_rfc3339};

pub(crate) struct ResvState {
    pub rec: Reservation,
    pub series: Series,
    pub node: u32,
    pub gpu_slots: Vec<usize>,
}

impl ResvState {
    /// Resolves a record against the nodes; `None` when its node or a GPU is unknown.
    pub fn build(s: &Scheduler, rec: Reservation) -> Option<ResvState> {
        let node = *s.index.node_index.get(&rec.node)?;
        let res = &s.state.nodes[node as usize].res;
        let gpu_slots = rec.gpus.iter().map(|g| res.gpu_slot(g)).collect::<Option<Vec<_>>>()?;
        let repeat = match &rec.recurrence {
            Some(r) => {
                let until = r.until.as_deref().and_then(|u| parse_rfc3339(u).ok());
                Some(Repeat::new(r.freq, until, zone(&r.tz)?, rec.start_time, rec.end_time))
            }
            None => None,
        };
        let exceptions = match repeat {
            Some(_) => rec
                .exceptions
                .iter()
                .map(|x| (x.occurrence, (!x.cancelled).then_some((x.start_time, x.end_time))))
                .collect(),
            None => Default::default(),
        };
        let series = Series { start_ms: rec.start_time, end_ms: rec.end_time, repeat, exceptions };
        Some(ResvState { rec, series, node, gpu_slots })
    }
}

impl ResvState {
    /// Replaces the series' changed occurrences (in the record and in the expansion).
    fn set_exceptions(&mut self, mut list: Vec<OccurrenceException>) {
        list.sort_by_key(|x| x.occurrence);
        self.series.exceptions =
            list.iter().map(|x| (x.occurrence, (!x.cancelled).then_some((x.start_time, x.end_time)))).collect();
        self.rec.exceptions = list;
    }
}

/// `<id>@<start>` (an occurrence's id) → the series' id.
fn series_id(id: &str) -> String {
    id.split('@').next().unwrap_or(id).to_string()
}

/// The window an occurrence has now: its own if it was moved.
fn current_window(rec: &Reservation, occurrence: i64) -> Option<(i64, i64)> {
    rec.exceptions.iter().find(|x| x.occurrence == occurrence && !x.cancelled).map(|x| (x.start_time, x.end_time))
}

/// Applies a change's start/end to a window; the problems per field.
fn change_times(change: &ReservationChange, start: &mut i64, end: &mut i64) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, v, dst) in [("start_time", &change.start_time, &mut *start), ("end_time", &change.end_time, &mut *end)]
    {
        if let Some(v) = v {
            match parse_rfc3339(v) {
                Ok(ms) => *dst = ms,
                Err(e) => errors.push(FieldError::new(field, e)),
            }
        }
    }
    if errors.is_empty() && *end <= *start {
        errors.push(FieldError::new("end_time", "must be after start_time"));
    }
    errors
}

/// Why a change to a reservation was not made.
#[derive(Debug, Clone, PartialEq)]
pub enum ReservationError {
    NotFound(String),
    Invalid(Vec<FieldError>),
    /// Refused by the rules (overlap, busy resources): the message says which and when.
    Conflict(String),
}

impl Scheduler {
    /// Applies a change's name and owner to `rec` (the reservation `id`); the problems per field.
    fn rename(&self, id: &str, change: &ReservationChange, rec: &mut Reservation) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(name) = change.name.as_deref().map(str::trim) {
            if name.is_empty() {
                errors.push(FieldError::new("name", "must not be empty"));
            } else if self.state.resvs.iter().any(|(other, r)| other != id && r.rec.name == name) {
                errors.push(FieldError::new("name", format!("a reservation named {name:?} already exists")));
            } else {
                rec.name = name.to_string();
            }
        }
        if let Some(owner) = change.owner.as_deref().map(str::trim) {
            if owner.is_empty() {
                errors.push(FieldError::new("owner", "must not be empty"));
            } else {
                rec.owner = owner.to_string();
            }
        }
        errors
    }

    pub fn reservation(&self, id: &str) -> Option<&Reservation> {
        self.state.resvs.get(id).map(|r| &r.rec)
    }

    pub fn reservations(&self) -> impl Iterator<Item = &Reservation> {
        self.state.resvs.values().map(|r| &r.rec)
    }

    /// Reservations overlapping `[from, to)`, repeating ones expanded into their occurrences.
    pub fn reservations_between(&self, from: i64, to: i64) -> Vec<Reservation> {
        let mut out = Vec::new();
        for r in self.state.resvs.values() {
            for o in r.series.occurrences(from, to) {
                let mut occ = r.rec.clone();
                if r.series.repeat.is_some() {
                    // Keyed by the start the series gives it, so a moved occurrence keeps its id.
                    occ.id = format!("{}@{}", r.rec.id, format_rfc3339(o.original));
                    occ.occurrence_of = Some(r.rec.id.clone());
                    occ.occurrence = Some(o.original);
                    occ.exceptions.clear();
                    (occ.start_time, occ.end_time) = (o.start, o.end);
                }
                out.push(occ);
            }
        }
        out.sort_by(|a, b| a.start_time.cmp(&b.start_time).then(a.id.cmp(&b.id)));
        out
    }

    /// An id or a name → the reservation's id.
    pub(super) fn resolve_resv(&self, key: &str) -> Option<String> {
        if self.state.resvs.contains_key(key) {
            return Some(key.to_string());
        }
        self.state.resvs.values().find(|r| r.rec.name == key).map(|r| r.rec.id.clone())
    }

    /// Creates a reservation (request validated, `id` filled in) or says why not.
    pub fn reserve(&mut self, req: &ReservationRequest, window: Window, now: i64) -> Result<Reservation, Refusal> {
        let id = req.id.clone().unwrap_or_default();
        if let Some(existing) = self.state.resvs.get(&id) {
            return Ok(existing.rec.clone());
        }
        let rec = Reservation {
            name: req.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| id.clone()),
            id,
            owner: req.owner.clone(),
            node: req.node.clone(),
            gpus: req.gpus.clone(),
            cores: req.cores,
            memory_bytes: req.memory_bytes,
            start_time: window.start_ms,
            end_time: window.end_ms,
            flags: req.flags,
            recurrence: req.recurrence.clone(),
            occurrence_of: None,
            occurrence: None,
            exceptions: Vec::new(),
        };
        let refuse = |s: &Scheduler, error: String| Refusal {
            error,
            availability: s
                .index
                .node_index
                .get(&req.node)
                .map(|&n| vec![s.availability_of(n, &s.state.nodes[n as usize])])
                .unwrap_or_default(),
        };
        if self.state.resvs.values().any(|r| r.rec.name == rec.name) {
            return Err(refuse(self, format!("a reservation named {:?} already exists", rec.name)));
        }
        let state = self.resolve(rec).map_err(|e| refuse(self, e))?;
        self.check(&state, now, None, None).map_err(|e| refuse(self, e))?;
        let out = state.rec.clone();
        let details = [
            ("node", out.node.clone()),
            ("gpus", out.gpus.join(",")),
            ("start", format_rfc3339(out.start_time)),
            ("end", format_rfc3339(out.end_time)),
        ];
        self.event_on(now, "reservation", out.id.clone(), format!("reserved {:?}", out.name), &details);
        let node = state.node;
        self.insert_resv(state);
        self.plan_evictions(node, now);
        self.pass.release_epoch += 1;
        self.tick(now);
        Ok(out)
    }

    /// Moves or resizes a reservation (by series id, or an occurrence id `<id>@<start>`): the
    /// whole series, its changed occurrences following it (a moved one moves by as much).
    pub fn update_reservation(
        &mut self,
        id: &str,
        change: &ReservationChange,
        now: i64,
    ) -> Result<Reservation, ReservationError> {
        let id = series_id(id);
        let Some(old) = self.state.resvs.get(&id) else {
            return Err(ReservationError::NotFound(format!("no reservation {id:?}")));
        };
        let old_series = old.series.clone();
        let (old_start, old_end) = (old.rec.start_time, old.rec.end_time);
        let mut rec = old.rec.clone();
        let mut errors = change_times(change, &mut rec.start_time, &mut rec.end_time);
        if let Some(r) = &rec.recurrence {
            let period = match r.freq {
                super::request::Frequency::Daily => 86_400_000,
                super::request::Frequency::Weekly => 7 * 86_400_000,
            };
            if rec.end_time - rec.start_time >= period {
                errors.push(FieldError::new("end_time", "a repeating window must be shorter than its period"));
            }
        }
        if let Some(n) = &change.node {
            rec.node = n.clone();
        }
        if let Some(g) = &change.gpus {
            rec.gpus = g.clone();
        }
        errors.extend(self.rename(&id, change, &mut rec));
        if !errors.is_empty() {
            return Err(ReservationError::Invalid(errors));
        }
        let exceptions = std::mem::take(&mut rec.exceptions);
        let mut state = self.resolve(rec).map_err(|e| ReservationError::Invalid(vec![FieldError::new("gpus", e)]))?;
        // An occurrence changed on its own stays changed: it is re-keyed to the start the moved
        // series gives the same occurrence, and a moved one shifts by as much as the series (one
        // the resize would empty falls back to the series' window).
        let (d_start, d_end) = (state.rec.start_time - old_start, state.rec.end_time - old_end);
        let rekeyed = exceptions
            .into_iter()
            .filter_map(|mut x| {
                x.occurrence = state.series.nth_start(old_series.original_index(x.occurrence)?)?;
                if x.cancelled {
                    (x.start_time, x.end_time) = state.series.original_window(x.occurrence)?;
                } else {
                    (x.start_time, x.end_time) = (x.start_time + d_start, x.end_time + d_end);
                }
                (x.cancelled || x.start_time < x.end_time).then_some(x)
            })
            .collect();
        state.set_exceptions(rekeyed);
        self.replace_resv(&id, state, now, None, "reservation_changed", "moved/resized")
    }

    /// Moves or resizes one occurrence of a repeating reservation, the one the series starts at
    /// `occurrence`, under the same rules as a one-off reservation; the rest of the series stays.
    pub fn update_occurrence(
        &mut self,
        id: &str,
        occurrence: i64,
        change: &ReservationChange,
        now: i64,
    ) -> Result<Reservation, ReservationError> {
        let id = series_id(id);
        let (rs, original) = self.occurrence_of(&id, occurrence)?;
        let same = |v: &Option<String>, cur: &String| v.as_ref().is_none_or(|v| v == cur);
        if !same(&change.name, &rs.rec.name) || !same(&change.owner, &rs.rec.owner) {
            let why = "one occurrence keeps the series' name and owner; change all occurrences to rename it";
            return Err(ReservationError::Invalid(vec![FieldError::new("name", why)]));
        }
        if !same(&change.node, &rs.rec.node) || change.gpus.as_ref().is_some_and(|g| *g != rs.rec.gpus) {
            let why = "one occurrence keeps the series' node and GPUs; change all occurrences to move it elsewhere";
            return Err(ReservationError::Invalid(vec![FieldError::new("gpus", why)]));
        }
        let (mut start, mut end) = current_window(&rs.rec, occurrence).unwrap_or(original);
        if end <= now {
            return Err(ReservationError::Conflict(format!(
                "the occurrence of {} has already ended",
                format_rfc3339(occurrence)
            )));
        }
        let errors = change_times(change, &mut start, &mut end);
        if !errors.is_empty() {
            return Err(ReservationError::Invalid(errors));
        }
        if end <= now {
            return Err(ReservationError::Conflict("the window is entirely in the past".into()));
        }
        let mut state = ResvState {
            rec: rs.rec.clone(),
            series: rs.series.clone(),
            node: rs.node,
            gpu_slots: rs.gpu_slots.clone(),
        };
        let mut exceptions = state.rec.exceptions.clone();
        exceptions.retain(|x| x.occurrence != occurrence);
        if (start, end) != original {
            exceptions.push(OccurrenceException { occurrence, start_time: start, end_time: end, cancelled: false });
        }
        state.set_exceptions(exceptions);
        let what = format!(
            "moved/resized the occurrence of {} to {}–{} of",
            format_rfc3339(occurrence),
            format_rfc3339(start),
            format_rfc3339(end)
        );
        self.replace_resv(&id, state, now, Some(start), "reservation_changed", &what)
    }

    /// Cancels one occurrence of a repeating reservation (the one the series starts at
    /// `occurrence`); what runs inside it now ends, what waits for the series waits for the next.
    pub fn delete_occurrence(&mut self, id: &str, occurrence: i64, now: i64) -> Result<Reservation, ReservationError> {
        let id = series_id(id);
        let (rs, original) = self.occurrence_of(&id, occurrence)?;
        let window = current_window(&rs.rec, occurrence).unwrap_or(original);
        let mut state = ResvState {
            rec: rs.rec.clone(),
            series: rs.series.clone(),
            node: rs.node,
            gpu_slots: rs.gpu_slots.clone(),
        };
        if window.0 <= now && now < window.1 {
            let inside: Vec<u32> = self.state.nodes[rs.node as usize]
                .running
                .iter()
                .copied()
                .filter(|&i| self.state.allocs[i as usize].reservation.as_deref() == Some(id.as_str()))
                .collect();
            for i in inside {
                self.release(
                    i,
                    now,
                    AllocState::Cancelled,
                    format!("this occurrence of reservation {id} was cancelled"),
                );
            }
        }
        let mut exceptions = state.rec.exceptions.clone();
        exceptions.retain(|x| x.occurrence != occurrence);
        exceptions.push(OccurrenceException {
            occurrence,
            start_time: original.0,
            end_time: original.1,
            cancelled: true,
        });
        state.set_exceptions(exceptions);
        self.remove_resv(&id);
        let details = [("occurrence", format_rfc3339(occurrence))];
        self.event_on(
            now,
            "reservation_changed",
            id.clone(),
            format!("cancelled the occurrence of {} of {:?}", format_rfc3339(occurrence), state.rec.name),
            &details,
        );
        let out = state.rec.clone();
        let node = state.node;
        self.insert_resv(state);
        self.plan_evictions(node, now);
        self.pass.release_epoch += 1;
        self.schedule(now);
        Ok(out)
    }

    /// The series `id` and the window it gives the occurrence starting at `occurrence`.
    fn occurrence_of(&self, id: &str, occurrence: i64) -> Result<(&ResvState, (i64, i64)), ReservationError> {
        let Some(rs) = self.state.resvs.get(id) else {
            return Err(ReservationError::NotFound(format!("no reservation {id:?}")));
        };
        if rs.series.repeat.is_none() {
            return Err(ReservationError::Invalid(vec![FieldError::new(
                "occurrence",
                "the reservation does not repeat",
            )]));
        }
        let cancelled = rs.rec.exceptions.iter().any(|x| x.occurrence == occurrence && x.cancelled);
        match rs.series.original_window(occurrence) {
            Some(w) if !cancelled => Ok((rs, w)),
            _ => Err(ReservationError::NotFound(format!(
                "reservation {id:?} has no occurrence starting {}",
                format_rfc3339(occurrence)
            ))),
        }
    }

    /// Puts `state` in place of reservation `id` if every rule holds for it: nothing running
    /// inside loses its resources, no overlap, nothing busy at the start (`busy_at`, or the
    /// next occurrence's start).
    fn replace_resv(
        &mut self,
        id: &str,
        state: ResvState,
        now: i64,
        busy_at: Option<i64>,
        kind: &str,
        what: &str,
    ) -> Result<Reservation, ReservationError> {
        // Whatever runs inside must stay covered.
        if let Some(old_state) = self.state.resvs.get(id) {
            let inside: Vec<&str> = self.state.nodes[old_state.node as usize]
                .running
                .iter()
                .map(|&i| &self.state.allocs[i as usize])
                .filter(|a| a.reservation.as_deref() == Some(id))
                .filter(|a| {
                    state.node != old_state.node
                        || !a.gpus.iter().all(|g| state.rec.gpus.contains(g))
                        || state.series.active_at(now).is_none()
                })
                .map(|a| a.id.as_str())
                .collect();
            if !inside.is_empty() {
                return Err(ReservationError::Conflict(format!(
                    "allocations run inside it and would lose their resources: {}",
                    inside.join(", ")
                )));
            }
        }
        self.check(&state, now, Some(id), busy_at).map_err(ReservationError::Conflict)?;
        let old_node = self.state.resvs.get(id).map(|r| r.node);
        self.remove_resv(id);
        let out = state.rec.clone();
        let details = [
            ("node", out.node.clone()),
            ("gpus", out.gpus.join(",")),
            ("start", format_rfc3339(out.start_time)),
            ("end", format_rfc3339(out.end_time)),
        ];
        self.event_on(now, kind, id.to_string(), format!("{what} {:?}", out.name), &details);
        let node = state.node;
        self.insert_resv(state);
        for n in old_node.into_iter().chain([node]) {
            self.plan_evictions(n, now);
        }
        self.pass.release_epoch += 1;
        self.tick(now);
        Ok(out)
    }

    /// Deletes a reservation; what runs inside it ends, what waits for it is cancelled.
    pub fn delete_reservation(&mut self, id: &str, now: i64) -> Result<(), ReservationError> {
        let id = series_id(id);
        let Some(node) = self.state.resvs.get(&id).map(|r| r.node) else {
            return Err(ReservationError::NotFound(format!("no reservation {id:?}")));
        };
        let inside: Vec<u32> = self.state.nodes[node as usize]
            .running
            .iter()
            .copied()
            .filter(|&i| self.state.allocs[i as usize].reservation.as_deref() == Some(id.as_str()))
            .collect();
        for i in inside {
            self.release(i, now, AllocState::Cancelled, format!("reservation {id} was deleted"));
        }
        self.remove_resv(&id);
        self.forget_resv(&id);
        self.plan_evictions(node, now);
        self.event_on(now, "reservation_deleted", id.clone(), format!("deleted reservation {id}"), &[]);
        self.pass.release_epoch += 1;
        self.schedule(now);
        Ok(())
    }

    pub(super) fn insert_resv(&mut self, state: ResvState) {
        let id = state.rec.id.clone();
        self.state.nodes[state.node as usize].reservations.push(id.clone());
        self.mark_resv(&id);
        self.state.resvs.insert(id, state);
    }

    fn remove_resv(&mut self, id: &str) {
        if let Some(state) = self.state.resvs.remove(id) {
            self.state.nodes[state.node as usize].reservations.retain(|r| r != id);
        }
    }

    fn resolve(&self, rec: Reservation) -> Result<ResvState, String> {
        let Some(&n) = self.index.node_index.get(&rec.node) else {
            return Err(format!("no node named {:?}", rec.node));
        };
        let res = &self.state.nodes[n as usize].res;
        if let Some(g) = rec.gpus.iter().find(|g| res.gpu_slot(g).is_none()) {
            return Err(format!("{g} is not a GPU of {}", rec.node));
        }
        if rec.cores > res.cores || rec.memory_bytes > res.memory_bytes {
            return Err(format!("{} has only {} cores and {} MiB", rec.node, res.cores, res.memory_bytes >> 20));
        }
        ResvState::build(self, rec).ok_or_else(|| "unknown time zone".to_string())
    }

    /// The rules every new or moved reservation must pass; resources must be free at `busy_at`
    /// (a moved occurrence's start), by default when the next occurrence starts.
    fn check(
        &mut self,
        cand: &ResvState,
        now: i64,
        replacing: Option<&str>,
        busy_at: Option<i64>,
    ) -> Result<(), String> {
        let Some((next_start, _)) = cand.series.next(now) else {
            return Err("the window is entirely in the past".into());
        };
        let first_start = busy_at.unwrap_or(next_start);
        let node = &self.state.nodes[cand.node as usize];
        for other_id in &node.reservations {
            if Some(other_id.as_str()) == replacing {
                continue;
            }
            let other = &self.state.resvs[other_id];
            if cand.rec.flags.overlap || other.rec.flags.overlap {
                continue;
            }
            let Some((s, e)) = cand.series.overlaps(&other.series, self.config.overlap_horizon_ms) else { continue };
            let shared: Vec<&str> =
                cand.rec.gpus.iter().filter(|g| other.rec.gpus.contains(g)).map(String::as_str).collect();
            if !shared.is_empty() {
                self.stats.refused_overlaps += 1;
                return Err(format!(
                    "overlaps reservation '{}' on {} {}–{}",
                    other.rec.name,
                    shared.join(", "),
                    format_rfc3339(s),
                    format_rfc3339(e)
                ));
            }
        }
        if let Some(why) = self.pool_overflow(cand, now, replacing) {
            self.stats.refused_overlaps += 1;
            return Err(why);
        }
        if cand.rec.flags.ignore_running {
            return Ok(());
        }
        // Busy at the start: running allocations (outside this reservation) still holding
        // reserved GPUs, or leaving too few cores/memory, when the first window opens.
        let mut cores_left = node.res.cores as i64;
        let mut mem_left = node.res.memory_bytes as i128;
        for &i in &node.running {
            let a = &self.state.allocs[i as usize];
            let inside = replacing.is_some_and(|r| a.reservation.as_deref() == Some(r));
            if inside || a.end_time.is_some_and(|e| e <= first_start) {
                continue;
            }
            if let Some(g) = a.gpus.iter().find(|g| cand.rec.gpus.contains(g)) {
                self.stats.refused_busy += 1;
                return Err(format!(
                    "{g} is busy at the start ({}) with allocation {} until {}; ask for ignore_running to end it first",
                    format_rfc3339(first_start),
                    a.id,
                    a.end_time.map_or("cancelled (no end)".into(), format_rfc3339)
                ));
            }
            if a.reservation.is_none() {
                cores_left -= self.state.asks[i as usize].cores as i64;
                mem_left -= self.state.asks[i as usize].mem as i128;
            }
        }
        if cores_left < cand.rec.cores as i64 || mem_left < cand.rec.memory_bytes as i128 {
            self.stats.refused_busy += 1;
            return Err(format!(
                "{} has too few cores or too little memory free at the start ({}); ask for ignore_running to end what runs there",
                cand.rec.node,
                format_rfc3339(first_start)
            ));
        }
        Ok(())
    }

    /// Whether, at some instant, `cand` and the reservations open with it would reserve more
    /// cores or memory than the node has (the sum over everything open at once, not pairs).
    fn pool_overflow(&self, cand: &ResvState, now: i64, replacing: Option<&str>) -> Option<String> {
        if cand.rec.flags.overlap || (cand.rec.cores == 0 && cand.rec.memory_bytes == 0) {
            return None;
        }
        let node = &self.state.nodes[cand.node as usize];
        let others: Vec<&ResvState> = node
            .reservations
            .iter()
            .filter(|id| Some(id.as_str()) != replacing)
            .map(|id| &self.state.resvs[id])
            .filter(|o| !o.rec.flags.overlap && (o.rec.cores > 0 || o.rec.memory_bytes > 0))
            .collect();
        if others.is_empty() {
            return None;
        }
        let until = cand.series.last_end().min(cand.series.start_ms.saturating_add(self.config.overlap_horizon_ms));
        for (s, e) in cand.series.overlapping(now, until) {
            let open: Vec<(i64, i64, &ResvState)> = others
                .iter()
                .flat_map(|o| o.series.overlapping(s, e).into_iter().map(move |(a, b)| (a, b, *o)))
                .collect();
            // The most that is open at once is reached at some window's start.
            let starts = std::iter::once(s).chain(open.iter().map(|x| x.0).filter(|&p| p > s && p < e));
            for p in starts {
                let at: Vec<&ResvState> = open.iter().filter(|x| x.0 <= p && p < x.1).map(|x| x.2).collect();
                let cores: u32 = cand.rec.cores + at.iter().map(|r| r.rec.cores).sum::<u32>();
                let mem: u64 = cand.rec.memory_bytes + at.iter().map(|r| r.rec.memory_bytes).sum::<u64>();
                if cores > node.res.cores || mem > node.res.memory_bytes {
                    let names: Vec<String> = at.iter().map(|r| format!("'{}'", r.rec.name)).collect();
                    return Some(format!(
                        "overlaps reservation {} on {} (cores/memory) at {}: together they would reserve {cores} of {} cores, {} of {} MiB",
                        names.join(", "),
                        cand.rec.node,
                        format_rfc3339(p),
                        node.res.cores,
                        mem >> 20,
                        node.res.memory_bytes >> 20
                    ));
                }
            }
        }
        None
    }

    /// Ends allocations that hold what an active reservation reserves without naming it (they
    /// were accepted with `ignore_running`, or predate the rules).
    pub(super) fn evict_for_reservations(&mut self, now: i64) {
        let mut evict: Vec<(u32, String)> = Vec::new();
        for rs in self.state.resvs.values() {
            if rs.series.active_at(now).is_none() {
                continue;
            }
            let node = &self.state.nodes[rs.node as usize];
            let mut outside: Vec<u32> =
                node.running.iter().copied().filter(|&i| self.state.allocs[i as usize].reservation.is_none()).collect();
            outside.sort_by_key(|&i| {
                (self.state.allocs[i as usize].priority, std::cmp::Reverse(self.state.allocs[i as usize].start_time))
            });
            let reserved_cores: i64 = node
                .reservations
                .iter()
                .filter_map(|r| self.state.resvs.get(r))
                .filter(|r| r.series.active_at(now).is_some())
                .map(|r| r.rec.cores as i64)
                .sum();
            let mut cores_used: i64 = outside.iter().map(|&i| self.state.asks[i as usize].cores as i64).sum();
            for &i in &outside {
                let a = &self.state.allocs[i as usize];
                let on_gpu = a.gpus.iter().any(|g| rs.rec.gpus.contains(g));
                let over = cores_used + reserved_cores > node.res.cores as i64;
                if on_gpu || over {
                    cores_used -= self.state.asks[i as usize].cores as i64;
                    evict.push((i, rs.rec.name.clone()));
                }
            }
        }
        for (i, name) in evict {
            if self.state.allocs[i as usize].state == AllocState::Running {
                self.evict(i, now, name);
            }
        }
    }

    /// Ends running `i` for reservation `name`, the way its preemption mode says.
    pub(super) fn evict(&mut self, i: u32, now: i64, name: String) {
        let why = format!("reservation {name:?} started on its resources");
        let mode = self.state.allocs[i as usize].request.preemption.mode;
        self.event(now, "eviction", i, why.clone(), &[("reservation", name)]);
        self.stats.evictions += 1;
        self.release_with_mode(i, now, mode, why);
    }

    /// The reservation open at `at` on `i`'s node that reserves a GPU `i` holds (its name).
    pub(super) fn evicting_reservation(&self, i: u32, at: i64) -> Option<String> {
        let n = self.state.alloc_node[i as usize];
        let a = &self.state.allocs[i as usize];
        self.state.nodes.get(n as usize)?.reservations.iter().map(|r| &self.state.resvs[r]).find_map(|rs| {
            let holds = a.gpus.iter().any(|g| rs.rec.gpus.contains(g));
            (holds && rs.series.active_at(at).is_some()).then(|| rs.rec.name.clone())
        })
    }

    /// Running work outside reservations on node `n` that holds a GPU a reservation's coming
    /// window reserves ends when that window starts (it is evicted then): its record's end says
    /// so from now on, and the end follows the reservations as they are made, moved or deleted.
    pub(super) fn plan_evictions(&mut self, n: u32, now: i64) {
        let running = self.state.nodes[n as usize].running.clone();
        for i in running {
            let a = &self.state.allocs[i as usize];
            if a.reservation.is_some() || a.preemption.is_some() {
                continue;
            }
            let own = a.request.duration_s.map(|d| a.start_time.unwrap_or(now) + d as i64 * 1000);
            let evicted_at = self.state.nodes[n as usize]
                .reservations
                .iter()
                .map(|r| &self.state.resvs[r])
                .filter(|rs| a.gpus.iter().any(|g| rs.rec.gpus.contains(g)))
                .filter_map(|rs| rs.series.next(now).map(|o| o.0))
                .filter(|&s| s > now)
                .min();
            let planned = match (own, evicted_at) {
                (Some(o), Some(e)) => Some(o.min(e)),
                (o, e) => o.or(e),
            };
            if planned != a.end_time {
                if let Some(old) = a.end_time {
                    self.index.ends.remove(&(old, i));
                }
                if let Some(new) = planned {
                    self.index.ends.insert((new, i));
                }
                self.state.allocs[i as usize].end_time = planned;
                self.mark(i);
            }
        }
    }
}
