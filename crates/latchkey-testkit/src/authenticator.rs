//! A software WebAuthn authenticator for tests and benchmarks: a P-256 key pair per
//! credential (aws-lc-rs), "none" attestation, user presence and verification set, the
//! browser's `credential.toJSON()` shapes. It answers whatever challenge and origin it
//! is given, so tests can also forge wrong ones. (Browser tests use Chromium's own
//! virtual authenticator instead.)

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_cbor_2::Value;
use serde_json::{Value as Json, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// WebAuthn authenticator-data flags (§6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;

/// The AAGUID this authenticator reports (Chromium's virtual authenticator uses it too).
pub const AAGUID: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One discoverable credential held by the software authenticator.
pub struct SoftPasskey {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    pub rp_id: String,
    counter: u32,
}

impl std::fmt::Debug for SoftPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SoftPasskey({})", b64(&self.credential_id))
    }
}

/// Reads `publicKey.challenge` (base64url) from creation or request options as the
/// server sent them (`{"publicKey": {...}}` or the bare inner object).
#[must_use]
pub fn challenge_of(options: &Json) -> String {
    let inner = options.get("publicKey").unwrap_or(options);
    inner["challenge"].as_str().unwrap_or_default().to_owned()
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
        .into_bytes()
}

impl SoftPasskey {
    /// Creates a credential for `rp_id` answering the creation `options`' challenge as if
    /// from `origin`; returns the credential and the registration JSON to post.
    ///
    /// # Panics
    /// If key generation fails (it does not with aws-lc-rs).
    #[must_use]
    pub fn register(rp_id: &str, origin: &str, options: &Json) -> (Self, Json) {
        let inner = options.get("publicKey").unwrap_or(options);
        let user_handle = URL_SAFE_NO_PAD
            .decode(inner["user"]["id"].as_str().unwrap_or_default())
            .unwrap_or_default();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("P-256 key");
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).expect("randomness");
        let me = Self {
            key,
            credential_id,
            user_handle,
            rp_id: rp_id.to_owned(),
            counter: 0,
        };
        let json = me.attestation(&challenge_of(options), origin);
        (me, json)
    }

    fn cose_key(&self) -> Vec<u8> {
        // Uncompressed point: 0x04 || x || y.
        let point = self.key.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let mut map = BTreeMap::new();
        map.insert(Value::Integer(1), Value::Integer(2)); // kty: EC2
        map.insert(Value::Integer(3), Value::Integer(-7)); // alg: ES256
        map.insert(Value::Integer(-1), Value::Integer(1)); // crv: P-256
        map.insert(Value::Integer(-2), Value::Bytes(x.to_vec()));
        map.insert(Value::Integer(-3), Value::Bytes(y.to_vec()));
        serde_cbor_2::to_vec(&Value::Map(map)).expect("CBOR")
    }

    fn auth_data(&self, flags: u8, with_credential: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        if with_credential {
            data.extend_from_slice(&AAGUID);
            data.extend_from_slice(&u16::try_from(self.credential_id.len()).unwrap_or(0).to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// The registration response for `challenge` from `origin` (forgeable for tests).
    #[must_use]
    pub fn attestation(&self, challenge: &str, origin: &str) -> Json {
        let auth_data = self.auth_data(USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL_DATA, true);
        let mut object = BTreeMap::new();
        object.insert(Value::Text("fmt".into()), Value::Text("none".into()));
        object.insert(Value::Text("attStmt".into()), Value::Map(BTreeMap::new()));
        object.insert(Value::Text("authData".into()), Value::Bytes(auth_data));
        let attestation_object = serde_cbor_2::to_vec(&Value::Map(object)).expect("CBOR");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation_object),
                "clientDataJSON": b64(&client_data("webauthn.create", challenge, origin)),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// Signs in: the assertion for the request `options`' challenge from `origin`. Each
    /// assertion advances the signature counter.
    ///
    /// # Panics
    /// If signing fails (it does not with aws-lc-rs).
    pub fn assert(&mut self, options: &Json, origin: &str) -> Json {
        self.assert_challenge(&challenge_of(options), origin)
    }

    /// An assertion for an explicit challenge (tests forge wrong ones).
    ///
    /// # Panics
    /// If signing fails.
    pub fn assert_challenge(&mut self, challenge: &str, origin: &str) -> Json {
        self.counter += 1;
        let auth_data = self.auth_data(USER_PRESENT | USER_VERIFIED, false);
        let client = client_data("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client));
        let signature = self.key.sign(&SystemRandom::new(), &signed).expect("ECDSA signature");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
    }
}
