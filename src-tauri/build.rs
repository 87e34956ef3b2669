fn main() {
    // tauri.conf.json lives at the repository root: one source of truth for the build tooling,
    // the runtime (generate_context! below reads the same file) and the bundler.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri build script failed");
}
