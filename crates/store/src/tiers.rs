//! The three resolutions history is kept at, and how far the rollups have progressed.

use rusqlite::{Connection, OptionalExtension};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
/// Raw samples carry millisecond timestamps and no fixed cadence, so their "resolution" is 1 ms.
pub const RAW_RESOLUTION_MS: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Raw,
    Minute,
    Hour,
}

impl Tier {
    /// Finest first.
    pub(crate) const ALL: [Tier; 3] = [Tier::Raw, Tier::Minute, Tier::Hour];

    pub(crate) fn resolution_ms(self) -> i64 {
        match self {
            Tier::Raw => RAW_RESOLUTION_MS,
            Tier::Minute => MINUTE_MS,
            Tier::Hour => HOUR_MS,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Tier::Raw => "samples_raw",
            Tier::Minute => "samples_1m",
            Tier::Hour => "samples_1h",
        }
    }

    /// Position in [`Tier::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Tier::Raw => 0,
            Tier::Minute => 1,
            Tier::Hour => 2,
        }
    }
}

/// Exclusive upper bounds of what each rollup table holds (`i64::MIN` = nothing yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watermarks {
    pub minute: i64,
    pub hour: i64,
}

impl Watermarks {
    pub(crate) const NAME_MINUTE: &'static str = "1m";
    pub(crate) const NAME_HOUR: &'static str = "1h";

    pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Self> {
        Ok(Self { minute: load_one(conn, Self::NAME_MINUTE)?, hour: load_one(conn, Self::NAME_HOUR)? })
    }

    /// Where a tier's data ends: raw is open-ended, rollups stop at their watermark.
    pub(crate) fn end_of(&self, tier: Tier) -> i64 {
        match tier {
            Tier::Raw => i64::MAX,
            Tier::Minute => self.minute,
            Tier::Hour => self.hour,
        }
    }
}

fn load_one(conn: &Connection, tier: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row("SELECT done_until_ms FROM rollup_watermark WHERE tier = ?1", [tier], |r| r.get(0))
        .optional()?
        .unwrap_or(i64::MIN))
}
