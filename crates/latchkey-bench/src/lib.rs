//! Helpers shared by the benchmark binaries (see `bench/README.md`).
//!
//! The binaries print their figures as `key=value` lines on stdout so `bench/run.sh` can
//! pick them up with `grep`/`cut`; anything meant for people goes to stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Runs `work` on `threads` OS threads for `duration`, each call counted as one operation,
/// and returns operations per second over the measured wall time.
///
/// `work` gets the thread index and is called in a tight loop until time is up.
pub fn rate<F>(threads: usize, duration: Duration, work: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> anyhow::Result<()> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads.max(1))
        .map(|i| {
            let (work, stop, count) = (Arc::clone(&work), Arc::clone(&stop), Arc::clone(&count));
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut local = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    work(i)?;
                    local += 1;
                }
                count.fetch_add(local, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
    Ok(count.load(Ordering::Relaxed) as f64 / elapsed)
}

/// The machine's parallelism (what `#[tokio::main]` and latchkey's hasher use).
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// CPU time this process has used so far (all threads, user + system), from
/// `/proc/self/stat`; `None` where that file is missing. Clock ticks are taken as 100 Hz,
/// Linux's `USER_HZ` on every common architecture.
#[must_use]
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: field 3 (state) is index 0, so utime (14) and stime (15)
    // are indices 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
