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
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

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

/// Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), bounded to `permits`
/// computations at once.
#[derive(Clone)]
pub struct SecretHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretHasher")
            .field("available", &self.permits.available_permits())
            .finish()
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
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
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
            argon2
                .hash_password(secret.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| CoreError::Internal(format!("argon2: {e}")))
        })
        .await
    }

    /// Checks a secret against a PHC string; the comparison inside is constant-time.
    pub async fn verify(&self, secret: &SecretString, phc: &str) -> Result<bool, CoreError> {
        let argon2 = self.argon2.clone();
        let secret = secret.clone();
        let phc = phc.to_owned();
        self.run(move || {
            let parsed = PasswordHash::new(&phc).map_err(|e| CoreError::Internal(format!("stored hash unreadable: {e}")))?;
            Ok(argon2.verify_password(secret.expose().as_bytes(), &parsed).is_ok())
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> Result<T, CoreError> + Send + 'static) -> Result<T, CoreError> {
        let _permit = self.permits.acquire().await.map_err(|e| CoreError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| CoreError::Internal(format!("hashing task failed: {e}")))?
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
