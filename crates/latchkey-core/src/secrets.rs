//! How secrets are made, kept and checked (DESIGN.md "Secrets").
//!
//! - Low-entropy secrets people type (pass codes, passwords) are Argon2id hashes with a
//!   per-secret salt (NIST SP 800-63B §5.1.1.2), computed off the async runtime and at
//!   most one per core at a time, since each takes ~19 MiB and ~20 ms.
//! - High-entropy secrets the server makes (client secrets, tokens) are 256-bit random
//!   values kept as SHA-256 digests and compared in constant time.
//! - Keys at rest (signing keys) are sealed with AES-256-GCM under a master key.

use crate::error::CoreError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A secret in memory. Its `Debug` and `Display` never show the value, so it cannot reach
/// a log line by accident; [`SecretString::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    #[must_use]
    pub const fn new(s: String) -> Self {
        Self(s)
    }
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), computed on a fixed set
/// of worker threads (one per core by default). A fixed set bounds memory twice over: at
/// most that many 19 MiB blocks exist at once, and the allocator reuses each thread's
/// block instead of growing a new arena per short-lived blocking thread (measured: RSS
/// went from ~800 MiB to tens of MiB under a flood of pass creations).
#[derive(Clone)]
pub struct SecretHasher {
    argon2: Argon2<'static>,
    pool: Arc<HashPool>,
    /// A hash of nothing in particular, verified against when there is no real hash, so
    /// a missing user or pass costs the same time as a wrong code.
    decoy: Arc<tokio::sync::OnceCell<String>>,
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretHasher").field("workers", &self.pool.workers).finish()
    }
}

impl Default for SecretHasher {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }
}

impl SecretHasher {
    /// `concurrency` is how many hashes may run at once; one per core keeps memory bounded.
    #[must_use]
    pub fn new(concurrency: usize) -> Self {
        #[allow(clippy::expect_used)] // constant, valid parameters
        let params = Params::new(19_456, 2, 1, None).expect("OWASP Argon2id parameters are valid");
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            pool: Arc::new(HashPool::start(concurrency.max(1))),
            decoy: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Hashes a secret with a fresh random salt, giving a PHC string.
    pub async fn hash(&self, secret: &SecretString) -> Result<String, CoreError> {
        let argon2 = self.argon2.clone();
        let secret = secret.clone();
        self.run(move || {
            let mut salt_bytes = [0u8; 16];
            getrandom::fill(&mut salt_bytes).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
            let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| CoreError::Internal(e.to_string()))?;
            let mut out = [0u8; 32];
            with_blocks(argon2.params().block_count(), |blocks| {
                argon2.hash_password_into_with_memory(secret.expose().as_bytes(), &salt_bytes, &mut out, blocks)
            })
            .map_err(|e| CoreError::Internal(format!("argon2: {e}")))?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: argon2
                    .params()
                    .try_into()
                    .map_err(|e| CoreError::Internal(format!("argon2 params: {e}")))?,
                salt: Some(salt.as_salt()),
                hash: Some(Output::new(&out).map_err(|e| CoreError::Internal(e.to_string()))?),
            };
            Ok(phc.to_string())
        })
        .await
    }

    /// Checks a secret against a PHC string; the comparison inside is constant-time.
    pub async fn verify(&self, secret: &SecretString, phc: &str) -> Result<bool, CoreError> {
        let secret = secret.clone();
        let phc = phc.to_owned();
        self.run(move || {
            let unreadable = |e: &dyn fmt::Display| CoreError::Internal(format!("stored hash unreadable: {e}"));
            let parsed = PasswordHash::new(&phc).map_err(|e| unreadable(&e))?;
            let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                return Err(unreadable(&"no salt or hash"));
            };
            let version = parsed
                .version
                .map(Version::try_from)
                .transpose()
                .map_err(|e| unreadable(&e))?
                .unwrap_or(Version::V0x13);
            let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
            let argon2 = Argon2::new(algorithm, version, params);
            let mut salt_buf = [0u8; 64];
            let salt = salt.decode_b64(&mut salt_buf).map_err(|e| unreadable(&e))?;
            let mut out = vec![0u8; expected.len()];
            with_blocks(argon2.params().block_count(), |blocks| {
                argon2.hash_password_into_with_memory(secret.expose().as_bytes(), salt, &mut out, blocks)
            })
            .map_err(|e| unreadable(&e))?;
            // Output's equality is constant-time (password-hash's ConstantTimeEq).
            Ok(Output::new(&out).map_err(|e| unreadable(&e))? == expected)
        })
        .await
    }

    /// Verifies against `phc` when there is one, else spends the same effort on a decoy
    /// and answers `false`: callers cannot be timed into revealing which case it was.
    pub async fn verify_or_decoy(&self, secret: &SecretString, phc: Option<&str>) -> Result<bool, CoreError> {
        match phc {
            Some(phc) => self.verify(secret, phc).await,
            None => {
                let decoy = self
                    .decoy
                    .get_or_try_init(|| async { self.hash(&SecretString::new("latchkey decoy".into())).await })
                    .await?
                    .clone();
                self.verify(secret, &decoy).await.map(|_| false)
            }
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> Result<T, CoreError> + Send + 'static) -> Result<T, CoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.pool
            .sender
            .lock()
            .map_err(|_| CoreError::Internal("hash pool poisoned".into()))?
            .send(job)
            .map_err(|_| CoreError::Internal("hash pool stopped".into()))?;
        rx.await.map_err(|_| CoreError::Internal("hashing task failed".into()))?
    }
}

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// Each hashing thread's Argon2 working memory, allocated once and reused, so memory
    /// stays at one block set per thread instead of growing allocator arenas.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `count` Argon2 blocks of this thread's reusable memory.
fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, argon2::Block::default());
        }
        f(&mut blocks[..count])
    })
}

/// The hashing threads; they stop when the last `SecretHasher` clone is dropped.
struct HashPool {
    sender: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
    workers: usize,
}

impl HashPool {
    fn start(workers: usize) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..workers {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                loop {
                    // Hold the lock only to take a job, not while hashing.
                    let next = receiver.lock().map(|r| r.recv());
                    match next {
                        Ok(Ok(job)) => job(),
                        _ => break,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            sender: std::sync::Mutex::new(sender),
            workers,
        }
    }
}

/// 256 random bits from the OS, base64url without padding (43 characters).
pub fn random_token() -> Result<SecretString, CoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
    Ok(SecretString::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// The SHA-256 digest of a high-entropy secret, hex-encoded, as stored.
#[must_use]
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` matches a stored digest, in constant time.
#[must_use]
pub fn digest_matches(secret: &str, stored_hex_digest: &str) -> bool {
    let computed = digest(secret);
    computed.as_bytes().ct_eq(stored_hex_digest.as_bytes()).into()
}

/// The key that seals signing keys at rest: 32 random bytes, kept in a file beside (not
/// in) the database.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

const SEAL_PREFIX: &str = "v1:";

impl MasterKey {
    pub fn generate() -> Result<Self, CoreError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
        Ok(Self(k))
    }

    /// The text written to the key file.
    #[must_use]
    pub fn to_file_contents(&self) -> String {
        format!("{}\n", STANDARD.encode(self.0))
    }

    /// Reads the key file's text.
    pub fn from_file_contents(text: &str) -> Result<Self, CoreError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CoreError::Invalid("the master key file does not hold a base64 key".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CoreError::Invalid("the master key must be 32 bytes".into()))?;
        Ok(Self(key))
    }

    /// Seals bytes: `v1:` + base64(nonce ‖ ciphertext ‖ tag). `context` binds the value to
    /// its use so one sealed value cannot be swapped for another.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, CoreError> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
        let payload = aes_gcm::aead::Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let ct = cipher
            .encrypt(&Nonce::from(nonce), payload)
            .map_err(|_| CoreError::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{SEAL_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens a sealed value; a wrong key or a tampered value is an error, never garbage.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, CoreError> {
        let wrong = || {
            CoreError::Invalid(
                "the master key does not open this database's sealed keys: is it the key file `latchkey init` wrote for this database?"
                    .into(),
            )
        };
        let body = sealed.strip_prefix(SEAL_PREFIX).ok_or_else(wrong)?;
        let raw = STANDARD.decode(body).map_err(|_| wrong())?;
        if raw.len() < 12 + 16 {
            return Err(wrong());
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| wrong())?;
        let cipher = Aes256Gcm::new((&self.0).into());
        cipher
            .decrypt(
                &Nonce::from(nonce),
                aes_gcm::aead::Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_hashes_verify_only_the_right_secret_and_are_salted() {
        let h = SecretHasher::new(2);
        let s = SecretString::new("Tap-Rocks!".into());
        let a = h.hash(&s).await.unwrap();
        let b = h.hash(&s).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("Tap-Rocks!"));
        assert!(h.verify(&s, &a).await.unwrap());
        assert!(!h.verify(&SecretString::new("tap-rocks!".into()), &a).await.unwrap());
    }

    #[test]
    fn digests_match_only_their_secret() {
        let t = random_token().unwrap();
        assert_eq!(t.expose().len(), 43);
        let d = digest(t.expose());
        assert!(digest_matches(t.expose(), &d));
        assert!(!digest_matches("other", &d));
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let k = MasterKey::generate().unwrap();
        let sealed = k.seal(b"private key", "signing-key:abc").unwrap();
        assert_eq!(k.open(&sealed, "signing-key:abc").unwrap(), b"private key");
        assert!(k.open(&sealed, "signing-key:other").is_err());
        assert!(MasterKey::generate().unwrap().open(&sealed, "signing-key:abc").is_err());
        let reread = MasterKey::from_file_contents(&k.to_file_contents()).unwrap();
        assert_eq!(reread.open(&sealed, "signing-key:abc").unwrap(), b"private key");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = SecretString::new("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
