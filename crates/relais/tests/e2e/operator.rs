//! What an operator sees when the hub cannot start: one line naming what is wrong.

use std::process::Command;

fn relais(args: &[&str], config: &str) -> (Option<i32>, String) {
    let path = std::env::temp_dir().join(format!("relais-operator-{}.toml", relais_oidc::random::random_token()));
    std::fs::write(&path, config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(args)
        .arg("--config")
        .arg(&path)
        .env("RUST_BACKTRACE", "1")
        .env("RELAIS_LOG", "error")
        .output()
        .unwrap();
    std::fs::remove_file(path).unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_configuration_error_is_one_line_even_with_backtraces_on() {
    let (code, stderr) = relais(
        &["check-config"],
        "[hub]\nissuer = \"http://relais.example\"\npairwise_secret = \"0123456789abcdef0123456789abcdef\"\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("hub.issuer"), "{stderr}");
}

#[test]
fn a_busy_port_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let directory = std::env::temp_dir().join(format!("relais-busy-{}", relais_oidc::random::random_token()));
    let config = format!(
        "[hub]\nissuer = \"http://localhost:{}\"\nlisten = \"{address}\"\ndata_dir = {:?}\npairwise_secret = \"0123456789abcdef0123456789abcdef\"\n",
        address.port(),
        directory.display().to_string()
    );
    let (code, stderr) = relais(&["serve"], &config);
    assert_eq!(code, Some(1));
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(directory);
}

fn config_listening_on(address: &str, directory: &std::path::Path, extra: &str) -> String {
    let port = address.rsplit(':').next().unwrap();
    format!(
        "[hub]\nissuer = \"http://localhost:{port}\"\nlisten = \"{address}\"\ndata_dir = {:?}\npairwise_secret = \"0123456789abcdef0123456789abcdef\"\n{extra}",
        directory.display().to_string()
    )
}

#[tokio::test]
async fn under_json_logs_every_line_is_json_the_banner_and_the_access_lines_included() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let directory = std::env::temp_dir().join(format!("relais-json-{}", relais_oidc::random::random_token()));
    let path = directory.with_extension("toml");
    std::fs::write(&path, config_listening_on("127.0.0.1:0", &directory, "log_format = \"json\"\n")).unwrap();
    let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("RELAIS_LOG")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut next_json = async || {
        let line = lines.next_line().await.unwrap().expect("relais serve stopped");
        let parsed: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        seen.push(line);
        parsed
    };
    let address = loop {
        let line = next_json().await;
        if line["fields"]["message"] == "relais hub listening" {
            break line["fields"]["listen"].as_str().unwrap().to_owned();
        }
    };
    let health = reqwest::get(format!("http://{address}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    loop {
        let line = next_json().await;
        if line["target"] == "relais::access" {
            assert_eq!(line["fields"]["route"], "/healthz");
            break;
        }
    }
    process.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(directory);
    let _ = std::fs::remove_file(path);
}

#[test]
fn under_json_logs_the_error_that_stops_relais_is_one_json_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let directory = std::env::temp_dir().join(format!("relais-json-busy-{}", relais_oidc::random::random_token()));
    let (code, stderr) = relais(&["serve"], &config_listening_on(&address, &directory, "log_format = \"json\"\n"));
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap_or_else(|_| panic!("not JSON: {stderr}"));
    assert_eq!(line["level"], "ERROR");
    assert!(line["fields"]["error"].as_str().unwrap().contains(&format!("cannot listen on {address}")), "{line}");
    let _ = std::fs::remove_dir_all(directory);
}
