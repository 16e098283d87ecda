#!/usr/bin/env bash
# Builds a throwaway crate OUTSIDE the workspace (default /tmp/rsbench) that measures RS256
# signing in-process with jsonwebtoken 11's two backends, rust_crypto (latchkey's) and
# aws_lc_rs, each built separately (enabling both makes jsonwebtoken panic at run time).
# bench/signin/run.sh runs the two binaries when they exist (RSBENCH_DIR).
#
# Usage: bench/signin/rsbench.sh [DIR]     then: DIR/target-{rc,aws}/release/rsbench [SECONDS]
# Cost here: ~2 min (rust_crypto) and ~3.5 min (aws_lc_rs, compiles AWS-LC's C with cc;
# no cmake needed) on 2 busy cores.
set -euo pipefail
DIR=${1:-/tmp/rsbench}
mkdir -p "$DIR/src"
cat > "$DIR/Cargo.toml" <<'EOF'
[package]
name = "rsbench"
version = "0.1.0"
edition = "2024"
publish = false

[features]
rc = ["jsonwebtoken/rust_crypto"]
aws = ["jsonwebtoken/aws_lc_rs", "dep:aws-lc-rs"]

[dependencies]
jsonwebtoken = { version = "11", default-features = false, features = ["use_pem"] }
rsa = { version = "0.9", features = ["pem", "getrandom"] }
sha2 = { version = "0.10", features = ["oid"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
aws-lc-rs = { version = "1", optional = true }

[profile.release]
debug = false

# A workspace of its own, wherever DIR is.
[workspace]
EOF
cat > "$DIR/src/main.rs" <<'EOF'
//! RS256 signing rate: jsonwebtoken::encode with the backend chosen by feature (rc | aws),
//! plus (rc build only) the rsa crate signing with a key parsed once, to show what
//! jsonwebtoken's per-call `from_pkcs1_der` costs; (aws build only) aws-lc-rs signing
//! with an `RsaKeyPair` parsed once, and the cost of `RsaKeyPair::from_der` alone.
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::rand_core::OsRng;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct Claims {
    aud: String, iss: String, iat: i64, nbf: i64, exp: i64, tid: String, sub: String, azp: String,
    appid: String, idtyp: String, roles: Vec<String>, oid: String, ver: String, jti: String,
}

fn rate(threads: usize, secs: f64, f: Arc<dyn Fn() + Send + Sync>) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let n = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let hs: Vec<_> = (0..threads).map(|_| { let (stop, n, f) = (stop.clone(), n.clone(), f.clone()); std::thread::spawn(move || { let mut c = 0u64; while !stop.load(Ordering::Relaxed) { f(); c += 1; } n.fetch_add(c, Ordering::Relaxed); }) }).collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs { h.join().unwrap(); }
    n.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let backend = if cfg!(feature = "aws") { "aws_lc_rs" } else { "rust_crypto" };
    let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    let enc = EncodingKey::from_rsa_der(der.as_bytes());
    let claims = Claims {
        aud: "https://graph.microsoft.com".into(), iss: "http://localhost:8080/2f201db1-ea8a-44ed-baf2-910ffb7ed3d9/v2.0".into(),
        iat: 1_795_408_699, nbf: 1_795_408_699, exp: 1_795_412_299, tid: "2f201db1-ea8a-44ed-baf2-910ffb7ed3d9".into(),
        sub: "9cd95abd-a253-43b2-b561-c1553482ac12".into(), azp: "a26e2996-5017-4717-991d-9af003aa1c7f".into(),
        appid: "a26e2996-5017-4717-991d-9af003aa1c7f".into(), idtyp: "app".into(),
        roles: vec!["UserAuthenticationMethod.ReadWrite.All".into(), "User.ReadWrite.All".into()],
        oid: "9cd95abd-a253-43b2-b561-c1553482ac12".into(), ver: "2.0".into(), jti: "63e978d4-7b18-4432-abd5-9881fb37ac2b".into(),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("Dd7SQvfpljWB-naKFXtV_1PyP0MneOs90GRuCeVwW6Q".into());
    let (h, c, e) = (Arc::new(header), Arc::new(claims), Arc::new(enc));
    let sign: Arc<dyn Fn() + Send + Sync> = { let (h, c, e) = (h.clone(), c.clone(), e.clone()); Arc::new(move || { std::hint::black_box(jsonwebtoken::encode(&h, &*c, &e).unwrap()); }) };
    let t = Instant::now(); sign(); let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let one = rate(1, secs, sign.clone());
    let all = rate(cores, secs, sign);
    println!("backend={backend} first_sign_ms={first_ms:.2} jwt_rs256_sign_per_s_1thread={one:.0} jwt_rs256_sign_per_s_{cores}threads={all:.0}");
    #[cfg(feature = "aws")]
    {
        // What a signer that keeps the parsed key would get (jsonwebtoken's aws_lc_rs
        // backend calls RsaKeyPair::from_der on every signature).
        use aws_lc_rs::{rand::SystemRandom, signature::{RsaKeyPair, RSA_PKCS1_SHA256}};
        let kp = Arc::new(RsaKeyPair::from_der(der.as_bytes()).unwrap());
        let rng = Arc::new(SystemRandom::new());
        let msg = Arc::new(vec![b'x'; 700]);
        let f: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let mut sig = vec![0u8; kp.public_modulus_len()];
            kp.sign(&RSA_PKCS1_SHA256, &*rng, &msg, &mut sig).unwrap();
            std::hint::black_box(sig);
        });
        let one = rate(1, secs, f.clone());
        let all = rate(cores, secs, f);
        println!("backend=aws-lc-rs-preparsed-key rs256_sign_per_s_1thread={one:.0} rs256_sign_per_s_{cores}threads={all:.0}");
        let d = Arc::new(der.as_bytes().to_vec());
        let p: Arc<dyn Fn() + Send + Sync> = Arc::new(move || { std::hint::black_box(RsaKeyPair::from_der(&d).unwrap()); });
        println!("backend=aws-lc-rs-from_der-only parses_per_s_1thread={:.0}", rate(1, secs, p));
    }
    if cfg!(feature = "rc") {
        use rsa::pkcs1v15::SigningKey;
        use rsa::signature::{RandomizedSigner, SignatureEncoding};
        let sk = Arc::new(SigningKey::<sha2::Sha256>::new(key));
        let msg = Arc::new(vec![b'x'; 700]);
        let f: Arc<dyn Fn() + Send + Sync> = Arc::new(move || { std::hint::black_box(sk.sign_with_rng(&mut rsa::rand_core::OsRng, &msg).to_vec()); });
        let one = rate(1, secs, f.clone());
        let all = rate(cores, secs, f);
        println!("backend=rsa-0.9-preparsed-key rs256_sign_per_s_1thread={one:.0} rs256_sign_per_s_{cores}threads={all:.0}");
    }
}
EOF
cd "$DIR"
for f in rc aws; do
  start=$(date +%s)
  CARGO_TARGET_DIR="$DIR/target-$f" cargo build --release -q --features "$f"
  echo "built $f in $(($(date +%s) - start)) s: $DIR/target-$f/release/rsbench" >&2
done
