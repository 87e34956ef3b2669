//! A partition's whole output for the front doors: the spill file when its output was cut past
//! its limits, else the lines kept as its result. Read in chunks, never whole into memory.

use std::io::{Read, Seek};
use std::path::PathBuf;

use steward_core::dispatch::{AttemptState, Execution};

use super::Dispatcher;
use crate::ApiError;

/// Where a partition's whole output is.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSource {
    /// Spilled: every byte the task wrote to stdout, as written (up to `[dispatch] max_spill_bytes`).
    File(PathBuf),
    /// Kept whole as the result: its lines, newline-terminated.
    Kept(Vec<u8>),
}

impl OutputSource {
    /// A reader from byte `offset` on.
    pub fn open_at(&self, offset: u64) -> Result<Box<dyn Read + Send>, ApiError> {
        match self {
            OutputSource::File(path) => {
                let failed = |e: std::io::Error| match e.kind() {
                    // Removed by hand, or the database was moved without it.
                    std::io::ErrorKind::NotFound => {
                        ApiError::NotFound(format!("the output file {} is gone", path.display()))
                    }
                    _ => ApiError::Internal(format!("output file {}: {e}", path.display())),
                };
                let mut f = std::fs::File::open(path).map_err(failed)?;
                f.seek(std::io::SeekFrom::Start(offset)).map_err(failed)?;
                Ok(Box::new(f))
            }
            OutputSource::Kept(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
                Ok(Box::new(std::io::Cursor::new(bytes[start..].to_vec())))
            }
        }
    }
}

/// Up to `max` bytes of a partition's output from an offset (the desktop reads it this way).
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OutputChunk {
    /// The bytes as text (bytes that are not UTF-8 shown as U+FFFD).
    pub text: String,
    #[ts(type = "number")]
    pub next_offset: u64,
    pub end: bool,
}

/// Largest chunk one call returns.
const MAX_CHUNK: u64 = 4 << 20;

impl Dispatcher {
    /// Where partition `index` of execution `id` has its whole output. Only a partition with a
    /// result has one (404 otherwise, saying why).
    pub(crate) fn partition_output(&self, id: &str, index: u32) -> Result<OutputSource, ApiError> {
        let spill = self.spill.clone();
        self.with_execution(id, |e| source(e, index, |attempt| spill.file(attempt)))?
    }

    /// Up to `max` bytes (at most 4 MiB) of that output from byte `offset`.
    pub(crate) fn partition_output_chunk(
        &self,
        id: &str,
        index: u32,
        offset: u64,
        max: u64,
    ) -> Result<OutputChunk, ApiError> {
        let max = max.clamp(1, MAX_CHUNK);
        let mut data = Vec::new();
        self.partition_output(id, index)?
            .open_at(offset)?
            .take(max + 1)
            .read_to_end(&mut data)
            .map_err(|e| ApiError::Internal(format!("reading the output: {e}")))?;
        let end = data.len() as u64 <= max;
        data.truncate(max as usize);
        Ok(OutputChunk { next_offset: offset + data.len() as u64, text: String::from_utf8_lossy(&data).into(), end })
    }
}

fn source(e: &Execution, index: u32, file_of: impl Fn(&str) -> PathBuf) -> Result<OutputSource, ApiError> {
    let part = e
        .partitions
        .get(index as usize)
        .ok_or_else(|| ApiError::NotFound(format!("execution {:?} has no partition {index}", e.id)))?;
    let Some(winner) = part.attempts.iter().find(|a| a.state == AttemptState::Succeeded) else {
        return Err(ApiError::NotFound(format!(
            "partition {index} of {:?} has no result ({:?}): only a succeeded partition has output",
            e.id, part.state
        )));
    };
    if part.output_cut.is_some_and(|c| c.spilled_bytes > 0) {
        return Ok(OutputSource::File(file_of(&winner.id)));
    }
    let mut bytes = Vec::new();
    for l in &part.output {
        bytes.extend_from_slice(l.as_bytes());
        bytes.push(b'\n');
    }
    Ok(OutputSource::Kept(bytes))
}
