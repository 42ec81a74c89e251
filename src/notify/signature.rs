//! Webhook signatures: Standard Webhooks (`webhook-*` headers) and GitHub-style `X-Hub-Signature-256`.
//!
//! Standard Webhooks: the signed content is `"{id}.{timestamp}.{body}"`, the header value is
//! `v1,<base64 HMAC-SHA256>`; during secret rotation the header carries one signature per secret,
//! separated by a space. Secrets of the form `whsec_<base64>` use the decoded bytes as the key
//! (as the spec says), any other secret its UTF-8 bytes.
//!
//! GitHub style: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed on the
//! primary secret's UTF-8 bytes exactly as configured, `whsec_` prefix and all: a GitHub-style
//! receiver is given the secret string and keys its HMAC on that (issue 17).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("no webhook secret configured")]
    NoSecret,
    #[error("webhook secret is empty")]
    EmptySecret,
    #[error("webhook secret starts with whsec_ but is not valid base64")]
    BadBase64,
}

/// Signs outgoing webhook deliveries with one or more secrets (the first is primary).
#[derive(Clone)]
pub struct Signer {
    /// Standard Webhooks keys, one per secret, primary first.
    standard_keys: Vec<Vec<u8>>,
    /// The GitHub-style key: the primary secret's UTF-8 bytes.
    github_key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "Signer {{ secrets: {} }}", self.standard_keys.len())
    }
}

/// The secret as configured, without surrounding whitespace (a newline from a file or an
/// environment variable is never part of it).
fn written(secret: &str) -> Result<&str, SignatureError> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    Ok(secret)
}

/// The GitHub-style HMAC key: the secret's UTF-8 bytes as written.
fn github_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    Ok(written(secret)?.as_bytes().to_vec())
}

/// The Standard Webhooks HMAC key: a `whsec_` secret's decoded bytes, else its UTF-8 bytes.
fn standard_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let secret = written(secret)?;
    match secret.strip_prefix("whsec_") {
        Some(encoded) => {
            let key = B64.decode(encoded).map_err(|_| SignatureError::BadBase64)?;
            if key.is_empty() {
                return Err(SignatureError::EmptySecret);
            }
            Ok(key)
        }
        None => Ok(secret.as_bytes().to_vec()),
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn standard_mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut m = mac(key);
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

impl Signer {
    pub fn new(secrets: &[String]) -> Result<Signer, SignatureError> {
        let primary = secrets.first().ok_or(SignatureError::NoSecret)?;
        let standard_keys = secrets
            .iter()
            .map(|s| standard_key(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Signer {
            standard_keys,
            github_key: github_key(primary)?,
        })
    }

    /// `webhook-signature` value: `v1,<b64>` per secret, space separated.
    pub fn standard_signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        self.standard_keys
            .iter()
            .map(|key| {
                let tag = standard_mac(key, id, &ts, body).finalize().into_bytes();
                format!("v1,{}", B64.encode(tag))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `X-Hub-Signature-256` value: `sha256=<hex>`, keyed on the primary secret as written.
    pub fn github_signature(&self, body: &[u8]) -> String {
        let mut m = mac(&self.github_key);
        m.update(body);
        format!("sha256={}", hex::encode(m.finalize().into_bytes()))
    }

    /// All signature headers for one delivery (header names in lowercase).
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                self.standard_signature(id, timestamp, body),
            ),
            ("x-hub-signature-256", self.github_signature(body)),
        ]
    }
}

/// True if any `v1,` signature in `signature_header` matches (constant-time comparison).
/// Does not check the timestamp's age; callers do that against their clock.
pub fn verify_standard(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signature_header: &str,
) -> bool {
    let Ok(key) = standard_key(secret) else {
        return false;
    };
    signature_header.split_whitespace().any(|sig| {
        let Some(encoded) = sig.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = B64.decode(encoded) else {
            return false;
        };
        standard_mac(&key, id, timestamp, body)
            .verify_slice(&tag)
            .is_ok()
    })
}

/// True if `header` is `sha256=<hex>` of the body's HMAC-SHA256 keyed on `secret` as written.
pub fn verify_github(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(key) = github_key(secret) else {
        return false;
    };
    let Some(hex_tag) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_tag) else {
        return false;
    };
    let mut m = mac(&key);
    m.update(body);
    m.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Example from the Standard Webhooks specification / reference libraries.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn signer(secrets: &[&str]) -> Signer {
        Signer::new(&secrets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn spec_example_signs_and_verifies() {
        let s = signer(&[SPEC_SECRET]);
        assert_eq!(s.standard_signature(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
        assert!(verify_standard(
            SPEC_SECRET,
            SPEC_ID,
            "1614265330",
            SPEC_BODY,
            SPEC_SIG
        ));
    }

    #[test]
    fn headers_contain_everything() {
        let s = signer(&[SPEC_SECRET]);
        let h = s.headers(SPEC_ID, SPEC_TS, SPEC_BODY);
        let get = |name: &str| h.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("webhook-id"), SPEC_ID);
        assert_eq!(get("webhook-timestamp"), "1614265330");
        assert_eq!(get("webhook-signature"), SPEC_SIG);
        assert!(verify_github(
            SPEC_SECRET,
            SPEC_BODY,
            &get("x-hub-signature-256")
        ));
    }

    #[test]
    fn tampering_fails() {
        let s = signer(&[SPEC_SECRET]);
        let sig = s.standard_signature(SPEC_ID, SPEC_TS, SPEC_BODY);
        assert!(!verify_standard(
            SPEC_SECRET,
            SPEC_ID,
            "1614265331",
            SPEC_BODY,
            &sig
        ));
        assert!(!verify_standard(
            SPEC_SECRET,
            "msg_other",
            "1614265330",
            SPEC_BODY,
            &sig
        ));
        assert!(!verify_standard(
            SPEC_SECRET,
            SPEC_ID,
            "1614265330",
            b"{}",
            &sig
        ));
        assert!(!verify_standard(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAA",
            SPEC_ID,
            "1614265330",
            SPEC_BODY,
            &sig
        ));
        assert!(!verify_standard(
            SPEC_SECRET,
            SPEC_ID,
            "1614265330",
            SPEC_BODY,
            "v2,abc v1,not-base64!"
        ));
        assert!(!verify_standard(
            SPEC_SECRET,
            SPEC_ID,
            "1614265330",
            SPEC_BODY,
            ""
        ));
    }

    #[test]
    fn rotation_carries_both_signatures() {
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let new = "plain text secret";
        let s = signer(&[new, old]);
        let sig = s.standard_signature("msg_1", 1700000000, b"hello");
        let parts: Vec<&str> = sig.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        // A receiver knowing only one of the two secrets accepts the delivery.
        assert!(verify_standard(old, "msg_1", "1700000000", b"hello", &sig));
        assert!(verify_standard(new, "msg_1", "1700000000", b"hello", &sig));
        assert!(!verify_standard(
            "third",
            "msg_1",
            "1700000000",
            b"hello",
            &sig
        ));
        // GitHub style uses the primary (first) secret only.
        let gh = s.github_signature(b"hello");
        assert!(verify_github(new, b"hello", &gh));
        assert!(!verify_github(old, b"hello", &gh));
    }

    /// Issue 17: GitHub-style receivers key on the secret string as configured, so a `whsec_`
    /// secret signs `X-Hub-Signature-256` with its UTF-8 bytes, prefix and all, while the
    /// Standard Webhooks header keeps the decoded bytes. The figures were computed apart, with
    /// Python's `hmac` module.
    #[test]
    fn issue_17_github_signature_keys_on_the_secret_as_written() {
        let s = signer(&[SPEC_SECRET]);
        assert_eq!(
            s.github_signature(SPEC_BODY),
            "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c"
        );
        // Not keyed on the decoded bytes (what tidings did before).
        assert!(!verify_github(
            SPEC_SECRET,
            SPEC_BODY,
            "sha256=e2cb4f5251572539d458bfb8a7adb533b08801e6a794467e06f771debbb0818b"
        ));
        assert_eq!(s.standard_signature(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
        // A newline around the secret (from a file or the environment) is not part of it.
        let padded = Signer::new(&[format!("{SPEC_SECRET}\n")]).unwrap();
        assert_eq!(
            padded.github_signature(SPEC_BODY),
            s.github_signature(SPEC_BODY)
        );
    }

    #[test]
    fn raw_secret_uses_its_bytes() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a well-known vector.
        let s = signer(&["key"]);
        assert_eq!(
            s.github_signature(b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert!(!verify_github("key", b"x", "sha1=00"));
        assert!(!verify_github("key", b"x", "sha256=zz"));
    }

    #[test]
    fn bad_secrets_rejected() {
        assert_eq!(Signer::new(&[]).unwrap_err(), SignatureError::NoSecret);
        assert_eq!(
            Signer::new(&["  ".into()]).unwrap_err(),
            SignatureError::EmptySecret
        );
        assert_eq!(
            Signer::new(&["whsec_!!!".into()]).unwrap_err(),
            SignatureError::BadBase64
        );
        assert!(!format!("{:?}", signer(&["topsecret"])).contains("topsecret"));
    }
}
