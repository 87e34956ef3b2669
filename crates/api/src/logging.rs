//! Logging set-up shared by every binary, so the desktop app and `stewardctl` log alike.

/// Default filter: our own info, and silence for wgpu's probing of backends that a machine
/// lacks (an EGL failure on a headless box is expected, not an error worth showing).
const DEFAULT_FILTER: &str = "info,wgpu_hal=off,wgpu_core=warn,naga=warn";

/// Logs to stderr, filtered by `STEWARD_LOG` (tracing's env-filter syntax), as JSON lines when
/// `json` is set.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
