//! An attempt's output as the executor collects it from the watch stream: stdout lines kept up
//! to the execution's limits (the partition's result); past a limit the output is cut there,
//! said so, and the whole of it (bytes as the task wrote them) goes to a spill file the API
//! streams. Log lines for the UI's tail are shortened; gaps in the agent's line numbers (lines it
//! no longer held) are counted as lost, never passed over in silence.

use std::io::Write;
use std::path::{Path, PathBuf};

use steward_agent::proto::LogLine;
use steward_core::dispatch::{AttemptOutput, CutBy, OutputCut, OutputLimits};

use super::agent_io::{Line, classify};

/// Characters of one line shown in a partition's log tail.
const TAIL_LINE_CHARS: usize = 1000;

/// Per process attempt, while it runs.
#[derive(Default)]
pub(crate) struct Outputs(pub std::collections::BTreeMap<String, Collector>);

/// Where spill files live and how large one may grow.
#[derive(Debug, Clone)]
pub(crate) struct SpillDir {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

impl SpillDir {
    /// The spill file of `attempt` (attempt ids are made of `[A-Za-z0-9._-]`).
    pub(crate) fn file(&self, attempt: &str) -> PathBuf {
        let safe: String =
            attempt.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        self.dir.join(format!("{safe}.out"))
    }
}

/// One attempt's output so far.
pub(crate) struct Collector {
    max_lines: u64,
    max_bytes: u64,
    kept: Vec<String>,
    kept_bytes: u64,
    /// The stdout line read so far when it came in pieces (held only while within the limits).
    line: Vec<u8>,
    /// A stdout line is still coming (its first piece was read); per stream for stderr.
    continuing: [bool; 2],
    next_number: u64,
    total_lines: u64,
    total_bytes: u64,
    lost_lines: u64,
    cut_by: Option<CutBy>,
    spill: Option<Spill>,
}

struct Spill {
    file: Option<std::io::BufWriter<std::fs::File>>,
    path: PathBuf,
    written: u64,
    max_bytes: u64,
}

/// What one batch of lines means to the engine.
#[derive(Default)]
pub(crate) struct Observed {
    pub checkpoint: Option<String>,
    /// Lines for the log tail (shortened).
    pub tail: Vec<String>,
}

impl Collector {
    pub(crate) fn new(limits: OutputLimits, defaults: OutputLimits) -> Collector {
        let limits = limits.or(defaults);
        Collector {
            max_lines: limits.max_lines.unwrap_or(u64::MAX),
            max_bytes: limits.max_bytes.unwrap_or(u64::MAX),
            kept: Vec::new(),
            kept_bytes: 0,
            line: Vec::new(),
            continuing: [false; 2],
            next_number: 0,
            total_lines: 0,
            total_bytes: 0,
            lost_lines: 0,
            cut_by: None,
            spill: None,
        }
    }

    /// Takes the lines of one watch event; `spill` is where the whole output goes once cut.
    pub(crate) fn take(&mut self, lines: &[LogLine], spill: &SpillDir, attempt: &str) -> Observed {
        let mut seen = Observed::default();
        for l in lines {
            // A re-attached stream may repeat what was seen; a gap is what the agent dropped.
            if l.number < self.next_number {
                continue;
            }
            if l.number > self.next_number {
                self.lost_lines += l.number - self.next_number;
                self.cut_by.get_or_insert(CutBy::Loss);
            }
            self.next_number = l.number + 1;
            let stream = usize::from(l.stderr);
            let first_piece = !self.continuing[stream];
            self.continuing[stream] = l.partial;
            if first_piece {
                seen.tail.push(shortened(&l.data, l.partial));
            }
            if l.stderr {
                continue;
            }
            if first_piece && !l.partial {
                let text = String::from_utf8_lossy(&l.data);
                match classify(&text, false) {
                    Line::Checkpoint(t) => {
                        seen.checkpoint = Some(t.to_string());
                        continue;
                    }
                    Line::Control | Line::Stderr => continue,
                    Line::Output => {}
                }
            }
            self.output(&l.data, l.partial, spill, attempt);
        }
        seen
    }

    /// A stdout piece that belongs to the result.
    fn output(&mut self, data: &[u8], partial: bool, spill: &SpillDir, attempt: &str) {
        self.total_bytes += data.len() as u64;
        if !partial {
            self.total_lines += 1;
        }
        if let Some(s) = &mut self.spill {
            return s.write(data, partial);
        }
        let bytes = self.kept_bytes + (self.line.len() + data.len()) as u64;
        let lines = self.kept.len() as u64 + u64::from(!partial);
        if bytes > self.max_bytes || lines > self.max_lines {
            self.cut_by = Some(if bytes > self.max_bytes { CutBy::Bytes } else { CutBy::Lines });
            let mut s = Spill::open(spill.file(attempt), spill.max_bytes, &self.kept);
            s.write(&self.line, true);
            s.write(data, partial);
            self.line.clear();
            self.spill = Some(s);
            return;
        }
        self.line.extend_from_slice(data);
        if !partial {
            self.kept_bytes += self.line.len() as u64;
            self.kept.push(String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned());
        }
    }

    /// The attempt ended: its result and, if it was cut, where and by how much.
    pub(crate) fn finish(mut self) -> AttemptOutput {
        // A last line without a newline that never ended (the stream stopped mid-line).
        if !self.line.is_empty() && self.spill.is_none() {
            self.kept_bytes += self.line.len() as u64;
            self.kept.push(String::from_utf8_lossy(&self.line).into_owned());
            self.total_lines += 1;
        }
        let spilled_bytes = self.spill.take().map_or(0, Spill::close);
        let cut = self.cut_by.map(|by| OutputCut {
            kept_lines: self.kept.len() as u64,
            kept_bytes: self.kept_bytes,
            total_lines: self.total_lines,
            total_bytes: self.total_bytes,
            by,
            spilled_bytes,
            lost_lines: self.lost_lines,
        });
        AttemptOutput { lines: self.kept, cut }
    }

    /// Gives up on this attempt's output (it failed, lost, or lost the race): no spill file.
    pub(crate) fn discard(self) {
        if let Some(s) = self.spill {
            let path = s.path.clone();
            drop(s);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Spill {
    /// A new spill file holding the lines kept so far; a file that cannot be made is said in
    /// the log and the cut reports 0 bytes spilled.
    fn open(path: PathBuf, max_bytes: u64, kept: &[String]) -> Spill {
        let file = create_private(&path)
            .map_err(|e| tracing::warn!("cannot spill output to {}: {e}", path.display()))
            .ok()
            .map(std::io::BufWriter::new);
        let mut s = Spill { file, path, written: 0, max_bytes };
        for l in kept {
            s.write(l.as_bytes(), false);
        }
        s
    }

    fn write(&mut self, data: &[u8], partial: bool) {
        let Some(f) = &mut self.file else { return };
        let newline: &[u8] = if partial { b"" } else { b"\n" };
        let room = self.max_bytes.saturating_sub(self.written);
        let wanted = (data.len() + newline.len()) as u64;
        if wanted > room {
            // Full: the file ends here; the cut's numbers still count everything.
            self.file = None;
            return;
        }
        if f.write_all(data).and_then(|()| f.write_all(newline)).is_err() {
            self.file = None;
            return;
        }
        self.written += wanted;
    }

    fn close(mut self) -> u64 {
        if let Some(f) = &mut self.file {
            let _ = f.flush();
        }
        self.written
    }
}

/// Created 0600: output may hold secrets the task printed.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

/// A line as the log tail shows it: lossy UTF-8, at most [`TAIL_LINE_CHARS`] characters.
fn shortened(data: &[u8], continues: bool) -> String {
    let text = String::from_utf8_lossy(data);
    match text.char_indices().nth(TAIL_LINE_CHARS) {
        Some((at, _)) => format!("{}… (line cut for display)", &text[..at]),
        None if continues => format!("{text}… (line cut for display)"),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(number: u64, data: &[u8], partial: bool) -> LogLine {
        LogLine { number, stderr: false, data: data.to_vec(), partial }
    }

    fn spill(dir: &tempfile::TempDir) -> SpillDir {
        SpillDir { dir: dir.path().to_owned(), max_bytes: 1 << 20 }
    }

    fn limits(lines: u64, bytes: u64) -> OutputLimits {
        OutputLimits { max_lines: Some(lines), max_bytes: Some(bytes) }
    }

    #[test]
    fn output_past_the_line_limit_is_cut_said_so_and_spilled_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::new(limits(2, 1000), OutputLimits::default());
        let lines: Vec<LogLine> = (0..5).map(|i| line(i, format!("l{i}").as_bytes(), false)).collect();
        c.take(&lines, &spill(&dir), "x.p0.a1");
        let out = c.finish();
        assert_eq!(out.lines, ["l0", "l1"]);
        let cut = out.cut.unwrap();
        assert_eq!((cut.kept_lines, cut.total_lines, cut.by, cut.lost_lines), (2, 5, CutBy::Lines, 0));
        assert_eq!(std::fs::read(dir.path().join("x.p0.a1.out")).unwrap(), b"l0\nl1\nl2\nl3\nl4\n");
        assert_eq!(cut.spilled_bytes, 15);
    }

    #[test]
    fn a_long_line_in_pieces_is_cut_by_bytes_and_its_bytes_kept_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::new(limits(100, 10), OutputLimits::default());
        c.take(
            &[line(0, b"ok", false), line(1, b"aaaaaaaa", true), line(2, b"a\xffa", true), line(3, b"z", false)],
            &spill(&dir),
            "a",
        );
        let out = c.finish();
        assert_eq!(out.lines, ["ok"]);
        let cut = out.cut.unwrap();
        assert_eq!((cut.by, cut.kept_bytes, cut.total_bytes, cut.total_lines), (CutBy::Bytes, 2, 14, 2));
        assert_eq!(std::fs::read(dir.path().join("a.out")).unwrap(), b"ok\naaaaaaaaa\xffaz\n");
    }

    #[test]
    fn within_the_limits_nothing_is_cut_and_bad_bytes_show_as_replacements() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::new(OutputLimits::default(), limits(10, 100));
        let seen = c.take(&[line(0, b"x\xffy", false), line(1, b"STEWARD_CHECKPOINT 7", false)], &spill(&dir), "a");
        assert_eq!(seen.checkpoint.as_deref(), Some("7"));
        let out = c.finish();
        assert_eq!((out.lines, out.cut), (vec!["x\u{fffd}y".to_string()], None));
        assert!(!dir.path().join("a.out").exists());
    }

    #[test]
    fn lines_the_agent_no_longer_held_are_counted_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::new(OutputLimits::default(), limits(10, 100));
        c.take(&[line(0, b"a", false), line(5, b"b", false), line(5, b"b", false)], &spill(&dir), "a");
        let out = c.finish();
        assert_eq!(out.lines, ["a", "b"]);
        let cut = out.cut.unwrap();
        assert_eq!((cut.by, cut.lost_lines, cut.spilled_bytes), (CutBy::Loss, 4, 0));
    }

    #[test]
    fn a_spill_file_stops_at_its_size_limit_but_the_cut_counts_everything() {
        let dir = tempfile::tempdir().unwrap();
        let small = SpillDir { dir: dir.path().to_owned(), max_bytes: 6 };
        let mut c = Collector::new(limits(1, 100), OutputLimits::default());
        c.take(&[line(0, b"ab", false), line(1, b"cd", false), line(2, b"ef", false)], &small, "a");
        let cut = c.finish().cut.unwrap();
        assert_eq!((cut.total_lines, cut.total_bytes, cut.spilled_bytes), (3, 6, 6));
    }
}
