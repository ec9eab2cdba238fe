//! One behavioural suite for every backend: the ephemeral store (memory, memory encrypted,
//! Redis encrypted) and the registry with keys (SQLite, PostgreSQL). The server-backed ones
//! read their URL from `RELAIS_TEST_REDIS_URL` / `RELAIS_TEST_POSTGRES_URL` and are ignored
//! without it; `.ci/run` sets both.
// Tests stand outside the hub: they may read the system clock and the OS generator.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

#[path = "contract_parts/figures.rs"]
mod figures;
#[path = "contract_parts/outbox.rs"]
mod outbox;
#[path = "contract_parts/registered.rs"]
mod registered;

use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm};
use relais_domain::trace::{verify_chain, TraceEvent, TraceKind};
use relais_domain::{
    EidasLevel, IdentityProvider, IdpId, IdpPolicy, ManualClock, Scope, ScopeSet, Secret, SecretDigest, Sector,
    ServiceProvider, SpId, UnixTime,
};
use relais_store::{
    ConfiguredActors, EncryptingStore, EphemeralKey, EphemeralStore, KeyRing, KeyStore, MemoryEphemeralStore, Put,
    RedisEphemeralStore, Registry, RegistryWriter, SealingKey, Source, SqlStore, StoredSigningKey, TraceStore,
};

/// The key-encryption keys of the SQL contract.
fn ring() -> KeyRing {
    KeyRing::new(vec![SealingKey::derive("contract", "key-encryption", "a test secret")]).unwrap()
}

/// Every column of every row of the registry's tables, as text.
async fn dump(sql: &SqlStore) -> String {
    let mut text = String::new();
    for query in [
        "SELECT registration FROM service_providers",
        "SELECT registration FROM identity_providers",
        "SELECT registration FROM data_providers",
        "SELECT private_pem FROM signing_keys",
    ] {
        for row in sqlx::query(query).fetch_all(sql.pool()).await.unwrap() {
            let value: String = sqlx::Row::try_get(&row, 0).unwrap();
            text.push_str(&value);
            text.push('\n');
        }
    }
    text
}

fn unique(prefix: &str) -> String {
    use rand::Rng;
    format!("{prefix}{:016x}", rand::thread_rng().gen::<u64>())
}

fn key(id: &str, byte: u8) -> EphemeralKey {
    use base64::Engine;
    EphemeralKey::parse(&format!("{id}:{}", base64::engine::general_purpose::STANDARD.encode([byte; 32]))).unwrap()
}

/// What every ephemeral store must do. `expire` makes `ttl`-second entries expire (advancing
/// a manual clock, or waiting for the server's own expiry).
async fn ephemeral_contract<F, Fut>(store: Arc<dyn EphemeralStore>, expire: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    store.ping().await.unwrap();
    store.put("k", b"value".to_vec(), 60).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"value"[..]));
    store.put("k", b"other".to_vec(), 60).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"other"[..]), "put replaces");
    assert_eq!(store.take("k").await.unwrap().as_deref(), Some(&b"other"[..]));
    assert_eq!(store.take("k").await.unwrap(), None, "take is single use");
    assert_eq!(store.get("missing").await.unwrap(), None);

    assert!(store.put_if_absent("once", b"1".to_vec(), 60).await.unwrap());
    assert!(!store.put_if_absent("once", b"2".to_vec(), 60).await.unwrap());
    assert_eq!(store.get("once").await.unwrap().as_deref(), Some(&b"1"[..]));
    store.delete("once").await.unwrap();
    assert_eq!(store.get("once").await.unwrap(), None);

    // Fifty concurrent takes of one entry: exactly one wins.
    store.put("code", b"c".to_vec(), 60).await.unwrap();
    let takes: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take("code").await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for take in takes {
        winners += usize::from(take.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);

    // The store enforces the lifetime itself.
    store.put("short", b"s".to_vec(), 1).await.unwrap();
    store.put("long", b"l".to_vec(), 3600).await.unwrap();
    expire(1).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.take("short").await.unwrap(), None);
    assert!(store.put_if_absent("short", b"again".to_vec(), 60).await.unwrap(), "an expired entry is absent");
    assert_eq!(store.get("long").await.unwrap().as_deref(), Some(&b"l"[..]));
}

#[tokio::test]
async fn memory_ephemeral_store() {
    let clock = Arc::new(ManualClock::new(UnixTime(1_000)));
    let store = Arc::new(MemoryEphemeralStore::new(clock.clone()));
    ephemeral_contract(store, |seconds| {
        clock.advance(seconds);
        async {}
    })
    .await;
}

#[tokio::test]
async fn encrypted_memory_ephemeral_store() {
    let clock = Arc::new(ManualClock::new(UnixTime(1_000)));
    let inner = Arc::new(MemoryEphemeralStore::new(clock.clone()));
    let store = Arc::new(EncryptingStore::new(inner, vec![key("k1", 1)]).unwrap());
    ephemeral_contract(store, |seconds| {
        clock.advance(seconds);
        async {}
    })
    .await;
}

fn redis_url() -> String {
    std::env::var("RELAIS_TEST_REDIS_URL").expect("RELAIS_TEST_REDIS_URL")
}

#[tokio::test]
#[ignore = "needs Redis: set RELAIS_TEST_REDIS_URL"]
async fn redis_ephemeral_store() {
    let inner = Arc::new(RedisEphemeralStore::new(&redis_url(), &unique("relais-contract-")).unwrap());
    let store = Arc::new(EncryptingStore::new(inner, vec![key("k1", 1)]).unwrap());
    // Redis expires keys itself, with millisecond precision: wait just past the lifetime.
    ephemeral_contract(store, |seconds| tokio::time::sleep(std::time::Duration::from_millis(seconds * 1000 + 150)))
        .await;
}

#[tokio::test]
#[ignore = "needs Redis: set RELAIS_TEST_REDIS_URL"]
async fn redis_holds_only_ciphertext_and_keys_rotate() {
    let prefix = unique("relais-contract-");
    let raw = Arc::new(RedisEphemeralStore::new(&redis_url(), &prefix).unwrap());
    let old = Arc::new(EncryptingStore::new(raw.clone(), vec![key("k1", 1)]).unwrap());
    old.put("session", b"Angela DUBOIS 1962-08-24".to_vec(), 60).await.unwrap();
    let stored = raw.get("session").await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("DUBOIS"), "no clear text in Redis");

    // A new key encrypts; the old one still decrypts what it encrypted.
    let rotated = Arc::new(EncryptingStore::new(raw.clone(), vec![key("k2", 2), key("k1", 1)]).unwrap());
    assert_eq!(rotated.get("session").await.unwrap().as_deref(), Some(&b"Angela DUBOIS 1962-08-24"[..]));
    rotated.put("new", b"x".to_vec(), 60).await.unwrap();
    assert_eq!(old.get("new").await.unwrap(), None, "unknown key id: as good as expired");
    // An entry moved under another key does not decrypt (the key is authenticated data).
    raw.put("moved", stored, 60).await.unwrap();
    assert_eq!(old.get("moved").await.unwrap(), None);
}

fn service_provider(id: &str) -> ServiceProvider {
    ServiceProvider {
        id: SpId::new(id),
        name: format!("Service {id}"),
        authentication: ClientAuthentication::SecretBasic(SecretDigest::of(
            id,
            &Secret::new("0123456789abcdef0123456789abcdef"),
        )),
        redirect_uris: vec![format!("https://{id}.example/callback")],
        post_logout_redirect_uris: vec![],
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::IdentitePivot]),
        id_token_algorithm: IdTokenAlgorithm::RS256,
        sector: Sector::new(id),
        idp_policy: IdpPolicy::Deny(vec![IdpId::new("b")]),
        minimum_level: EidasLevel::Substantial,
        profile: Default::default(),
        agent_claims: Vec::new(),
        public_agents_only: false,
    }
}

fn identity_provider(id: &str, level: EidasLevel) -> IdentityProvider {
    IdentityProvider {
        id: IdpId::new(id),
        display_name: format!("IdP {id}"),
        issuer: url::Url::parse(&format!("https://{id}.example")).unwrap(),
        client_id: "hub".into(),
        client_secret: Secret::new("the-hub-secret-at-the-idp"),
        level,
        enabled: true,
        scopes: vec!["openid".into()],
        require_acr: true,
        token_auth: Default::default(),
        profile: Default::default(),
        agent_domains: Vec::new(),
        agent_default: false,
    }
}

/// What every SQL backend must do for the registry and the keys; `other_node` is a second
/// connection to the same database, as another node of the hub holds.
async fn sql_contract(sql: SqlStore, other_node: SqlStore) {
    sql.migrate().await.unwrap();
    sql.migrate().await.unwrap();
    sql.ping().await.unwrap();

    assert!(sql.service_provider(&SpId::new("mairie")).await.unwrap().is_none());
    sql.put_service_provider(Put::configured(&service_provider("mairie"), 1)).await.unwrap();
    let back = sql.service_provider(&SpId::new("mairie")).await.unwrap().unwrap();
    assert_eq!(back.idp_policy, IdpPolicy::Deny(vec![IdpId::new("b")]));
    assert_eq!(back.minimum_level, EidasLevel::Substantial);
    assert!(
        matches!(&back.authentication, ClientAuthentication::SecretBasic(s) if s.matches("mairie", "0123456789abcdef0123456789abcdef"))
    );
    let mut renamed = service_provider("mairie");
    renamed.name = "Mairie renommée".into();
    sql.put_service_provider(Put::configured(&renamed, 2)).await.unwrap();
    assert_eq!(sql.service_provider(&SpId::new("mairie")).await.unwrap().unwrap().name, "Mairie renommée");

    sql.put_identity_provider(Put::configured(&identity_provider("b", EidasLevel::High), 1), 1).await.unwrap();
    let registered = identity_provider("a", EidasLevel::Low);
    sql.put_identity_provider(Put { actor: &registered, source: Source::Registered, at: 1 }, 0).await.unwrap();
    let idps = sql.identity_providers().await.unwrap();
    assert_eq!(idps.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a", "b"], "in position order");
    assert_eq!(sql.identity_provider(&IdpId::new("b")).await.unwrap().unwrap().level, EidasLevel::High);

    let signing_key = |kid: &str, created_at| StoredSigningKey {
        kid: kid.into(),
        alg: "ES256".into(),
        private_pem: "-----BEGIN PRIVATE KEY-----".into(),
        created_at,
        not_before: created_at,
        retire_at: None,
    };
    sql.add(&signing_key("old", 10)).await.unwrap();
    sql.add(&signing_key("new", 20)).await.unwrap();
    assert!(sql.add(&signing_key("new", 30)).await.is_err(), "a kid is unique");
    sql.retire("old", 100).await.unwrap();
    let keys = sql.load().await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.kid.as_str(), k.retire_at)).collect::<Vec<_>>(),
        [("old", Some(100)), ("new", None)]
    );
    assert_eq!(sql.remove_retired(100).await.unwrap(), 0);
    assert_eq!(sql.remove_retired(101).await.unwrap(), 1);
    assert_eq!(sql.load().await.unwrap().len(), 1);
    assert_eq!(other_node.load().await.unwrap()[0].private_pem, "-----BEGIN PRIVATE KEY-----", "every node opens it");

    // Nothing that authenticates is stored in clear: partners' secrets as digests, the hub's
    // secrets sealed; a node with other key-encryption keys cannot read them.
    let stored = dump(&sql).await;
    assert!(!stored.contains("0123456789abcdef0123456789abcdef"), "{stored}");
    assert!(!stored.contains("the-hub-secret-at-the-idp"), "{stored}");
    assert!(!stored.contains("PRIVATE KEY"), "{stored}");
    assert_eq!(
        other_node.identity_provider(&IdpId::new("b")).await.unwrap().unwrap().client_secret.expose(),
        "the-hub-secret-at-the-idp"
    );
    let stranger = sql.without_sealing().with_sealing(
        KeyRing::new(vec![SealingKey::derive("contract", "key-encryption", "another deployment")]).unwrap(),
    );
    assert!(stranger.load().await.is_err() && stranger.identity_providers().await.is_err());

    // Habilitations are kept as rows of their own and read back whole.
    let habilitation = relais_domain::agent::Habilitation {
        id: "hab-cantine".into(),
        organisation: "217500016".into(),
        procedure: "cantine".into(),
        legal_basis: relais_domain::agent::LegalBasis {
            reference: "Article L. 114-8 du CRPA".into(),
            url: "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953".into(),
        },
        dp: relais_domain::DpId::new("caf"),
        scopes: vec!["quotient_familial".into()],
        expires_at: UnixTime(2_000_000_000),
        citizen_services: vec![relais_domain::SpId::new("cantine")],
    };
    sql.put_habilitation(Put::configured(&habilitation, 1)).await.unwrap();
    assert_eq!(sql.habilitations().await.unwrap(), std::slice::from_ref(&habilitation));

    registered::registered_actors_and_grants(&sql, &other_node).await;

    // A configuration that no longer declares an actor removes it; registered actors stay.
    let keep = ConfiguredActors {
        service_providers: vec![],
        identity_providers: vec![],
        data_providers: vec![],
        habilitations: vec![],
    };
    assert_eq!(sql.remove_configured_except(&keep).await.unwrap(), 3);
    assert!(sql.habilitations().await.unwrap().is_empty());
    assert!(sql.service_provider(&SpId::new("mairie")).await.unwrap().is_none());
    assert_eq!(sql.identity_providers().await.unwrap().iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a"]);

    // Traces appended from 50 tasks at once (group commit): one chain, every record, intact.
    let appends: Vec<_> = (0..50)
        .map(|i| {
            let sql = sql.clone();
            tokio::spawn(async move {
                let event = TraceEvent {
                    at: UnixTime(i),
                    kind: TraceKind::SignIn,
                    person: Some(format!("person-{}", i % 3)),
                    sub: None,
                    sp: Some("mairie".into()),
                    idp: None,
                    dp: None,
                    scopes: vec!["openid".into()],
                    outcome: "ok".into(),
                    organisation: None,
                    habilitation: None,
                    author: None,
                    reference: None,
                };
                sql.append(&event).await.unwrap().seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for append in appends {
        seqs.push(append.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>(), "each append got its own place");
    let all = sql.all().await.unwrap();
    assert_eq!(all.len(), 50);
    assert!(verify_chain(&all).is_empty());
    assert_eq!(sql.for_person("person-1", 100).await.unwrap().len(), 17);

    // Two nodes appending in turn: each one's idea of the chain's end is stale every time, and
    // the chain stays one, each record in its own place.
    let event = |i: u64| TraceEvent {
        at: UnixTime(100 + i),
        kind: TraceKind::SignIn,
        person: None,
        sub: None,
        sp: Some("mairie".into()),
        idp: None,
        dp: None,
        scopes: Vec::new(),
        outcome: format!("node-{}", i % 2),
        author: None,
        reference: None,
        // An agent's access to a person's data names the organisation and the habilitation.
        organisation: (i == 3).then(|| "21750001600019".to_owned()),
        habilitation: (i == 3).then(|| "hab-cantine".to_owned()),
    };
    let mut seqs = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &other_node } else { &sql };
        seqs.push(node.append(&event(i)).await.unwrap().seq);
    }
    assert_eq!(seqs, (51..=56).collect::<Vec<u64>>());
    let all = other_node.all().await.unwrap();
    assert_eq!(all.len(), 56);
    assert!(verify_chain(&all).is_empty(), "{:?}", verify_chain(&all));
    assert_eq!(all[53].event, event(3), "the organisation and habilitation are kept");
    // What a checkpoint reads: the newest record, and one by its place.
    assert_eq!(sql.last().await.unwrap().map(|r| (r.seq, r.hash)), Some((56, all[55].hash.clone())));
    assert_eq!(other_node.at(17).await.unwrap().map(|r| r.hash), Some(all[16].hash.clone()));
    assert!(sql.at(57).await.unwrap().is_none());

    figures::counted_as_the_domain_counts(&sql, &other_node).await;
    outbox::delivered_once_sealed_and_erased(&sql, &other_node).await;
}

#[tokio::test]
async fn sqlite_registry() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("relais-contract-")));
    let url = format!("sqlite://{}", path.display());
    let sql = SqlStore::connect(&url).await.unwrap().with_sealing(ring());
    sql.migrate().await.unwrap();
    sql_contract(sql, SqlStore::connect(&url).await.unwrap().with_sealing(ring())).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [path.clone(), path.with_extension("db-wal"), path.with_extension("db-shm")] {
            if let Ok(metadata) = std::fs::metadata(&file) {
                assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "{}", file.display());
            }
        }
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set RELAIS_TEST_POSTGRES_URL"]
async fn postgres_registry() {
    let base = std::env::var("RELAIS_TEST_POSTGRES_URL").expect("RELAIS_TEST_POSTGRES_URL");
    let schema = unique("relais_contract_");
    let admin = SqlStore::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(admin.pool()).await.unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let node = || async { SqlStore::connect(&url).await.unwrap().with_sealing(ring()) };
    sql_contract(node().await, node().await).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(admin.pool()).await.unwrap();
}

/// Past a thousand records, SQLite's write-ahead log is checkpointed on a connection of its own
/// while appends go on: the chain stays whole, and the log is copied into the database.
#[tokio::test]
async fn sqlite_traces_are_checkpointed_while_appends_go_on() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("relais-checkpoint-")));
    let sql = SqlStore::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sql.migrate().await.unwrap();
    let appends: Vec<_> = (0..1200u64)
        .map(|i| {
            let sql = sql.clone();
            tokio::spawn(async move {
                let event = TraceEvent {
                    at: UnixTime(i),
                    kind: TraceKind::Checktoken,
                    person: None,
                    sub: None,
                    sp: None,
                    idp: None,
                    dp: Some("caf".into()),
                    scopes: Vec::new(),
                    outcome: "inactive".into(),
                    organisation: None,
                    habilitation: None,
                    author: None,
                    reference: None,
                };
                sql.append(&event).await.unwrap().seq
            })
        })
        .collect();
    for append in appends {
        append.await.unwrap();
    }
    let all = sql.all().await.unwrap();
    assert_eq!(all.len(), 1200);
    assert!(verify_chain(&all).is_empty());
    // A checkpoint of everything, as the hub's own would do: every frame of the log copied.
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(sql.pool()).await.unwrap();
    let (log, copied): (i64, i64) = (sqlx::Row::get(&row, 1), sqlx::Row::get(&row, 2));
    assert_eq!(log, copied, "the whole log reaches the database");
    std::fs::remove_file(path).unwrap();
}
