//! Master keys. The current key seals new writes; previous keys only open old entries. A key's id
//! is derived from the key itself (a SHA-256 fingerprint), so configuration holds keys only.

use std::collections::HashMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("a master key is 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("the secret was sealed with master key {0}, which is not configured")]
    UnknownKey(String),
    #[error(
        "the secret cannot be decrypted (wrong key, tenant, name or version, or tampered data)"
    )]
    Undecryptable,
}

/// One AES-256 master key.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, KeyringError> {
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| KeyringError::BadKey)?;
        let digest = Sha256::digest([b"switchboard-master-key:".as_slice(), bytes].concat());
        Ok(MasterKey {
            id: format!("mk-{}", &hex::encode(digest)[..16]),
            cipher,
        })
    }

    pub fn from_base64(encoded: &str) -> Result<MasterKey, KeyringError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| KeyringError::BadKey)?;
        MasterKey::from_bytes(&bytes)
    }

    /// A new random key, base64-encoded.
    pub fn generate_base64() -> String {
        STANDARD.encode(rand::rng().random::<[u8; 32]>())
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The sealed form of a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: HashMap<String, MasterKey>,
}

fn associated_data(tenant: &str, name: &str, version: i64) -> Vec<u8> {
    format!("switchboard-secret\x1f{tenant}\x1f{name}\x1f{version}").into_bytes()
}

impl Keyring {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Keyring {
        Keyring {
            previous: previous
                .into_iter()
                .filter(|key| key.id != current.id)
                .map(|key| (key.id.clone(), key))
                .collect(),
            current,
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    fn key(&self, id: &str) -> Result<&MasterKey, KeyringError> {
        if id == self.current.id {
            return Ok(&self.current);
        }
        self.previous
            .get(id)
            .ok_or_else(|| KeyringError::UnknownKey(id.to_owned()))
    }

    pub(crate) fn seal(&self, tenant: &str, name: &str, version: i64, plaintext: &[u8]) -> Sealed {
        let nonce: [u8; 12] = rand::rng().random();
        let aad = associated_data(tenant, name, version);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // AES-GCM encryption fails only for inputs over 64 GiB.
            .expect("AES-GCM encryption of a small secret");
        Sealed {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    pub(crate) fn open(
        &self,
        tenant: &str,
        name: &str,
        version: i64,
        sealed: &Sealed,
    ) -> Result<Vec<u8>, KeyringError> {
        let nonce: [u8; 12] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| KeyringError::Undecryptable)?;
        let aad = associated_data(tenant, name, version);
        self.key(&sealed.key_id)?
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyringError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts_that_both_open() {
        let ring = Keyring::new(key(), vec![]);
        let a = ring.seal("acme", "oak", 1, b"hunter2");
        let b = ring.seal("acme", "oak", 1, b"hunter2");
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(ring.open("acme", "oak", 1, &a).unwrap(), b"hunter2");
        assert_eq!(ring.open("acme", "oak", 1, &b).unwrap(), b"hunter2");
    }

    #[test]
    fn another_tenant_name_or_version_cannot_open_it() {
        let ring = Keyring::new(key(), vec![]);
        let sealed = ring.seal("acme", "oak", 3, b"hunter2");
        assert!(ring.open("acme-evil", "oak", 3, &sealed).is_err());
        assert!(ring.open("acme", "other", 3, &sealed).is_err());
        assert!(ring.open("acme", "oak", 2, &sealed).is_err());
    }

    #[test]
    fn one_flipped_bit_fails() {
        let ring = Keyring::new(key(), vec![]);
        let sealed = ring.seal("acme", "oak", 1, b"hunter2");
        for i in 0..sealed.ciphertext.len() * 8 {
            let mut tampered = sealed.clone();
            tampered.ciphertext[i / 8] ^= 1 << (i % 8);
            assert!(ring.open("acme", "oak", 1, &tampered).is_err(), "bit {i}");
        }
        let mut tampered = sealed.clone();
        tampered.nonce[0] ^= 1;
        assert!(ring.open("acme", "oak", 1, &tampered).is_err());
    }

    #[test]
    fn previous_keys_open_old_entries_and_new_writes_use_the_current_key() {
        let (old, new) = (key(), key());
        let sealed = Keyring::new(old.clone(), vec![]).seal("acme", "oak", 1, b"v");
        let rotated = Keyring::new(new.clone(), vec![old.clone()]);
        assert_eq!(rotated.open("acme", "oak", 1, &sealed).unwrap(), b"v");
        assert_eq!(rotated.seal("acme", "oak", 1, b"v").key_id, new.id());
        let forgotten = Keyring::new(new, vec![]);
        assert!(matches!(
            forgotten.open("acme", "oak", 1, &sealed),
            Err(KeyringError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_keys_are_refused_and_debug_shows_no_key_material() {
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(MasterKey::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        let k = key();
        let shown = format!("{k:?}");
        assert!(shown.contains(k.id()) && !shown.contains("cipher"));
    }
}
