//! `relais`: serve the hub from a configuration file, or run the whole demo platform.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use relais::config::{process_env, Config, LogFormat};
use relais::launch::{assemble, key_store, SystemClock};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "relais", version, about = "Relais: identity federation and data-exchange hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub.
    Serve {
        /// The configuration file.
        #[arg(long, short, default_value = "relais.toml", env = "RELAIS_CONFIG")]
        config: PathBuf,
    },
    /// Run the hub, three mock identity providers and the demo service on localhost.
    Demo {
        /// The hub's port; the demo service listens on the next one, the mock IdPs after it.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Where to keep the demo's keys and configuration (default: a temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Check a configuration file and exit.
    CheckConfig {
        /// The configuration file.
        #[arg(long, short, default_value = "relais.toml", env = "RELAIS_CONFIG")]
        config: PathBuf,
    },
}

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_env("RELAIS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config } => {
            let config = Config::load(&config, &process_env)?;
            init_logs(config.log_format);
            let state = assemble(&config, &key_store(&config), Arc::new(SystemClock)).await?;
            let listener = tokio::net::TcpListener::bind(config.listen).await?;
            tracing::info!(listen = %config.listen, issuer = %config.settings.issuer, "relais hub listening");
            relais_server::serve(listener, state).await?;
        }
        Command::Demo { port, data_dir } => {
            init_logs(LogFormat::Text);
            relais::demo::run(port, data_dir).await?;
        }
        Command::CheckConfig { config } => {
            let config = Config::load(&config, &process_env)?;
            println!(
                "configuration valid: {} identity providers, {} service providers",
                config.identity_providers.len(),
                config.service_providers.len()
            );
        }
    }
    Ok(())
}
