//! The report of a run, as Markdown (the JSON is the run's own value).

use serde_json::Value;

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_default()
}

pub fn markdown(report: &Value) -> String {
    let mut text = format!(
        "# Relais benchmark ({})\n\nMachine: {}. Servers pinned to core 0, load generator to core 1 (`taskset`); \
         each saturation figure is the median of {} rounds of {} s with {} virtual users, after a warm-up; latency at a \
         fixed rate (half the slower system's saturation), measured from each flow's scheduled start.\n\n\
         Load generator ceiling (GET /healthz): {:.0} requests/s.\n\n",
        report["mode"].as_str().unwrap_or_default(),
        report["machine"].as_str().unwrap_or_default(),
        report["settings"]["rounds"],
        report["settings"]["seconds_per_round"],
        report["settings"]["virtual_users"],
        number(&report["load_generator_ceiling"]["run"]["flows_per_second"]),
    );
    text.push_str(&default_path(report));
    let workloads = [
        (
            "SSO sign-in, RS256 ID tokens (the default) (authorization → code → token → userinfo)",
            &report["sso_sign_in"]["RS256"],
        ),
        ("SSO sign-in, ES256 ID tokens (authorization → code → token → userinfo)", &report["sso_sign_in"]["ES256"]),
        (
            "Full federated sign-in, RS256 (Relais: choice, mock IdP, callback, consent, token, userinfo)",
            &report["full_federated_sign_in"]["RS256"],
        ),
        (
            "Full federated sign-in, ES256 (Relais: choice, mock IdP, callback, consent, token, userinfo)",
            &report["full_federated_sign_in"]["ES256"],
        ),
        ("Checktoken (Relais) / token introspection (peer)", &report["checktoken"]),
        (
            "Agent sign-in, RS256 (Relais, agent federation: e-mail page, agent directory, callback with the domain \
             checked, habilitation, token, userinfo)",
            &report["agent_sign_in"],
        ),
        ("Agent checktoken (Relais: the agent's token, its habilitation read again)", &report["agent_checktoken"]),
        (
            "Agent checktoken about a person (Relais: a token from the token exchange; the person's pairwise sub and \
             pivot identity too, traced under the person's key)",
            &report["agent_checktoken_person"],
        ),
        ("Page: the catalogue, /catalogue (1,000 services, 100 data providers)", &report["pages"]["catalogue"]),
        ("Page: the catalogue as open data, /catalogue.json (same registry)", &report["pages"]["catalogue_json"]),
        ("Page: the partner portal's home, /partenaires (20 services of the agent's)", &report["pages"]["portal_home"]),
        (
            "Page: the portal's service form, /partenaires/services/nouveau (the 100 providers' 500 scopes offered)",
            &report["pages"]["portal_new_service"],
        ),
        (
            "Page: a service's page on the portal (its sandbox client, button, samples)",
            &report["pages"]["portal_service"],
        ),
    ];
    for (title, workload) in workloads {
        if workload.is_null() {
            continue;
        }
        text.push_str(&format!(
            "## {title}\n\nFixed rate: {} flows/s.\n\n| system | flows/s at saturation | CPU ms per flow | CPU s per 1000 flows | p50 ms | p99 ms | p99.9 ms (fixed rate) | errors |\n|---|---|---|---|---|---|---|---|\n",
            workload["fixed_rate_per_second"]
        ));
        for system in ["relais", "peer"] {
            let data = &workload[system];
            if data.is_null() {
                continue;
            }
            let saturation = &data["saturation"];
            let fixed = &data["fixed_rate"]["run"];
            text.push_str(&format!(
                "| {system} | {:.0} | {:.3} | {:.3} | {:.2} | {:.2} | {:.2} | {} |\n",
                number(&saturation["run"]["flows_per_second"]),
                number(&saturation["cpu_ms_per_flow"]),
                number(&saturation["cpu_ms_per_flow"]),
                number(&fixed["p50_ms"]),
                number(&fixed["p99_ms"]),
                number(&fixed["p999_ms"]),
                number(&saturation["run"]["errors"]) + number(&fixed["errors"]),
            ));
        }
        if !workload["peer"].is_null() {
            let ratio = number(&workload["relais"]["saturation"]["run"]["flows_per_second"])
                / number(&workload["peer"]["saturation"]["run"]["flows_per_second"]).max(1e-9);
            text.push_str(&format!("\nRelais / peer, flows per second on one core: **{ratio:.1}x**.\n"));
        }
        text.push('\n');
    }
    let floor = &report["floor"];
    if !floor.is_null() {
        text.push_str(&floor_table(report, floor));
    }
    text.push_str(&outbox_table(&report["outbox"]));
    let memory = &report["memory_per_session"];
    if memory["memory_backend_rss"].is_null() {
        return text;
    }
    text.push_str(&format!(
        "## Memory per live session\n\nEach session left by a full sign-in (with its access token, redeemed-code record and \
         the ephemeral entries of the flow):\n\n- memory backend, hub RSS growth: {:.0} bytes per session ({} sessions)\n- Redis `used_memory` growth: {}\n",
        number(&memory["memory_backend_rss"]["bytes_per_session"]),
        memory["memory_backend_rss"]["sessions"],
        if memory["redis_used_memory"].is_null() {
            "not measured (no Redis given)".to_owned()
        } else {
            format!("{:.0} bytes per session ({} sessions)", number(&memory["redis_used_memory"]["bytes_per_session"]), memory["redis_used_memory"]["sessions"])
        }
    ));
    text
}

/// The default path first: RS256 single sign-on, its hub CPU per flow against the signature,
/// the signature against the machine's floor, and the peer with the same algorithm.
fn default_path(report: &Value) -> String {
    let sso = &report["sso_sign_in"]["RS256"];
    let floor = &report["floor"];
    if sso.is_null() || floor.is_null() {
        return String::new();
    }
    let cpu_us = number(&sso["relais"]["saturation"]["cpu_ms_per_flow"]) * 1000.0;
    let signature = number(&floor["rs256_sign_hub_us"]);
    let openssl = number(&floor["rs256_sign_openssl_speed_us"]);
    let ratio = number(&sso["relais"]["saturation"]["run"]["flows_per_second"])
        / number(&sso["peer"]["saturation"]["run"]["flows_per_second"]).max(1e-9);
    format!(
        "## The default path: RS256 single sign-on\n\n\
         - hub CPU per flow: **{cpu_us:.0} µs**, of which one RS256 signature: {signature:.0} µs (the rest: {:.0} µs)\n\
         - the hub's RS256 signature against `openssl speed rsa2048` on this machine: {signature:.0} / {openssl:.0} µs = **{:.2}x**\n\
         - Relais / peer (oidc-provider, RS256), flows per second on one core: **{ratio:.1}x**\n\n",
        cpu_us - signature,
        signature / openssl.max(1e-9),
    )
}

/// The floor's table (the hub's CPU per trivial request, then each step alone).
fn floor_table(report: &Value, floor: &Value) -> String {
    format!(
        "## The floor: each unavoidable step alone\n\nMeasured in the load generator's process (core 1, one thread, \
         median of 5 rounds), except the first line (the hub's CPU during the load generator's ceiling run).\n\n\
         | step | µs |\n|---|---|\n\
         | hub CPU per trivial HTTP request (`GET /healthz`, keep-alive) | {:.1} |\n\
         | RS256 (RSA-2048) signature, `openssl speed rsa2048` (the machine's floor) | {:.1} |\n\
         | RS256 signature of an ID token as the hub makes it (`aws-lc-rs`, key parsed once, JSON and base64 included) | {:.1} |\n\
         | RS256 signature, `aws-lc-rs` | {:.1} |\n\
         | RS256 signature, `ring` (the hub before) | {:.1} |\n\
         | ES256 signature, `openssl speed ecdsap256` | {:.1} |\n\
         | ES256 signature of an ID token as the hub makes it (`aws-lc-rs`) | {:.1} |\n\
         | ES256 signature, `aws-lc-rs` | {:.1} |\n\
         | ES256 signature, `ring` | {:.1} |\n\
         | ES256 signature, `jsonwebtoken` + RustCrypto, key parsed per token (the hub before) | {:.1} |\n\
         | ES256 verification, `ring` (the hub, IdP ID tokens) | {:.1} |\n\
         | ES256 verification, RustCrypto `p256` (`openidconnect`'s default) | {:.1} |\n\
         | trace append on SQLite, alone (one commit) | {:.1} |\n\
         | trace append on SQLite, in a group commit of 32 (per record) | {:.1} |\n\n",
        number(&report["load_generator_ceiling"]["cpu_ms_per_flow"]) * 1000.0,
        number(&floor["rs256_sign_openssl_speed_us"]),
        number(&floor["rs256_sign_hub_us"]),
        number(&floor["rs256_sign_aws_lc_us"]),
        number(&floor["rs256_sign_ring_us"]),
        number(&floor["es256_sign_openssl_speed_us"]),
        number(&floor["es256_sign_hub_us"]),
        number(&floor["es256_sign_aws_lc_us"]),
        number(&floor["es256_sign_ring_raw_us"]),
        number(&floor["es256_sign_jsonwebtoken_rustcrypto_us"]),
        number(&floor["es256_verify_ring_us"]),
        number(&floor["es256_verify_rustcrypto_us"]),
        number(&floor["trace_append_alone_us"]),
        number(&floor["trace_append_in_group_of_32_us"]),
    )
}

/// The outbox's throughput and the hub's CPU per event, per database.
fn outbox_table(outbox: &Value) -> String {
    if outbox.is_null() {
        return String::new();
    }
    let mut text = format!(
        "## The notifications' outbox\n\n{} events pending, delivered by one hub process on one core to a local \
         receiver that verifies each signature:\n\n| Database | Events delivered per second | Hub CPU per event | Repeats |\n|---|---:|---:|---:|\n",
        outbox["events"]
    );
    for (name, label) in [("sqlite", "SQLite"), ("postgres", "PostgreSQL")] {
        let row = &outbox[name];
        if row.is_null() {
            text.push_str(&format!("| {label} | not measured | | |\n"));
            continue;
        }
        text.push_str(&format!(
            "| {label} | {:.0} | {:.3} ms | {} |\n",
            number(&row["events_per_second"]),
            number(&row["hub_cpu_ms_per_event"]),
            row["repeats"]
        ));
    }
    text.push('\n');
    text
}
