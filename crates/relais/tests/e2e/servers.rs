//! The hub on PostgreSQL and Redis, as several nodes: flows across nodes, single use across
//! nodes, failing closed when Redis goes away and recovering when it is back, and the proof that
//! no identity is written to SQL or in clear to Redis. Needs `RELAIS_TEST_POSTGRES_URL` and
//! `RELAIS_TEST_REDIS_URL` (set by `.ci/run`), except the SQLite variant of the proof.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use openidconnect::AuthType;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::*;

/// What must never be stored about the test person Angela Claire Louise DUBOIS.
const IDENTITY: [&str; 4] = ["angela", "dubois", "1962-08-24", "75107"];

fn assert_no_identity(what: &str, dump: &str) {
    let dump = dump.to_lowercase();
    for piece in IDENTITY {
        assert!(!dump.contains(piece), "`{piece}` found in {what}");
    }
}

/// No client secret and no private key in clear: the SPs' and DPs' secrets are kept as digests,
/// the hub's secrets at the IdPs and its signing keys sealed.
fn assert_no_secret(what: &str, dump: &str) {
    let mut secrets: Vec<String> = vec![
        SECRET_A.into(),
        "secret-b-for-tests-0123456789abcdef".into(),
        "secret-r-for-tests-0123456789abcdef".into(),
        "PRIVATE KEY".into(),
    ];
    secrets.extend(IDPS.iter().map(|(id, _, _)| format!("idp-secret-{id}")));
    secrets.extend(relais_mocks::dp::DpKind::ALL.iter().map(|kind| dp_secret(kind.id())));
    // A line from the middle of each private key's PEM body.
    secrets.extend(shared_keys().iter().filter_map(|key| key.private_pem.lines().nth(2).map(str::to_owned)));
    for secret in secrets {
        assert!(!dump.contains(&secret), "`{secret}` found in {what}");
    }
}

async fn postgres_dump(database_url: &str) -> String {
    let sql = relais_store::SqlStore::connect(database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(sql.pool())
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "service_providers"), "the schema holds the registry: {tables:?}");
    let mut dump = String::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar::<_, String>(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
            .fetch_all(sql.pool())
            .await
            .unwrap();
        dump.push_str(&rows.join("\n"));
    }
    dump
}

async fn redis_dump(prefix: &str) -> (usize, String) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.unwrap();
    let mut dump = keys.join("\n");
    for key in &keys {
        let value: Vec<u8> = redis::cmd("GET").arg(key).query_async(&mut connection).await.unwrap();
        dump.push_str(&String::from_utf8_lossy(&value));
    }
    (keys.len(), dump)
}

#[tokio::test]
async fn no_identity_is_written_to_the_sqlite_database() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let signed_in = sign_in(&platform, &Browser::new(), &sp, &["openid", "identite_pivot"], "impots", 0).await;
    assert_eq!(signed_in.userinfo["family_name"], "DUBOIS", "the person did sign in");
    let path = platform.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    let mut dump = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        dump.push_str(&String::from_utf8_lossy(&wal));
    }
    assert!(dump.contains("sp-a"), "the dump is the real database");
    assert_no_identity("the SQLite database", &dump);
    assert_no_secret("the SQLite database", &dump);
    #[cfg(unix)]
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(&file) {
            assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "{file} is readable by its owner only");
        }
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set RELAIS_TEST_POSTGRES_URL and RELAIS_TEST_REDIS_URL"]
async fn sign_in_sso_and_logout_on_postgres_and_redis_store_no_identity_in_clear() {
    let platform = Platform::start_on(Backends::Servers).await;
    let sp_a = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let first = sign_in(&platform, &browser, &sp_a, &["openid", "identite_pivot"], "impots", 0).await;
    assert_eq!(first.userinfo["family_name"], "DUBOIS");

    let request = sp_a.request(&["openid"], None, &[]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp_a.finish(request, &redirect).await.unwrap().sub, first.sub, "single sign-on from Redis");

    let (entries, dump) = redis_dump(&platform.redis_prefix).await;
    assert!(entries >= 2, "the session and the access tokens are in Redis ({entries} entries)");
    assert_no_identity("Redis", &dump);
    let dump = postgres_dump(&platform.database_url).await;
    assert_no_identity("PostgreSQL", &dump);
    assert_no_secret("PostgreSQL", &dump);

    let mut logout = platform.url("/logout");
    logout.query_pairs_mut().append_pair("id_token_hint", &first.id_token);
    let to_idp = location(&browser.get(logout.as_str()).await);
    let back = location(&browser.get(&to_idp).await);
    let logged_out = browser.get(&back).await;
    assert_eq!(logged_out.status(), 200, "no post-logout URI: the hub's own logged-out page");
    assert!(logged_out.text().await.unwrap().contains("Vous êtes déconnecté"));
    let request = sp_a.request(&["openid"], None, &[("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp_a.finish(request, &redirect).await.err().as_deref(), Some("login_required"));
}

/// A code for sp-a from a sign-in at the first node.
async fn code_for_sp_a(platform: &Platform, sp: &Sp) -> (String, Request) {
    let browser = Browser::new();
    let request = sp.request(&["openid"], None, &[]);
    let html = browser.get(&request.url).await.text().await.unwrap();
    let redirect = through_choice(&browser, platform, &html, "impots", 0).await;
    (query_param(&redirect, "code").unwrap(), request)
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set RELAIS_TEST_POSTGRES_URL and RELAIS_TEST_REDIS_URL"]
async fn the_same_code_presented_fifty_times_at_once_across_two_nodes_yields_one_token() {
    let platform = Platform::start_on(Backends::Servers).await;
    let second_node = platform.add_node().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let (code, request) = code_for_sp_a(&platform, &sp).await;
    let verifier = request.verifier.as_ref().unwrap().secret().clone();
    let http = reqwest::Client::new();
    let attempts: Vec<_> = (0..50)
        .map(|attempt| {
            let node = if attempt % 2 == 0 { platform.hub.clone() } else { second_node.clone() };
            let (http, code, verifier) = (http.clone(), code.clone(), verifier.clone());
            tokio::spawn(async move {
                http.post(node.join("/token").unwrap())
                    .basic_auth("sp-a", Some(SECRET_A))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", "https://sp-a.example/callback"),
                        ("code_verifier", verifier.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 49, "{statuses:?}");
}

/// A TCP proxy in front of Redis that the test can cut and restore.
struct Proxy {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (accepting, tracked) = (open.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue;
                }
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().unwrap().push(handle);
            }
        });
        Proxy { address, open, connections }
    }

    /// Redis is gone: new connections are refused, live ones cut.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set RELAIS_TEST_POSTGRES_URL and RELAIS_TEST_REDIS_URL"]
async fn the_hub_fails_closed_while_redis_is_away_and_recovers_by_itself() {
    let target = url::Url::parse(&redis_url()).unwrap();
    let target: SocketAddr =
        format!("{}:{}", target.host_str().unwrap(), target.port().unwrap_or(6379)).parse().unwrap();
    let proxy = Proxy::start(target).await;
    let platform = Platform::start_with(Backends::Servers, Some(format!("redis://{}", proxy.address))).await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(platform.url("/readyz")).send().await.unwrap().status(), 200);
    let (code, request) = code_for_sp_a(&platform, &sp).await;
    let signed_in = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;

    proxy.cut();
    let readyz = http.get(platform.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 503, "not ready without Redis");
    assert_eq!(http.get(platform.url("/healthz")).send().await.unwrap().status(), 200, "but alive");
    let page = Browser::new().get(&sp.request(&["openid"], None, &[]).url).await;
    assert_eq!(page.status(), 503);
    assert!(page.headers().get("location").is_none());
    let html = page.text().await.unwrap();
    assert!(html.contains("Service temporairement indisponible") && html.contains("id=\"reference\""), "{html}");
    let token = http
        .post(platform.url("/token"))
        .basic_auth("sp-a", Some(SECRET_A))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://sp-a.example/callback"),
            ("code_verifier", request.verifier.as_ref().unwrap().secret().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 503);
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The machines' other endpoints answer JSON too, never the person's HTML page.
    let userinfo = http.get(platform.url("/userinfo")).bearer_auth(&signed_in.access_token).send().await.unwrap();
    let checktoken = http
        .post(platform.url("/checktoken"))
        .basic_auth("caf", Some(dp_secret("caf")))
        .form(&[("token", signed_in.access_token.as_str())])
        .send()
        .await
        .unwrap();
    for (endpoint, answer) in [("userinfo", userinfo), ("checktoken", checktoken)] {
        assert_eq!(answer.status(), 503, "{endpoint}");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{endpoint}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{endpoint}");
    }

    proxy.restore();
    assert_eq!(http.get(platform.url("/readyz")).send().await.unwrap().status(), 200, "back without a restart");
    let redirect = {
        let browser = Browser::new();
        let request = sp.request(&["openid"], None, &[]);
        let html = browser.get(&request.url).await.text().await.unwrap();
        let redirect = through_choice(&browser, &platform, &html, "impots", 0).await;
        sp.finish(request, &redirect).await.map(|s| s.sub)
    };
    assert!(redirect.is_ok(), "sign-in works again: {redirect:?}");
    // The code issued before the outage is still there: the outage lost nothing.
    let token = http
        .post(platform.url("/token"))
        .basic_auth("sp-a", Some(SECRET_A))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://sp-a.example/callback"),
            ("code_verifier", request.verifier.as_ref().unwrap().secret().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
}
