use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use steward_api::{AdapterProbe, ApiConfig, Steward};
use steward_server::{ServerConfig, serve_token};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback only; port 0 picks a free one).
    #[arg(long, env = "STEWARD_LISTEN", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    #[command(flatten)]
    common: CommonArgs,
    /// The built UI to serve (default: ui/dist of this checkout).
    #[arg(long, env = "STEWARD_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// The access token file, created (0600) on first start (default:
    /// <platform data dir>/steward/serve-token). Delete it and restart to rotate the token.
    #[arg(long, env = "STEWARD_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// The module API's Unix socket, for modules on this machine; calls need the access token
    /// (default: <platform data dir>/steward/modules.sock).
    #[arg(long, env = "STEWARD_MODULE_SOCKET")]
    module_socket: Option<PathBuf>,
}

#[derive(Args)]
pub struct UrlArgs {
    /// The running Steward's address.
    #[arg(long, env = "STEWARD_URL", default_value = "http://127.0.0.1:7878")]
    url: String,
    /// The access token file (default: <platform data dir>/steward/serve-token).
    #[arg(long, env = "STEWARD_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// Time between the two samples that rates are computed from, in ms.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

#[derive(Args)]
pub struct CommonArgs {
    /// History database (default: the platform data directory).
    #[arg(long, env = "STEWARD_DB")]
    db: Option<PathBuf>,
    /// Config file (TOML), e.g. a `[profile.thresholds]` section.
    #[arg(long, env = "STEWARD_CONFIG")]
    config: Option<PathBuf>,
}

impl CommonArgs {
    pub fn api_config(&self) -> Result<ApiConfig> {
        let mut config = ApiConfig { adapter_probe: AdapterProbe::this_executable(), ..ApiConfig::default() };
        if let Some(path) = &self.config {
            config.apply_file(path)?;
        }
        if let Some(db) = &self.db {
            config.db_path = db.clone();
        }
        Ok(config)
    }
}

pub fn serve(args: ServeArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let token_file = args.token_file.unwrap_or_else(serve_token::default_path);
    let (token, created) = serve_token::load_or_create(&token_file)?;
    let config = args.common.api_config()?;
    let db_path = config.db_path.clone();
    let steward =
        Steward::start(config).with_context(|| format!("cannot open the history database {}", db_path.display()))?;
    let ui_dir = crate::ui_dir::find(args.ui_dir);
    if ui_dir.is_none() {
        tracing::warn!("the UI is not built (no ui/dist/index.html); serving the API only — run `make ui`");
    }
    runtime.block_on(async {
        let config = ServerConfig { listen: args.listen, ui_dir, token: token.clone() };
        let bound = steward_server::bind(steward.clone(), config).await?;
        let module_socket = args.module_socket.unwrap_or_else(default_module_socket);
        let modules = steward_api::bind_module_socket(&module_socket).await?;
        // Tests and scripts read this line to find the port and the token; the browser trades
        // the token for a cookie on the first visit.
        println!("Steward is serving at {}", serve_token::login_url(&format!("http://{}", bound.addr), &token));
        let state = if created { "created" } else { "kept" };
        println!("Access token: {} ({state}; delete it and restart to rotate)", token_file.display());
        println!("History: {}", db_path.display());
        println!("Module socket: {}", module_socket.display());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let endpoint = steward_api::ModuleEndpoint::new(steward.module_hub());
        let until = async move {
            let _ = stopped.clone().wait_for(|s| *s).await;
        };
        let modules = tokio::spawn(async move { modules.serve(endpoint, &token, until).await });
        bound.serve(shutdown_signal()).await?;
        let _ = stop.send(true);
        if let Ok(Err(e)) = modules.await {
            tracing::warn!("{e}");
        }
        anyhow::Ok(())
    })?;
    steward.shutdown();
    Ok(())
}

/// `<platform data dir>/steward/modules.sock`, beside the default database and token.
fn default_module_socket() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("steward").join("modules.sock")
}

/// `stewardctl url`: the URL to open in a browser, access token included.
pub fn url(args: UrlArgs) -> Result<()> {
    let token = serve_token::read(&args.token_file.unwrap_or_else(serve_token::default_path))?;
    println!("{}", serve_token::login_url(&args.url, &token));
    Ok(())
}

pub fn snapshot(args: SnapshotArgs) -> Result<()> {
    let mut sampler = steward_telemetry::Sampler::new(&steward_telemetry::SamplerConfig::from_env());
    let now = || {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    };
    sampler.tick(now());
    std::thread::sleep(std::time::Duration::from_millis(args.interval_ms));
    let snap = sampler.tick(now());
    println!("{}", serde_json::to_string_pretty(&snap)?);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async move {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
