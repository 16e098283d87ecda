//! Token signing and checking: RS256 JWTs under the tenant's keys, published as a JWKS.
//!
//! Keys are generated here, sealed under the master key for storage, and opened once at
//! start-up. Expiry is checked against the injected clock, not the wall clock, so tests
//! can expire tokens by moving a fake clock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_core::CoreError;
use latchkey_core::secrets::MasterKey;
use latchkey_core::tenant::SigningKeyRecord;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, rand_core::OsRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The audience of access tokens for the Graph-compatible API, as Entra issues them.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Graph's application id, also accepted as audience (Entra's v1 tokens carry it).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const RSA_BITS: usize = 2048;

fn sealing_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// Makes a new RS256 key and seals it for storage. The key id is the RFC 7638 thumbprint.
pub fn generate_signing_key(master_key: &MasterKey, now: DateTime<Utc>) -> Result<SigningKeyRecord, CoreError> {
    let key = RsaPrivateKey::new(&mut OsRng, RSA_BITS).map_err(|e| CoreError::Internal(format!("RSA key generation: {e}")))?;
    let kid = thumbprint(&key);
    let der = key
        .to_pkcs1_der()
        .map_err(|e| CoreError::Internal(format!("RSA key encoding: {e}")))?;
    Ok(SigningKeyRecord {
        sealed_private_key: master_key.seal(der.as_bytes(), &sealing_context(&kid))?,
        kid,
        algorithm: "RS256".into(),
        created_at: now,
        retired_at: None,
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn thumbprint(key: &RsaPrivateKey) -> String {
    let (n, e) = (b64(&key.n().to_bytes_be()), b64(&key.e().to_bytes_be()));
    // RFC 7638 §3: the required members in lexicographic order, no whitespace.
    b64(&Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes()))
}

/// A public key as published in the JWKS (RFC 7517).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    pub n: String,
    pub e: String,
}

struct OpenKey {
    kid: String,
    /// Parsed once: jsonwebtoken re-parses a DER key on every signature, which measured
    /// ~2.7x slower than signing with a parsed aws-lc-rs key (bench/signin, rsbench).
    signer: aws_lc_rs::signature::RsaKeyPair,
    decoding: DecodingKey,
    jwk: Jwk,
}

/// A retired key stays published (and accepted) this long after it stopped signing: the
/// longest-lived token it signed (an hour) plus clock skew.
pub const RETIRED_KEY_GRACE_MINUTES: i64 = 65;

/// The opened signing keys: the newest signs, all verify. Reloadable, so a key rotated
/// by one process reaches the others without a restart.
pub struct KeyRing {
    keys: std::sync::RwLock<std::sync::Arc<Vec<OpenKey>>>,
    master_key: MasterKey,
    /// Tokens whose signature, issuer and audience were checked, by SHA-256 of issuer and
    /// token. An RS256 check costs ~300 µs here and a token is presented many times in its
    /// life, so each is checked once; lifetime is still checked on every use.
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], std::sync::Arc<AccessClaims>>>,
}

/// Bound on remembered tokens; past it the memory is simply cleared.
const VERIFIED_CACHE_ENTRIES: usize = 50_000;

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kids", &self.current().iter().map(|k| k.kid.clone()).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Opens stored keys (newest first), leaving out keys retired longer ago than the
    /// grace period. A wrong master key is a clear error.
    /// The master key the ring was opened with (it also seals TOTP seeds).
    #[must_use]
    pub const fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    pub fn open(records: &[SigningKeyRecord], master_key: &MasterKey, now: DateTime<Utc>) -> Result<Self, CoreError> {
        let keys = Self::open_keys(records, master_key, now)?;
        Ok(Self {
            keys: std::sync::RwLock::new(std::sync::Arc::new(keys)),
            master_key: master_key.clone(),
            verified: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Replaces the keys with the stored ones (after a rotation anywhere).
    pub fn reload(&self, records: &[SigningKeyRecord], now: DateTime<Utc>) -> Result<(), CoreError> {
        let keys = Self::open_keys(records, &self.master_key, now)?;
        if let Ok(mut k) = self.keys.write() {
            *k = std::sync::Arc::new(keys);
        }
        Ok(())
    }

    /// Whether `token` names a key that is not among the open keys (one rotated in by
    /// another process since they were opened).
    #[must_use]
    pub fn names_unknown_key(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .is_some_and(|kid| !self.current().iter().any(|k| k.kid == kid))
    }

    fn current(&self) -> std::sync::Arc<Vec<OpenKey>> {
        self.keys.read().map(|k| std::sync::Arc::clone(&k)).unwrap_or_default()
    }

    fn open_keys(records: &[SigningKeyRecord], master_key: &MasterKey, now: DateTime<Utc>) -> Result<Vec<OpenKey>, CoreError> {
        let grace = chrono::Duration::minutes(RETIRED_KEY_GRACE_MINUTES);
        let mut live: Vec<&SigningKeyRecord> = records.iter().filter(|r| r.retired_at.is_none_or(|t| now < t + grace)).collect();
        // The signing key first: the newest one not retired.
        live.sort_by_key(|r| (r.retired_at.is_some(), std::cmp::Reverse(r.created_at)));
        let mut keys = Vec::new();
        for r in live {
            let der = master_key.open(&r.sealed_private_key, &sealing_context(&r.kid))?;
            let key = RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| CoreError::Internal(format!("stored key {}: {e}", r.kid)))?;
            let (n, e) = (b64(&key.n().to_bytes_be()), b64(&key.e().to_bytes_be()));
            keys.push(OpenKey {
                kid: r.kid.clone(),
                signer: aws_lc_rs::signature::RsaKeyPair::from_der(&der)
                    .map_err(|e| CoreError::Internal(format!("stored key {}: {e}", r.kid)))?,
                decoding: DecodingKey::from_rsa_components(&n, &e).map_err(|e| CoreError::Internal(e.to_string()))?,
                jwk: Jwk {
                    kty: "RSA".into(),
                    use_: "sig".into(),
                    alg: "RS256".into(),
                    kid: r.kid.clone(),
                    n,
                    e,
                },
            });
        }
        if keys.is_empty() {
            return Err(CoreError::Internal("the database holds no signing key".into()));
        }
        Ok(keys)
    }

    #[must_use]
    pub fn jwks(&self) -> Vec<Jwk> {
        self.current().iter().map(|k| k.jwk.clone()).collect()
    }

    /// Signs claims with the newest key: a JWS compact serialization (RFC 7515 §7.1) with
    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, CoreError> {
        let keys = self.current();
        let key = keys.first().ok_or_else(|| CoreError::Internal("no signing key".into()))?;
        let header = serde_json::json!({"alg": "RS256", "kid": key.kid, "typ": "JWT"});
        let header = serde_json::to_vec(&header).map_err(|e| CoreError::Internal(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut jws = format!("{}.{}", b64(&header), b64(&payload));
        let mut signature = vec![0u8; key.signer.public_modulus_len()];
        key.signer
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                jws.as_bytes(),
                &mut signature,
            )
            .map_err(|_| CoreError::Internal("signing failed".into()))?;
        jws.push('.');
        jws.push_str(&b64(&signature));
        Ok(jws)
    }

    /// Checks a token's signature (RS256 only: `none` and HMAC are refused), issuer and
    /// audience, and its lifetime against `now`.
    pub fn verify(&self, token: &str, issuer: &str, now: DateTime<Utc>) -> Result<std::sync::Arc<AccessClaims>, CoreError> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(issuer.as_bytes())
            .chain_update([0])
            .chain_update(token.as_bytes())
            .finalize()
            .into();
        let cached = self.verified.lock().ok().and_then(|c| c.get(&key).cloned());
        let claims = match cached {
            Some(c) => c,
            None => {
                let c = std::sync::Arc::new(self.verify_signature(token, issuer)?);
                if let Ok(mut cache) = self.verified.lock() {
                    if cache.len() >= VERIFIED_CACHE_ENTRIES {
                        cache.clear();
                    }
                    cache.insert(key, std::sync::Arc::clone(&c));
                }
                c
            }
        };
        let t = now.timestamp();
        if claims.exp <= t {
            return Err(CoreError::Unauthenticated(
                "Lifetime validation failed, the token is expired.".into(),
            ));
        }
        if claims.nbf.is_some_and(|nbf| nbf > t + 300) {
            return Err(CoreError::Unauthenticated(
                "Access token validation failure: the token is not valid yet.".into(),
            ));
        }
        Ok(claims)
    }

    /// The client an ID token we issued was for (logout's `id_token_hint`, RP-Initiated
    /// Logout 1.0 §2): signature and issuer are checked; an expired hint is still good.
    #[must_use]
    pub fn id_token_hint_audience(&self, token: &str, issuer: &str) -> Option<String> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let keys = self.current();
        let key = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref())?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[issuer]);
        v.validate_exp = false;
        v.validate_aud = false;
        v.set_required_spec_claims(&["iss", "aud"]);
        let data = jsonwebtoken::decode::<IdClaims>(token, &key.decoding, &v).ok()?;
        Some(data.claims.aud)
    }

    /// Checks signature (RS256 only), issuer and audience; not the lifetime.
    fn verify_signature(&self, token: &str, issuer: &str) -> Result<AccessClaims, CoreError> {
        let bad = |why: &str| CoreError::Unauthenticated(format!("Access token validation failure: {why}."));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("the token is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(bad("the token is not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| bad("the token names no key"))?;
        let keys = self.current();
        let key = keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| bad("the token is signed by an unknown key"))?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[GRAPH_AUDIENCE, GRAPH_APP_ID]);
        v.set_issuer(&[issuer]);
        v.validate_exp = false; // checked in `verify` against the injected clock
        v.validate_nbf = false;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &v).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience => bad("the token's audience is not this API"),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => bad("the token was issued for another tenant or server"),
            jsonwebtoken::errors::ErrorKind::InvalidSignature => bad("the signature does not verify"),
            _ => bad("the token is malformed"),
        })?;
        Ok(data.claims)
    }
}

/// The claims of an access token for the Graph-compatible API, in Entra's names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub tid: String,
    pub sub: String,
    /// The client the token was issued to.
    pub azp: String,
    pub appid: String,
    /// `app` for app-only tokens, `user` for delegated ones.
    pub idtyp: String,
    /// App-only: the application permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Delegated: the user's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Delegated: the user's directory role template ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
    /// Delegated: the granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    pub ver: String,
    pub jti: String,
    /// Delegated: the session the token came from; the token dies with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The claims of an ID token (OpenID Connect Core §2), with Entra's extras.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub oid: String,
    pub tid: String,
    pub preferred_username: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub amr: Vec<String>,
    pub sid: String,
    pub ver: String,
}
