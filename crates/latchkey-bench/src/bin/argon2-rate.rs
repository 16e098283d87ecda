//! Raw Argon2id hashes per second with latchkey's parameters (m = 19456 KiB, t = 2, p = 1,
//! the OWASP defaults in `latchkey_core::secrets::SecretHasher`), one hash per thread at a
//! time on `--threads` threads (default: every core, as latchkey's hasher allows).
//!
//! This is the ceiling for pass creation: every `POST .../temporaryAccessPassMethods`
//! hashes the new code once.
//!
//! Usage: `argon2-rate [--seconds 5] [--threads N]`
//!
//! Prints `key=value` lines: `argon2_per_s`, `threads`, `argon2_ms` (one hash, one thread,
//! wall time) and `argon2_cpu_ms` (CPU time per hash over the whole measurement, which
//! other processes competing for the machine hardly change).

use anyhow::anyhow;
use argon2::{Algorithm, Argon2, Params, Version};
use clap::Parser;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let threads = args.threads.unwrap_or_else(latchkey_bench::cores);
    let params = Params::new(19_456, 2, 1, Some(32)).map_err(|e| anyhow!("{e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = move |i: usize| {
        let mut out = [0u8; 32];
        let salt = [u8::try_from(i % 256).unwrap_or(0); 16];
        argon2
            .hash_password_into(b"Tz8!kq2#Lw", &salt, &mut out)
            .map_err(|e| anyhow!("{e}"))
    };
    // One hash alone, for the per-hash latency.
    let t = Instant::now();
    hash(0)?;
    let one_ms = t.elapsed().as_secs_f64() * 1e3;
    let cpu0 = latchkey_bench::process_cpu_seconds();
    let t = Instant::now();
    let per_s = latchkey_bench::rate(threads, Duration::from_secs_f64(args.seconds), hash)?;
    let hashes = per_s * t.elapsed().as_secs_f64();
    println!("argon2_per_s={per_s:.1}");
    if let (Some(a), Some(b)) = (cpu0, latchkey_bench::process_cpu_seconds()) {
        println!("argon2_cpu_ms={:.2}", (b - a) * 1e3 / hashes.max(1.0));
    }
    println!("threads={threads}");
    println!("argon2_ms={one_ms:.1}");
    Ok(())
}
