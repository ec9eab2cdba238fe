//! The servers under test as child processes, pinned to one core, and what the kernel says of
//! their CPU time and memory.

use std::process::Stdio;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A server process.
pub struct Server {
    // Held so that the process is killed when the server is dropped (`kill_on_drop`).
    pub _child: Child,
    pub pid: u32,
}

/// Starts `program args` on `core` (with `taskset` when available) and waits for the stdout line
/// starting with `ready` (or a JSON log line whose message does); returns the rest of it.
pub async fn start(
    program: &str,
    args: &[&str],
    core: u32,
    envs: &[(&str, String)],
    ready: &str,
) -> anyhow::Result<(Server, String)> {
    let pinned = std::path::Path::new("/usr/bin/taskset").exists();
    let mut command = if pinned {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(core.to_string()).arg(program);
        command
    } else {
        Command::new(program)
    };
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().with_context(|| format!("cannot start {program}"))?;
    let pid = child.id().context("no pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let rest = loop {
        match lines.next_line().await? {
            Some(line) => {
                // A JSON log line says it in its message.
                let message = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|value| value["fields"]["message"].as_str().map(str::to_owned));
                if let Some(rest) = message.as_deref().unwrap_or(&line).strip_prefix(ready) {
                    break rest.trim().to_owned();
                }
            }
            None => bail!("{program} exited before `{ready}`"),
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((Server { _child: child, pid }, rest))
}

/// CPU seconds (user + system) the process has used.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may hold spaces, closed by the last ')').
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or_default();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the ')'.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resident memory of the process, bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The machine, for the report. (A server started through `taskset` is the process itself:
/// taskset execs, so the pid measured is the server's.)
pub fn describe_machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or_default().trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    // Counted from /proc/cpuinfo: under `taskset` the process itself sees one core only.
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| info.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(1);
    format!("{model}, {cores} cores")
}
