//! In-process cost of checking an access token, the work latchkey does on every Graph
//! request before it touches the database, on one thread and on every core:
//!
//! - `KeyRing::verify` from `latchkey-http` as the server calls it, presenting the same
//!   token again and again (as a client does during the token's life; the key ring may
//!   remember tokens it has checked);
//! - the RS256 check itself, uncached: `jsonwebtoken::decode` with the same validation
//!   `KeyRing` applies (2048-bit key, the workspace's jsonwebtoken crypto backend), i.e.
//!   what a first sighting costs;
//! - parsing the same token without any signature check, for scale.
//!
//! Usage: `verify-rs256 [--seconds 3] [--threads N]`
//!
//! Prints `key=value` lines: `keyring_verify_per_s_1t`, `keyring_verify_per_s_nt`,
//! `rs256_per_s_1t`, `rs256_per_s_nt`, `rs256_us`, `rs256_cpu_us` (CPU time per uncached
//! check), `decode_nosig_per_s_1t`, `threads`.

use anyhow::anyhow;
use clap::Parser;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_core::secrets::MasterKey;
use latchkey_http::tokens::{AccessClaims, GRAPH_APP_ID, GRAPH_AUDIENCE, KeyRing, generate_signing_key};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Threads for the all-cores figure (default: available parallelism).
    #[arg(long)]
    threads: Option<usize>,
}

const ISSUER: &str = "http://127.0.0.1:8080/6f1c3c8e-0000-4000-8000-000000000000/v2.0";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let threads = args.threads.unwrap_or_else(latchkey_bench::cores);
    let duration = Duration::from_secs_f64(args.seconds);
    let now = latchkey_core::Clock::now(&latchkey_core::SystemClock);
    let master = MasterKey::generate().map_err(|e| anyhow!("{e}"))?;
    let record = generate_signing_key(&master, now).map_err(|e| anyhow!("{e}"))?;
    let ring = Arc::new(KeyRing::open(&[record], &master, now).map_err(|e| anyhow!("{e}"))?);
    // An app-only token shaped like the ones latchkey's token endpoint issues.
    let claims = AccessClaims {
        aud: GRAPH_AUDIENCE.into(),
        iss: ISSUER.into(),
        iat: now.timestamp(),
        nbf: Some(now.timestamp()),
        exp: now.timestamp() + 3600,
        tid: "6f1c3c8e-0000-4000-8000-000000000000".into(),
        sub: "0d3f7a4e-0000-4000-8000-000000000001".into(),
        azp: "0d3f7a4e-0000-4000-8000-000000000002".into(),
        appid: "0d3f7a4e-0000-4000-8000-000000000002".into(),
        idtyp: "app".into(),
        roles: vec!["UserAuthenticationMethod.ReadWrite.All".into(), "User.ReadWrite.All".into()],
        oid: Some("0d3f7a4e-0000-4000-8000-000000000001".into()),
        wids: vec![],
        scp: None,
        preferred_username: None,
        ver: "2.0".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        sid: None,
    };
    let token: Arc<str> = ring.sign(&claims).map_err(|e| anyhow!("{e}"))?.into();
    ring.verify(&token, ISSUER, now)
        .map_err(|e| anyhow!("the probe token does not verify: {e}"))?;

    let verify = {
        let (ring, token) = (Arc::clone(&ring), Arc::clone(&token));
        move |_: usize| ring.verify(&token, ISSUER, now).map(|_| ()).map_err(|e| anyhow!("{e}"))
    };
    let ring_1 = latchkey_bench::rate(1, duration, verify.clone())?;
    let ring_n = latchkey_bench::rate(threads, duration, verify)?;

    // The uncached RS256 check, with the validation KeyRing applies.
    let jwk = ring.jwks().into_iter().next().ok_or_else(|| anyhow!("no key"))?;
    let key = Arc::new(DecodingKey::from_rsa_components(&jwk.n, &jwk.e)?);
    let rs256 = {
        let (token, key) = (Arc::clone(&token), Arc::clone(&key));
        move |_: usize| {
            let header = jsonwebtoken::decode_header(&*token)?;
            anyhow::ensure!(
                header.alg == Algorithm::RS256 && header.kid.as_deref() == Some(jwk.kid.as_str()),
                "unexpected header"
            );
            let mut v = Validation::new(Algorithm::RS256);
            v.set_audience(&[GRAPH_AUDIENCE, GRAPH_APP_ID]);
            v.set_issuer(&[ISSUER]);
            v.validate_exp = false;
            v.validate_nbf = false;
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
            jsonwebtoken::decode::<AccessClaims>(&*token, &key, &v)
                .map(|_| ())
                .map_err(Into::into)
        }
    };
    let rs256_1 = latchkey_bench::rate(1, duration, rs256.clone())?;
    let cpu0 = latchkey_bench::process_cpu_seconds();
    let started = std::time::Instant::now();
    let rs256_n = latchkey_bench::rate(threads, duration, rs256)?;
    // CPU time per check: unlike checks/s, hardly changed by other processes on the machine.
    let rs256_cpu_us = match (cpu0, latchkey_bench::process_cpu_seconds()) {
        (Some(a), Some(b)) => Some((b - a) * 1e6 / (rs256_n * started.elapsed().as_secs_f64()).max(1.0)),
        _ => None,
    };

    // The same token parsed (header, base64, JSON claims) without any signature check.
    let nosig = {
        let token = Arc::clone(&token);
        move |_: usize| {
            let data = jsonwebtoken::dangerous::insecure_decode::<AccessClaims>(token.as_bytes())?;
            anyhow::ensure!(data.claims.idtyp == "app", "unexpected claims");
            Ok(())
        }
    };
    let nosig = latchkey_bench::rate(1, duration, nosig)?;

    println!("keyring_verify_per_s_1t={ring_1:.0}");
    println!("keyring_verify_per_s_nt={ring_n:.0}");
    println!("keyring_verify_us={:.2}", 1e6 / ring_1);
    println!("rs256_per_s_1t={rs256_1:.0}");
    println!("rs256_per_s_nt={rs256_n:.0}");
    println!("rs256_us={:.1}", 1e6 / rs256_1);
    if let Some(us) = rs256_cpu_us {
        println!("rs256_cpu_us={us:.1}");
    }
    println!("decode_nosig_per_s_1t={nosig:.0}");
    println!("threads={threads}");
    Ok(())
}
