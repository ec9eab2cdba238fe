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
        // Whatever the filter, the banner is written.
        .env("RELAIS_LOG", "warn,relais::checkpoint=info,relais::access=info")
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
        if line["fields"]["message"].as_str().is_some_and(|m| m.starts_with("relais hub listening on ")) {
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
    // SIGTERM: the requests in progress end, a last checkpoint is made and logged, exit 0.
    let pid = process.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut last = None;
    let mut checkpoints = seen.iter().filter(|line| line.contains("\"trace checkpoint\"")).count();
    while let Some(line) = lines.next_line().await.unwrap() {
        let line: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        checkpoints += usize::from(line["fields"]["message"] == "trace checkpoint");
        last = Some(line);
    }
    assert!(process.wait().await.unwrap().success());
    let last = last.expect("lines after the signal");
    assert_eq!(last["fields"]["message"], "trace checkpoint", "the last line is the shutdown's checkpoint");
    assert_eq!(last["target"], "relais::checkpoint");
    assert_eq!(last["fields"]["checkpoint"].as_str().unwrap().split('.').count(), 3);
    assert!(checkpoints >= 2, "one at start-up too");
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

#[tokio::test]
async fn check_config_online_reports_each_identity_provider_and_fails_when_one_is_unreachable() {
    use relais::config::{ConfigFile, HubSection, IdentityProviderSection};
    let hub_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://localhost:{hub_port}");
    let (_idps, mut sections) = crate::harness::start_mock_idps(&issuer).await;
    sections.truncate(2);
    let mut file =
        ConfigFile::new(HubSection::new(url::Url::parse(&issuer).unwrap(), "0123456789abcdef0123456789abcdef"));
    let ids: Vec<String> = sections.iter().map(|section| section.id.clone()).collect();
    file.identity_providers = sections;
    let run = |file: &ConfigFile| {
        let path = std::env::temp_dir().join(format!("relais-online-{}.toml", relais_oidc::random::random_token()));
        std::fs::write(&path, file.to_toml().unwrap()).unwrap();
        let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
            .args(["check-config", "--online", "--config"])
            .arg(&path)
            .env("RELAIS_LOG", "error")
            .output();
        async move {
            let output = command.await.unwrap();
            std::fs::remove_file(path).unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
    };
    let (code, stdout, stderr) = run(&file).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for id in &ids {
        let line = stdout.lines().find(|l| l.starts_with(&format!("{id}: "))).expect("a line per IdP");
        assert!(line.contains(": ok (") && line.contains("end-session yes"), "{line}");
    }

    // Nothing listens there.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = url::Url::parse(&format!("http://{gone}")).unwrap();
    let level = relais_domain::EidasLevel::Low;
    file.identity_providers.push(IdentityProviderSection::new(
        "down",
        "En panne",
        down,
        "relais-hub",
        "idp-secret-down",
        level,
    ));
    let (code, stdout, stderr) = run(&file).await;
    assert_eq!(code, Some(1), "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("down: ")).unwrap();
    assert!(line.contains("FAILED") && line.contains("discovery"), "{line}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
