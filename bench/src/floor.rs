//! The floor: what the unavoidable steps of a flow cost on this machine, measured one at a time
//! in this process (one thread, median of rounds), so that each workload's CPU per flow can be
//! read against the sum of its parts. The hub's own CPU per trivial HTTP request comes from the
//! load generator's ceiling run.

use std::time::Instant;

use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::trace::{TraceEvent, TraceKind};
use relais_domain::UnixTime;
use relais_oidc::jose::{HubKeys, KeyMaterial};
use relais_store::{SqlStore, TraceStore};
use serde_json::{json, Value};

/// Microseconds per call of `operation`: the median of 5 rounds of `calls` calls.
fn micros_per_call(calls: u32, mut operation: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                operation();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

fn id_token_claims() -> Value {
    json!({
        "iss": "https://relais.example", "sub": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefv1",
        "aud": "bench-sp", "exp": 1_900_000_000u64, "iat": 1_800_000_000u64, "auth_time": 1_800_000_000u64,
        "nonce": "n-0S6_WzA2Mj", "acr": "eidas2", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
    })
}

/// One ES256 signature as the hub makes it (`aws-lc-rs`, key parsed once) and as `jsonwebtoken`
/// with RustCrypto makes it (the key parsed for every token: the hub's way before), and one
/// ES256 verification with `ring` and with RustCrypto's `p256` (what `openidconnect` uses).
fn crypto() -> anyhow::Result<Value> {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::EncodePrivateKey;

    let material = KeyMaterial::generate(IdTokenAlgorithm::ES256)?;
    let keys = HubKeys::from_material(vec![material.clone()])?;
    let claims = id_token_claims();
    let hub_sign = micros_per_call(500, || {
        let _ = keys.sign(IdTokenAlgorithm::ES256, &claims, 0);
    });
    let encoding = jsonwebtoken::EncodingKey::from_ec_pem(material.private_pem.as_bytes())?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    let rust_crypto_sign = micros_per_call(50, || {
        let _ = jsonwebtoken::encode(&header, &claims, &encoding);
    });

    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pkcs8 = secret.to_pkcs8_der()?;
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_bytes(),
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let message = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
    let signature = pair.sign(&ring::rand::SystemRandom::new(), message).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ring_rng = ring::rand::SystemRandom::new();
    let ring_raw_sign = micros_per_call(500, || {
        let _ = pair.sign(&ring_rng, message);
    });
    let point = secret.public_key().to_sec1_bytes();
    let ring_key = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point.to_vec());
    let ring_verify = micros_per_call(500, || {
        let _ = ring_key.verify(message, signature.as_ref());
    });
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)?;
    let parsed = p256::ecdsa::Signature::from_slice(signature.as_ref())?;
    let rust_crypto_verify = micros_per_call(50, || {
        let _ = verifying.verify(message, &parsed);
    });
    let (rsa, aws_lc) = signatures_by_library()?;
    let rsa_material = KeyMaterial::generate(IdTokenAlgorithm::RS256)?;
    let rsa_keys = HubKeys::from_material(vec![rsa_material])?;
    let hub_rs256 = micros_per_call(200, || {
        let _ = rsa_keys.sign(IdTokenAlgorithm::RS256, &claims, 0);
    });
    let openssl = openssl_speed();
    Ok(json!({
        "rs256_sign_hub_us": hub_rs256,
        "rs256_sign_ring_us": rsa,
        "rs256_sign_aws_lc_us": aws_lc["rs256"],
        "es256_sign_aws_lc_us": aws_lc["es256"],
        "es256_sign_ring_raw_us": ring_raw_sign,
        "rs256_sign_openssl_speed_us": openssl.as_ref().map(|o| o.0),
        "es256_sign_openssl_speed_us": openssl.as_ref().map(|o| o.1),
        "es256_sign_hub_us": hub_sign,
        "es256_sign_jsonwebtoken_rustcrypto_us": rust_crypto_sign,
        "es256_verify_ring_us": ring_verify,
        "es256_verify_rustcrypto_us": rust_crypto_verify,
    }))
}

/// Raw RS256 signatures of one message: `ring`'s time, and `aws-lc-rs`'s for RS256 and ES256.
fn signatures_by_library() -> anyhow::Result<(f64, Value)> {
    use rsa::pkcs8::EncodePrivateKey;
    let message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCIsImF1ZCI6ImJlbmNoLXNwIn0";
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
    let der = private.to_pkcs8_der()?;
    let ring_pair = ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ring_rng = ring::rand::SystemRandom::new();
    let mut signature = vec![0; ring_pair.public().modulus_len()];
    let ring_rsa = micros_per_call(200, || {
        let _ = ring_pair.sign(&ring::signature::RSA_PKCS1_SHA256, &ring_rng, message, &mut signature);
    });
    let aws_pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let aws_rng = aws_lc_rs::rand::SystemRandom::new();
    let aws_rsa = micros_per_call(200, || {
        let _ = aws_pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &aws_rng, message, &mut signature);
    });
    let ec_pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_rng,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ec_pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        ec_pkcs8.as_ref(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let aws_ec = micros_per_call(500, || {
        let _ = ec_pair.sign(&aws_rng, message);
    });
    Ok((ring_rsa, json!({ "rs256": aws_rsa, "es256": aws_ec })))
}

/// `openssl speed`'s RSA-2048 and P-256 signatures on this machine, µs each (the machine's
/// floor: OpenSSL uses every instruction the processor has), when `openssl` is installed.
fn openssl_speed() -> Option<(f64, f64)> {
    let output = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "2", "rsa2048", "ecdsap256"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "rsa 2048 bits 0.000207s 0.000012s   4825.6  80162.5": the sign/s column.
    let per_second = |prefix: &str| -> Option<f64> {
        let line = text.lines().find(|line| line.trim_start().starts_with(prefix))?;
        let numbers: Vec<f64> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
        numbers.get(numbers.len().checked_sub(2)?).copied()
    };
    Some((1e6 / per_second("rsa 2048 bits")?, 1e6 / per_second("256 bits ecdsa")?))
}

fn trace_event(i: u64) -> TraceEvent {
    TraceEvent {
        at: UnixTime(1_800_000_000 + i),
        kind: TraceKind::SignIn,
        person: Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefv1".into()),
        sub: Some("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210v1".into()),
        sp: Some("bench-sp".into()),
        idp: Some("mock".into()),
        dp: None,
        scopes: vec!["openid".into(), "profile".into()],
        outcome: "eidas2".into(),
        organisation: None,
        habilitation: None,
        author: None,
        reference: None,
    }
}

/// Trace appends on SQLite as the hub makes them: one at a time (a commit each) and 32 at once
/// (one group commit), wall time per record.
async fn traces(dir: &std::path::Path) -> anyhow::Result<Value> {
    let path = dir.join("floor-traces.db");
    let _ = std::fs::remove_file(&path);
    let store = SqlStore::connect(&format!("sqlite://{}", path.display())).await?;
    store.migrate().await?;
    let mut next = 0u64;
    for _ in 0..200 {
        next += 1;
        store.append(&trace_event(next)).await?;
    }
    let rounds = 1000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        next += 1;
        store.append(&trace_event(next)).await?;
    }
    let single = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let batches = 100u32;
    let start = Instant::now();
    for _ in 0..batches {
        let appends: Vec<_> = (0..32)
            .map(|_| {
                next += 1;
                let (store, event) = (store.clone(), trace_event(next));
                tokio::spawn(async move { store.append(&event).await })
            })
            .collect();
        for append in appends {
            append.await??;
        }
    }
    let grouped = start.elapsed().as_secs_f64() * 1e6 / f64::from(batches * 32);
    drop(store);
    let _ = std::fs::remove_file(&path);
    Ok(json!({ "trace_append_alone_us": single, "trace_append_in_group_of_32_us": grouped }))
}

/// Every floor figure.
pub async fn measure(dir: &std::path::Path) -> anyhow::Result<Value> {
    let mut figures = crypto()?;
    if let (Some(figures), Value::Object(traces)) = (figures.as_object_mut(), traces(dir).await?) {
        figures.extend(traces);
    }
    Ok(figures)
}
