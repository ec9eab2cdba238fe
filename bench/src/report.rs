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
    for (title, key) in [
        ("SSO sign-in (authorization → code → token → userinfo)", "sso_sign_in"),
        (
            "Full federated sign-in (Relais: choice, mock IdP, callback, consent, token, userinfo)",
            "full_federated_sign_in",
        ),
        ("Checktoken (Relais) / token introspection (peer)", "checktoken"),
    ] {
        let workload = &report[key];
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
    text.push_str(&format!(
        "## The floor: each unavoidable step alone\n\nMeasured in the load generator's process (core 1, one thread, \
         median of 5 rounds), except the first line (the hub's CPU during the load generator's ceiling run).\n\n\
         | step | µs |\n|---|---|\n\
         | hub CPU per trivial HTTP request (`GET /healthz`, keep-alive) | {:.1} |\n\
         | ES256 signature, `ring`, key parsed once (the hub) | {:.1} |\n\
         | ES256 signature, `jsonwebtoken` + RustCrypto, key parsed per token (the hub before) | {:.1} |\n\
         | ES256 verification, `ring` (the hub, IdP ID tokens) | {:.1} |\n\
         | ES256 verification, RustCrypto `p256` (`openidconnect`'s default) | {:.1} |\n\
         | trace append on SQLite, alone (one commit) | {:.1} |\n\
         | trace append on SQLite, in a group commit of 32 (per record) | {:.1} |\n\n",
        number(&report["load_generator_ceiling"]["cpu_ms_per_flow"]) * 1000.0,
        number(&floor["es256_sign_ring_us"]),
        number(&floor["es256_sign_jsonwebtoken_rustcrypto_us"]),
        number(&floor["es256_verify_ring_us"]),
        number(&floor["es256_verify_rustcrypto_us"]),
        number(&floor["trace_append_alone_us"]),
        number(&floor["trace_append_in_group_of_32_us"]),
    ));
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
