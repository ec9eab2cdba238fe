//! `relais-bench compare`: Relais and the reference OpenID provider (`oidc-provider`, npm) side
//! by side in one run, each server pinned to core 0 and this load generator to core 1
//! (`bench/run` does the pinning), alternately, after a warm-up, each figure the median of
//! several rounds. Writes a Markdown and a JSON report.

mod floor;
mod flows;
mod hub;
mod load;
mod memory;
mod outbox;
mod pages;
mod person;
mod process;
mod report;
mod vu;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use flows::{establish_session, FederatedFlow, IntrospectionFlow, Provider, SsoFlow, TrivialFlow};
use hub::{start_hub, SP_SECRET};
use load::{closed_loop, fixed_rate, Flow, RunResult};
use serde_json::{json, Value};
use url::Url;
use vu::VirtualUser;

#[derive(Parser)]
#[command(name = "relais-bench", about = "Relais against oidc-provider, side by side")]
struct Cli {
    /// A few seconds in all, both systems: for CI, so the benchmark cannot rot.
    #[arg(long)]
    smoke: bool,
    /// The relais binary (release build).
    #[arg(long, default_value = "target/release/relais")]
    relais: String,
    /// The folder of the peer (`npm ci` done).
    #[arg(long, default_value = "bench/peer")]
    peer: PathBuf,
    /// Where to write the report.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Redis for the per-session memory in Redis (skipped when absent).
    #[arg(long, env = "RELAIS_BENCH_REDIS_URL")]
    redis: Option<String>,
    /// Only these workloads (for profiling one of them); the report then goes to `partial.*`.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Workload>,
    /// PostgreSQL for the outbox workload on PostgreSQL (skipped when absent).
    #[arg(long, env = "RELAIS_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Seconds per measured round instead of the mode's default (e.g. long rounds under `perf`).
    #[arg(long)]
    seconds: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Sso,
    Full,
    Checktoken,
    Memory,
    Floor,
    Agent,
    Pages,
    Outbox,
}

impl Cli {
    fn runs(&self, workload: Workload) -> bool {
        self.only.is_empty() || self.only.contains(&workload)
    }
}

struct Settings {
    users: usize,
    duration: Duration,
    rounds: usize,
    sessions: usize,
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", "127.0.0.1:0".parse()?)
        .pool_max_idle_per_host(4)
        .build()?)
}

fn users(count: usize) -> anyhow::Result<Vec<VirtualUser>> {
    (0..count).map(|_| Ok(VirtualUser::new(http()?))).collect()
}

async fn discover(issuer: &str, client_id: &str, secret: &str) -> anyhow::Result<(Provider, Value)> {
    let metadata: Value =
        http()?.get(format!("{issuer}/.well-known/openid-configuration")).send().await?.json().await?;
    let endpoint =
        |name: &str| -> anyhow::Result<Url> { Ok(Url::parse(metadata[name].as_str().context(name.to_owned())?)?) };
    Ok((
        Provider {
            authorize: endpoint("authorization_endpoint")?,
            token: endpoint("token_endpoint")?,
            userinfo: endpoint("userinfo_endpoint")?,
            client_id: client_id.into(),
            secret: secret.into(),
            redirect_uri: "https://sp.example/callback".into(),
        },
        metadata,
    ))
}

/// One measurement: the flow's run and the server's CPU during it.
#[derive(Clone, Debug, serde::Serialize)]
struct Measured {
    run: RunResult,
    cpu_seconds: f64,
    cpu_ms_per_flow: f64,
}

async fn measure(
    flow: Arc<dyn Flow>,
    users: Vec<VirtualUser>,
    pid: u32,
    duration: Duration,
    rate: Option<f64>,
) -> (Measured, Vec<VirtualUser>) {
    let before = process::cpu_seconds(pid);
    let (run, users) = match rate {
        Some(rate) => fixed_rate(flow, users, rate, duration).await,
        None => closed_loop(flow, users, duration).await,
    };
    let cpu_seconds = process::cpu_seconds(pid) - before;
    let cpu_ms_per_flow = if run.flows > 0 { cpu_seconds * 1000.0 / run.flows as f64 } else { 0.0 };
    (Measured { run, cpu_seconds, cpu_ms_per_flow }, users)
}

fn median(mut rounds: Vec<Measured>) -> Measured {
    rounds.sort_by(|a, b| a.run.flows_per_second.total_cmp(&b.run.flows_per_second));
    rounds[rounds.len() / 2].clone()
}

struct System {
    name: &'static str,
    pid: u32,
    flow: Arc<dyn Flow>,
    users: Vec<VirtualUser>,
}

/// Saturation (closed loop, median of rounds, the systems alternately) then latency at a fixed
/// rate both can hold (half the slower one's saturation).
async fn compare(systems: &mut [System], settings: &Settings) -> anyhow::Result<Value> {
    for system in systems.iter_mut() {
        let (_, users) =
            measure(system.flow.clone(), std::mem::take(&mut system.users), system.pid, settings.duration / 2, None)
                .await;
        system.users = users;
    }
    let mut rounds: Vec<Vec<Measured>> = vec![Vec::new(); systems.len()];
    for _ in 0..settings.rounds {
        for (index, system) in systems.iter_mut().enumerate() {
            let (measured, users) =
                measure(system.flow.clone(), std::mem::take(&mut system.users), system.pid, settings.duration, None)
                    .await;
            system.users = users;
            rounds[index].push(measured);
        }
    }
    let saturation: Vec<Measured> = rounds.into_iter().map(median).collect();
    let rate = (saturation.iter().map(|m| m.run.flows_per_second).fold(f64::MAX, f64::min) * 0.5).max(1.0).floor();
    let mut results = serde_json::Map::new();
    for (index, system) in systems.iter_mut().enumerate() {
        let (fixed, users) =
            measure(system.flow.clone(), std::mem::take(&mut system.users), system.pid, settings.duration, Some(rate))
                .await;
        system.users = users;
        results.insert(system.name.into(), json!({ "saturation": saturation[index], "fixed_rate": fixed }));
    }
    results.insert("fixed_rate_per_second".into(), json!(rate));
    Ok(Value::Object(results))
}

/// A workload run and measured, or, when it is not selected but `feed` is (a later workload
/// needs the tokens it makes), run for a second unmeasured.
async fn workload(systems: &mut [System], settings: &Settings, run: bool, feed: bool) -> anyhow::Result<Value> {
    if run {
        return compare(systems, settings).await;
    }
    if feed {
        for system in systems.iter_mut() {
            let (_, users) =
                closed_loop(system.flow.clone(), std::mem::take(&mut system.users), Duration::from_secs(1)).await;
            system.users = users;
        }
    }
    Ok(json!(null))
}

/// The ID token algorithms measured, and the service registered with each at both systems:
/// RS256 first, the default (what an SP naming none gets, OpenID Connect Core 3.1.3.7).
const ALGORITHMS: [(&str, &str); 2] = [("RS256", "bench-sp-rs256"), ("ES256", "bench-sp")];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = if cli.smoke {
        Settings { users: 4, duration: Duration::from_millis(800), rounds: 1, sessions: 160 }
    } else {
        Settings { users: 32, duration: Duration::from_secs(4), rounds: 3, sessions: 20_000 }
    };
    let settings = match cli.seconds {
        Some(seconds) => Settings { duration: Duration::from_secs_f64(seconds.max(0.1)), ..settings },
        None => settings,
    };
    let machine = process::describe_machine();
    eprintln!("machine: {machine}");

    // The servers.
    let (hub, hub_issuer, _idp, _dir) = start_hub(&cli, None).await?;
    let peer_script = cli.peer.join("server.mjs").display().to_string();
    let (peer, peer_address) =
        process::start("node", &[&peer_script], 0, &[("PORT", "0".into())], "peer listening on").await?;
    let peer_port = peer_address.rsplit(':').next().unwrap_or_default().to_owned();
    let peer_issuer = format!("http://localhost:{peer_port}");
    let (_, peer_metadata) = discover(&peer_issuer, "bench-sp", SP_SECRET).await?;
    let hub_url = Url::parse(&hub_issuer)?;

    // The load generator's own ceiling.
    let trivial: Arc<dyn Flow> = Arc::new(TrivialFlow { url: hub_url.join("/healthz")? });
    let (baseline, _) = measure(trivial, users(settings.users)?, hub.pid, settings.duration, None).await;
    eprintln!("trivial endpoint: {:.0} requests/s", baseline.run.flows_per_second);

    // 1. SSO sign-in: sessions established first, then authorization → code → token → userinfo;
    // for each ID token algorithm, each system's service registered with it (RS256 first: the
    // default, what an SP naming none gets).
    let federated = |provider: &Provider,
                     scope: &str,
                     transfer: Option<&str>,
                     tokens: Option<Arc<Mutex<Vec<String>>>>,
                     keep_session: bool| FederatedFlow {
        provider: provider.clone(),
        hub: hub_url.clone(),
        idp: "mock".into(),
        scope: scope.into(),
        transfer: transfer.map(str::to_owned),
        tokens,
        keep_session,
        email: None,
    };
    let feed = cli.runs(Workload::Checktoken);
    let peer_tokens = Arc::new(Mutex::new(Vec::new()));
    let mut sso_results = serde_json::Map::new();
    for (alg, client_id) in ALGORITHMS {
        let (relais_sp, _) = discover(&hub_issuer, client_id, SP_SECRET).await?;
        let (peer_sp, _) = discover(&peer_issuer, client_id, SP_SECRET).await?;
        let mut relais_users = users(settings.users)?;
        let setup = federated(&relais_sp, "openid profile", None, None, true);
        for vu in relais_users.iter_mut() {
            setup.run(vu).await.context("Relais session setup")?;
        }
        let mut peer_users = users(settings.users)?;
        for vu in peer_users.iter_mut() {
            establish_session(&peer_sp, "openid profile", vu).await.context("peer session setup")?;
        }
        // The peer's ES256 tokens feed its introspection workload.
        let tokens = (alg == "ES256").then(|| peer_tokens.clone());
        let mut sso = vec![
            System {
                name: "relais",
                pid: hub.pid,
                flow: Arc::new(SsoFlow { provider: relais_sp.clone(), scope: "openid profile".into(), tokens: None }),
                users: relais_users,
            },
            System {
                name: "peer",
                pid: peer.pid,
                flow: Arc::new(SsoFlow { provider: peer_sp.clone(), scope: "openid profile".into(), tokens }),
                users: peer_users,
            },
        ];
        let result = workload(&mut sso, &settings, cli.runs(Workload::Sso), feed && alg == "ES256").await?;
        eprintln!("sso {alg}: {result}");
        sso_results.insert(alg.to_owned(), result);
    }

    // 2. Full federated sign-in (Relais), with consent to one data transfer, for each algorithm.
    let relais_tokens = Arc::new(Mutex::new(Vec::new()));
    let mut full_results = serde_json::Map::new();
    for (alg, client_id) in ALGORITHMS {
        let (relais_sp, _) = discover(&hub_issuer, client_id, SP_SECRET).await?;
        let tokens = (alg == "ES256").then(|| relais_tokens.clone());
        let mut full = vec![System {
            name: "relais",
            pid: hub.pid,
            flow: Arc::new(federated(
                &relais_sp,
                "openid profile quotient_familial",
                Some("bench-dp:quotient_familial"),
                tokens,
                false,
            )),
            users: users(settings.users)?,
        }];
        let result = workload(&mut full, &settings, cli.runs(Workload::Full), feed && alg == "ES256").await?;
        eprintln!("full {alg}: {result}");
        full_results.insert(alg.to_owned(), result);
    }

    // 2b. The agent sign-in (Relais, agent federation at `/agents`): e-mail page, the agent
    // directory, callback (the domain checked), the habilitation checked, code, token,
    // userinfo; RS256, beside the citizens' full sign-in RS256 (choice, IdP, consent).
    let agent_tokens = Arc::new(Mutex::new(Vec::new()));
    let agent_result = if cli.runs(Workload::Agent) {
        let (agent_sp, _) = discover(&format!("{hub_issuer}/agents"), "bench-agent", SP_SECRET).await?;
        let flow = FederatedFlow {
            email: Some(hub::AGENT_EMAIL.into()),
            tokens: Some(agent_tokens.clone()),
            ..federated(&agent_sp, "openid given_name usual_name email uid siret quotient_familial", None, None, false)
        };
        let mut agents =
            vec![System { name: "relais", pid: hub.pid, flow: Arc::new(flow), users: users(settings.users)? }];
        let result = workload(&mut agents, &settings, true, true).await?;
        eprintln!("agent sign-in: {result}");
        result
    } else {
        json!(null)
    };

    // 3. Checktoken (Relais) and token introspection (peer), over tokens made above.
    let introspection_url =
        Url::parse(peer_metadata["introspection_endpoint"].as_str().context("peer introspection endpoint")?)?;
    let mut introspection = vec![
        System {
            name: "relais",
            pid: hub.pid,
            flow: Arc::new(IntrospectionFlow::of_bench_dp(hub_url.join("/checktoken")?, &relais_tokens)),
            users: users(settings.users)?,
        },
        System {
            name: "peer",
            pid: peer.pid,
            flow: Arc::new(IntrospectionFlow::of_bench_dp(introspection_url, &peer_tokens)),
            users: users(settings.users)?,
        },
    ];
    let introspection_results = workload(&mut introspection, &settings, feed, false).await?;
    eprintln!("checktoken: {introspection_results}");
    // An agent's token at checktoken: the habilitation read and checked again.
    let agent_checktoken = if cli.runs(Workload::Agent) {
        let mut agents = vec![System {
            name: "relais",
            pid: hub.pid,
            flow: Arc::new(IntrospectionFlow::of_bench_dp(hub_url.join("/checktoken")?, &agent_tokens)),
            users: users(settings.users)?,
        }];
        let result = workload(&mut agents, &settings, true, false).await?;
        eprintln!("agent checktoken: {result}");
        result
    } else {
        json!(null)
    };
    // An agent's token about a person (from the token exchange) at checktoken: the person's
    // pairwise `sub` and pivot identity too, the trace under the person's key.
    let agent_checktoken_person = if cli.runs(Workload::Agent) {
        let (citizen, _) = discover(&hub_issuer, "bench-sp", SP_SECRET).await?;
        let (agent, _) = discover(&format!("{hub_issuer}/agents"), "bench-agent", SP_SECRET).await?;
        let citizen_flow = federated(&citizen, "openid profile person_reference", None, Some(Arc::default()), false);
        let actors: Vec<String> = agent_tokens.lock().map(|t| t.clone()).unwrap_or_default();
        let about_person = Mutex::new(person::person_tokens(http()?, citizen_flow, &agent, &actors).await?);
        let mut agents = vec![System {
            name: "relais",
            pid: hub.pid,
            flow: Arc::new(IntrospectionFlow::of_bench_dp(hub_url.join("/checktoken")?, &about_person)),
            users: users(settings.users)?,
        }];
        let result = workload(&mut agents, &settings, true, false).await?;
        eprintln!("agent checktoken about a person: {result}");
        result
    } else {
        json!(null)
    };
    drop(hub);
    drop(peer);

    // 4. Memory per live session: a fresh hub, memory backend; then Redis, if given.
    let (memory, redis_memory) = if cli.runs(Workload::Memory) {
        memory::memory_workload(&cli, &settings).await?
    } else {
        (json!(null), json!(null))
    };

    // 5. The portal's and the catalogue's pages with 1,000 services and 100 data providers.
    let pages = if cli.runs(Workload::Pages) { pages::pages_workload(&cli, &settings).await? } else { json!(null) };

    // 6. The notifications' outbox, on SQLite and PostgreSQL.
    let outbox = if cli.runs(Workload::Outbox) {
        let events = if cli.smoke { 200 } else { 20_000 };
        outbox::outbox_workload(&cli, events, cli.postgres.as_deref()).await?
    } else {
        json!(null)
    };

    let floor = if cli.runs(Workload::Floor) { floor::measure(&std::env::temp_dir()).await? } else { json!(null) };
    eprintln!("floor: {floor}");

    let report = json!({
        "machine": machine,
        "floor": floor,
        "mode": if cli.smoke { "smoke" } else { "full" },
        "settings": { "virtual_users": settings.users, "seconds_per_round": settings.duration.as_secs_f64(), "rounds": settings.rounds, "sessions": settings.sessions },
        "load_generator_ceiling": baseline,
        "sso_sign_in": sso_results,
        "full_federated_sign_in": full_results,
        "checktoken": introspection_results,
        "agent_sign_in": agent_result,
        "agent_checktoken": agent_checktoken,
        "agent_checktoken_person": agent_checktoken_person,
        "memory_per_session": { "memory_backend_rss": memory, "redis_used_memory": redis_memory },
        "pages": pages,
        "outbox": outbox,
    });
    std::fs::create_dir_all(&cli.out)?;
    let name = if !cli.only.is_empty() {
        "partial"
    } else if cli.smoke {
        "smoke"
    } else {
        "latest"
    };
    std::fs::write(cli.out.join(format!("{name}.json")), serde_json::to_string_pretty(&report)?)?;
    std::fs::write(cli.out.join(format!("{name}.md")), report::markdown(&report))?;
    println!("{}", report::markdown(&report));
    Ok(())
}
