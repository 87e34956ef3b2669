fn main() {
    // src-tauri/tauri.conf.json is a symlink to the repository root's tauri.conf.json: one source
    // of truth that the build script, `generate_context!` and the Tauri CLI all find in the app
    // crate's directory (the CLI insists on a directory with a [package] Cargo.toml). Paths in
    // it are therefore relative to src-tauri/.
    tauri_build::build();
}
