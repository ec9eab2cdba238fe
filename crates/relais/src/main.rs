//! `relais`: serve the hub from a configuration file, run the whole demo platform, apply the
//! database migrations, rotate the signing keys, call the admin API of a running hub.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use relais::config::{process_env, Config, LogFormat};
use relais::launch::{
    assemble, open_database, shutdown_signal, spawn_checkpointer, spawn_configuration_reloader, spawn_key_reloader,
    SystemClock, SIGNING_ALGORITHMS,
};
use relais_domain::trace::verify_chain;
use relais_domain::Clock;
use relais_store::{KeyStore, SealingKey, TraceStore};
use tracing_subscriber::EnvFilter;

// mimalloc rather than the system allocator: each request boxes futures of a few kilobytes
// (axum's middleware), and glibc's allocator spent a quarter of the hub's CPU on them in the
// checktoken profile (`_int_malloc`, `malloc_consolidate`); see docs/benchmark.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "relais", version, about = "Relais: identity federation and data-exchange hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The configuration file.
    #[arg(long, short, default_value = "relais.toml", env = "RELAIS_CONFIG")]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub.
    Serve(ConfigArg),
    /// Run the hub, three mock identity providers and the demo service on localhost.
    Demo {
        /// The hub's port; the demo service listens on the next one, the mock IdPs after it.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Where to keep the demo's database and configuration (default: a temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Check a configuration file and exit. Offline unless `--online`.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
        /// Also fetch every identity provider's discovery document and keys, and report what
        /// each offers the hub (exit code 1 if one fails).
        #[arg(long)]
        online: bool,
    },
    /// Apply the database migrations and exit (`serve` applies them too).
    Migrate(ConfigArg),
    /// Manage the hub's keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Call the operator admin API of a running hub (`/api/admin/`).
    Admin(relais::admin::AdminArgs),
    /// The notifications to administrations of a running hub: subscriptions, dead letters,
    /// replay (through the admin API).
    Webhooks(relais::admin::WebhooksArgs),
    /// Work on the traces.
    Traces {
        #[command(subcommand)]
        command: TracesCommand,
    },
}

#[derive(Subcommand)]
enum TracesCommand {
    /// Check that no trace was edited or removed: the hash chain, and against a signed
    /// checkpoint, that none of the newest was removed; exits with 1 if one was.
    Verify {
        #[command(flatten)]
        config: ConfigArg,
        /// A checkpoint kept elsewhere: a file holding its JWT (or the JSON of
        /// `/traces/checkpoint`, or a `relais::checkpoint` JSON log line), or the JWT itself.
        #[arg(long)]
        checkpoint: Option<String>,
        /// Where to fetch the checkpoint without `--checkpoint` (default: the hub's own
        /// `{issuer}/traces/checkpoint`).
        #[arg(long)]
        checkpoint_url: Option<url::Url>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the signing keys and their dates.
    List(ConfigArg),
    /// Add new signing keys: published at once, signing after `--publish-for` seconds; the old
    /// ones stay published until the tokens they signed have expired.
    Rotate {
        #[command(flatten)]
        config: ConfigArg,
        /// Seconds between publication and first signature (JWKS caches must refresh first).
        #[arg(long, default_value_t = 600)]
        publish_for: u64,
    },
    /// Print a new random key for `storage.ephemeral_encryption_keys`.
    EphemeralKey {
        /// The key's id.
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Print a new random key-encryption key for `storage.key_encryption_keys` (or
    /// `RELAIS_KEY_ENCRYPTION_KEYS`, or a line of `storage.key_encryption_keys_file`): it seals
    /// the hub's private signing keys and its client secrets at identity providers in the
    /// registry. Every node needs the same keys; to rotate, put the new key first and keep the
    /// old one after it until every node has restarted.
    EncryptionKey {
        /// The key's id.
        #[arg(long, default_value = "kek1")]
        id: String,
    },
    /// Print a new signing secret for a `[[webhooks]]` subscription (`whsec_` and 32 random
    /// bytes, as Standard Webhooks' libraries read it).
    WebhookSecret,
}

/// The log format in force, once the configuration said it (text until then).
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_env("RELAIS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = LOG_FORMAT.set(format);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The one line of an error that stops `relais`, on standard error: text, or under
/// `log_format = "json"` a JSON log line like every other.
fn report_fatal(error: &anyhow::Error) {
    let message = format!("{error:#}");
    if LOG_FORMAT.get() == Some(&LogFormat::Json) {
        unfiltered_json(std::io::stderr, || tracing::error!(error = %message, "relais stopped"));
    } else {
        eprintln!("relais: {message}");
    }
}

/// The line that says where the hub listens, whatever `RELAIS_LOG` filters: in text,
/// `relais hub listening on ADDRESS` (what scripts wait for), under JSON logs a JSON line whose
/// message is that text, with `listen` and `issuer`.
fn banner(format: LogFormat, address: std::net::SocketAddr, issuer: &url::Url) {
    let message = format!("relais hub listening on {address}");
    match format {
        LogFormat::Text => {
            tracing::info!(listen = %address, %issuer, "relais hub listening");
            println!("{message}");
        }
        LogFormat::Json => unfiltered_json(std::io::stdout, || tracing::info!(listen = %address, %issuer, "{message}")),
    }
}

/// Runs `log` with a JSON subscriber of its own writing to `writer`, which `RELAIS_LOG` does not
/// filter (the lines an operator must always see).
fn unfiltered_json<W>(writer: fn() -> W, log: impl FnOnce())
where
    W: std::io::Write + 'static,
{
    let subscriber = tracing_subscriber::fmt().json().with_writer(writer).finish();
    tracing::subscriber::with_default(subscriber, log);
}

/// Errors end the process with one line (`RUST_BACKTRACE` or not) and exit code 1.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("relais: cannot start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            report_fatal(&error);
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(ConfigArg { config: path }) => {
            let config = Config::load(&path, &process_env)?;
            init_logs(config.log_format);
            if config.storage.key_encryption_derived {
                tracing::info!(
                    "the signing keys are sealed with a key derived from hub.pairwise_secret; \
                     set storage.key_encryption_keys to keep them apart (relais keys encryption-key)"
                );
            }
            let hub = Arc::new(assemble(&config, Arc::new(SystemClock)).await?);
            let state = hub.state.clone();
            spawn_key_reloader(state.clone());
            spawn_configuration_reloader(hub, path);
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {} (hub.listen)", config.listen))?;
            let address = listener.local_addr()?;
            banner(config.log_format, address, &config.settings.issuer);
            spawn_checkpointer(state.clone());
            relais::launch::spawn_provider_checker(state.clone());
            relais::launch::spawn_webhook_sender(state.clone());
            relais_server::serve_until(listener, state.clone(), shutdown_signal()).await?;
            tracing::info!("relais hub stopping");
            if let Err(error) = state.checkpoint_traces().await {
                tracing::error!(target: "relais::checkpoint", %error, "no trace checkpoint at shutdown");
            }
        }
        Command::Admin(args) => println!("{}", relais::admin::run(args).await?),
        Command::Webhooks(args) => println!("{}", relais::admin::run_webhooks(args).await?),
        Command::Demo { port, data_dir } => {
            init_logs(LogFormat::Text);
            relais::demo::run(port, data_dir).await?;
        }
        Command::CheckConfig { config: ConfigArg { config }, online } => {
            let config = Config::load(&config, &process_env)?;
            println!(
                "configuration valid: {} identity providers, {} service providers",
                config.identity_providers.len(),
                config.service_providers.len()
            );
            if online {
                let failed = relais::launch::check_identity_providers(&config).await?;
                if failed > 0 {
                    anyhow::bail!("{failed} identity provider(s) could not be used");
                }
            }
        }
        Command::Migrate(ConfigArg { config }) => {
            let config = Config::load(&config, &process_env)?;
            open_database(&config).await?;
            println!("database up to date");
        }
        Command::Keys { command: KeysCommand::List(ConfigArg { config }) } => {
            let config = Config::load(&config, &process_env)?;
            let sql = open_database(&config).await?;
            for key in sql.load().await? {
                let retire = key.retire_at.map_or("-".to_owned(), |t| t.to_string());
                println!(
                    "{} {} created {} signs-from {} retires {}",
                    key.kid, key.alg, key.created_at, key.not_before, retire
                );
            }
        }
        Command::Keys { command: KeysCommand::Rotate { config, publish_for } } => {
            let config = Config::load(&config.config, &process_env)?;
            let sql = open_database(&config).await?;
            let now = SystemClock.now().0;
            // Tokens signed by an old key live at most the ID token lifetime.
            let keep_for = relais_server::keys::keep_replaced_for(config.settings.id_token_lifetime);
            let added = relais_server::keys::rotate(&sql, &SIGNING_ALGORITHMS, now, publish_for, keep_for).await?;
            println!("new keys {} published; they sign from {}", added.join(", "), now + publish_for);
        }
        Command::Keys { command: KeysCommand::EphemeralKey { id } | KeysCommand::EncryptionKey { id } } => {
            println!("{}", SealingKey::generate_text(&id));
        }
        Command::Keys { command: KeysCommand::WebhookSecret } => {
            let secret = relais_domain::webhook::WebhookSecret::from_random(relais_oidc::random::random_bytes());
            println!("{}", secret.expose());
        }
        Command::Traces {
            command: TracesCommand::Verify { config: ConfigArg { config }, checkpoint, checkpoint_url },
        } => {
            let config = Config::load(&config, &process_env)?;
            let sql = open_database(&config).await?;
            let records = sql.all().await?;
            let mut problems = verify_chain(&records);
            let issuer = config.settings.issuer.as_str().trim_end_matches('/').to_owned();
            let jwt = match checkpoint {
                Some(given) => Ok(relais::traces::checkpoint_jwt(&given)?),
                None => {
                    let url = checkpoint_url.unwrap_or_else(|| relais::traces::checkpoint_url(&config.settings.issuer));
                    relais::traces::fetch_checkpoint(&url).await.map_err(|error| (url, error))
                }
            };
            match jwt {
                Ok(jwt) => {
                    let keys = relais_server::keys::load(&sql).await?;
                    let checked = relais_oidc::checkpoint::verify(&keys, &issuer, &jwt)
                        .map_err(|error| anyhow::anyhow!("the checkpoint is not one this hub signed: {error}"))?;
                    println!(
                        "checkpoint of {} ({}): {} traces, head {}",
                        checked.at.0,
                        relais_domain::civil_time::ParisTime::of(checked.at).rfc3339(),
                        checked.count,
                        checked.head
                    );
                    if let Err(problem) = checked.check_chain(&records) {
                        problems.push(problem);
                    }
                }
                Err((url, error)) => println!(
                    "warning: no checkpoint ({url}: {error}); records removed from the end of the chain cannot be \
                     found without one (pass --checkpoint)"
                ),
            }
            if problems.is_empty() {
                println!("{} traces, chain intact", records.len());
            } else {
                for problem in &problems {
                    println!("{}", relais::traces::describe(problem));
                }
                println!("{} traces, {} problems", records.len(), problems.len());
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
