//! A distributed task as a Slurm job array: one element per partition, each running that
//! partition's argv; each element's output in its own file; failed elements resubmitted by
//! index, within the task's attempt limit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use steward_core::dispatch::{PartitionInput, TaskSpec};

use crate::model::Job;
use crate::submit::JobRequest;

/// The array job for `indices` of `task`'s partitions. The script picks the element's argv by
/// `$SLURM_ARRAY_TASK_ID`; outputs go to `<out_dir>/<array id>_<index>.out`.
pub fn job_request(task: &TaskSpec, partitions: &[PartitionInput], indices: &[u32], out_dir: &Path) -> JobRequest {
    let mut script = String::from(
        "#!/bin/sh\n# One partition of a Steward task per array element.\ncase \"$SLURM_ARRAY_TASK_ID\" in\n",
    );
    for &i in indices {
        let argv = task.argv(i, &partitions[i as usize]);
        let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
        script.push_str(&format!("  {i}) exec {} ;;\n", line.join(" ")));
    }
    script.push_str("  *) echo \"no partition $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n");
    let mut environment: BTreeMap<String, String> = task.env.clone();
    environment.entry("PATH".into()).or_insert_with(|| "/usr/local/bin:/usr/bin:/bin".into());
    JobRequest {
        name: task.id.clone().unwrap_or_else(|| "steward-task".into()),
        cpus: task.cores.max(1),
        memory_mb: (task.memory_bytes > 0).then(|| task.memory_bytes.div_ceil(1 << 20)),
        gpus: task.gpus,
        time_limit_min: task.timeout_s.map(|s| s.div_ceil(60).max(1) as u32),
        nice: task.priority.map(|p| crate::mapping::nice(p.value())),
        array: Some(indices.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
        working_dir: task.working_dir.clone().unwrap_or_else(|| out_dir.display().to_string()),
        environment,
        output: Some(out_dir.join("%A_%a.out").display().to_string()),
        requeue: true,
        script,
        ..Default::default()
    }
}

/// Where an element's output went.
pub fn output_path(out_dir: &Path, array_job_id: u64, index: u32) -> PathBuf {
    out_dir.join(format!("{array_job_id}_{index}.out"))
}

/// How each element of an array ended: index → succeeded. Elements still queued or running are
/// absent.
pub fn outcomes(jobs: &[Job], array_job_id: u64) -> BTreeMap<u32, bool> {
    jobs.iter()
        .filter(|j| j.array_job_id == Some(array_job_id))
        .filter_map(|j| {
            let index = j.array_task_id? as u32;
            let ended = |s: &str| {
                ["completed", "failed", "timeout", "node_fail", "out_of_memory", "cancelled", "boot_fail", "deadline"]
                    .contains(&s)
            };
            let state = j.state.iter().find(|s| ended(s))?;
            Some((index, state == "completed" && j.exit_code.is_none_or(|c| c == 0)))
        })
        .collect()
}

/// A word for the shell, single-quoted so nothing in it is interpreted.
fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use steward_core::dispatch::{InputSpec, split};

    use super::*;

    #[test]
    fn each_element_runs_its_partition() {
        let task = TaskSpec::new(
            vec!["echo".into(), "{start}-{end}".into(), "it's".into()],
            InputSpec::Range { start: 0, end: 10 },
        );
        let parts = split(&task.input, 2);
        let job = job_request(&task, &parts, &[0, 1], Path::new("/o"));
        assert!(job.script.contains("  0) exec 'echo' '0-5' 'it'\\''s' ;;"), "{}", job.script);
        assert!(job.script.contains("  1) exec 'echo' '5-10'"));
        assert_eq!((job.array.as_deref(), job.output.as_deref()), (Some("0,1"), Some("/o/%A_%a.out")));
        let retry = job_request(&task, &parts, &[1], Path::new("/o"));
        assert!(!retry.script.contains("  0)"), "a retry runs only the failed element");
    }
}
