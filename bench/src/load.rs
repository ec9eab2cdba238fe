//! The two ways of loading a server: closed loop (each virtual user runs flows back to back:
//! the saturation throughput) and fixed rate (flows start on a schedule whatever the answers:
//! latency measured from the scheduled start, so a slow server cannot hide its queue).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;

use crate::vu::VirtualUser;

/// What a run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunResult {
    pub flows: u64,
    pub errors: u64,
    pub seconds: f64,
    pub flows_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

// The bounds are constants that hdrhistogram accepts: this cannot fail.
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid constant bounds")
}

fn result(histogram: &Histogram<u64>, flows: u64, errors: u64, seconds: f64) -> RunResult {
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    RunResult {
        flows,
        errors,
        seconds,
        flows_per_second: flows as f64 / seconds,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
    }
}

/// A flow run by a virtual user; `Ok` when it went through.
pub trait Flow: Send + Sync + 'static {
    fn run<'a>(
        &'a self,
        vu: &'a mut VirtualUser,
    ) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;
}

/// Every user runs flows back to back for `duration`.
pub async fn closed_loop(
    flow: Arc<dyn Flow>,
    users: Vec<VirtualUser>,
    duration: Duration,
) -> (RunResult, Vec<VirtualUser>) {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = users
        .into_iter()
        .map(|mut vu| {
            let flow = flow.clone();
            tokio::spawn(async move {
                let mut histogram = histogram();
                let (mut flows, mut errors) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let began = Instant::now();
                    match flow.run(&mut vu).await {
                        Ok(()) => {
                            flows += 1;
                            let _ = histogram.record(began.elapsed().as_micros().max(1) as u64);
                        }
                        Err(_) => errors += 1,
                    }
                }
                (histogram, flows, errors, vu)
            })
        })
        .collect();
    let mut total = histogram();
    let (mut flows, mut errors, mut users) = (0, 0, Vec::new());
    for task in tasks {
        if let Ok((histogram, f, e, vu)) = task.await {
            let _ = total.add(&histogram);
            flows += f;
            errors += e;
            users.push(vu);
        }
    }
    (result(&total, flows, errors, start.elapsed().as_secs_f64()), users)
}

/// Flows start at `rate` per second for `duration`, each on the next free user; latency counts
/// from the scheduled start.
pub async fn fixed_rate(
    flow: Arc<dyn Flow>,
    users: Vec<VirtualUser>,
    rate: f64,
    duration: Duration,
) -> (RunResult, Vec<VirtualUser>) {
    let pool = Arc::new(Mutex::new(users));
    let free = Arc::new(tokio::sync::Semaphore::new(pool.lock().await.len()));
    let recorded = Arc::new(std::sync::Mutex::new((histogram(), 0u64, 0u64)));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let start = Instant::now();
    let total = (duration.as_secs_f64() * rate) as u64;
    let mut tasks = Vec::new();
    for index in 0..total {
        let scheduled = start + interval.mul_f64(index as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (flow, pool, free, recorded) = (flow.clone(), pool.clone(), free.clone(), recorded.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(permit) = free.acquire().await else { return };
            let Some(mut vu) = pool.lock().await.pop() else { return };
            let outcome = flow.run(&mut vu).await;
            let latency = scheduled.elapsed().as_micros().max(1) as u64;
            pool.lock().await.push(vu);
            drop(permit);
            if let Ok(mut guard) = recorded.lock() {
                match outcome {
                    Ok(()) => {
                        let _ = guard.0.record(latency);
                        guard.1 += 1;
                    }
                    Err(_) => guard.2 += 1,
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let users = std::mem::take(&mut *pool.lock().await);
    let run = match recorded.lock() {
        Ok(guard) => result(&guard.0, guard.1, guard.2, seconds),
        Err(_) => result(&histogram(), 0, 0, seconds),
    };
    (run, users)
}
