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
