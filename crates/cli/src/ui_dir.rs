//! Finding the built UI (`ui/dist`) without configuration.

use std::path::{Path, PathBuf};

/// The first of: the explicit path, `ui/dist` above the running binary (a source checkout's
/// `target/<profile>/stewardctl`), `ui/dist` under the current directory, and the checkout this
/// binary was built from.
pub fn find(explicit: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p);
    }
    let has_index = |d: &Path| d.join("index.html").is_file();
    let from_exe =
        std::env::current_exe().ok().and_then(|exe| exe.ancestors().map(|a| a.join("ui/dist")).find(|d| has_index(d)));
    let from_cwd = std::env::current_dir().ok().map(|d| d.join("ui/dist")).filter(|d| has_index(d));
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
    from_exe.or(from_cwd).or_else(|| has_index(&built_from).then_some(built_from))
}
