//! The extension point of SPEC §8, proven from outside the crate: a
//! `CertificateStore` over `HashMap`s read from a JSON file — written here
//! with nothing but the crate's public API, indexed by `IndexKeys` — exports
//! through the same `Exporter` the same bytes as `MemoryStore` does for the
//! same certificates (fixed salts and IVs), and OpenSSL reads them.
//!
//! Fixtures: tests/data/pki (the RSA chain and its leaves' keys).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use certexport::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use certexport::name::NameKey;
use certexport::options::{ChainOrder, KeyExport, KeyPlacement};
use certexport::random::RandomSource;
use certexport::store::{
    CertMetadata, CertificateStore, IndexKeys, KeyRef, PublicKeyFingerprint, StoredCertificate, StoredKey,
};
use certexport::{CertificateFormat, ExportError, ExportRequest, Exporter, Password, PrivateKey};
use serde_json::json;

/// A store of certificates and keys from a JSON document:
/// `{"certificates": [{"id": 1, "der_hex": "...", "collections": [..]}],
///   "keys": [{"pem": "..."}]}`.
struct JsonStore {
    certificates: HashMap<u64, Entry>,
    by_digest: HashMap<Vec<u8>, u64>,
    by_issuer_serial: HashMap<(NameKey, SerialNumber), Vec<u64>>,
    by_subject: HashMap<NameKey, Vec<u64>>,
    by_public_key: HashMap<PublicKeyFingerprint, Vec<u64>>,
    keys: HashMap<PublicKeyFingerprint, PrivateKey>,
}

struct Entry {
    der: Vec<u8>,
    index: IndexKeys,
    metadata: CertMetadata,
}

impl JsonStore {
    fn from_json(json: &serde_json::Value) -> Self {
        let mut store = JsonStore {
            certificates: HashMap::new(),
            by_digest: HashMap::new(),
            by_issuer_serial: HashMap::new(),
            by_subject: HashMap::new(),
            by_public_key: HashMap::new(),
            keys: HashMap::new(),
        };
        for entry in json["certificates"].as_array().unwrap() {
            let id = entry["id"].as_u64().unwrap();
            let der = hex_decode(entry["der_hex"].as_str().unwrap());
            let index = IndexKeys::of(&der).unwrap();
            let mut metadata = CertMetadata::default();
            metadata.collections = serde_json::from_value(entry["collections"].clone()).unwrap_or_default();
            store.by_digest.insert(index.sha1.to_vec(), id);
            store.by_digest.insert(index.sha256.to_vec(), id);
            store
                .by_issuer_serial
                .entry((index.issuer.clone(), index.serial.clone()))
                .or_default()
                .push(id);
            store.by_subject.entry(index.subject.clone()).or_default().push(id);
            if let Some(fingerprint) = index.public_key {
                store.by_public_key.entry(fingerprint).or_default().push(id);
            }
            store.certificates.insert(id, Entry { der, index, metadata });
        }
        for key in json["keys"].as_array().unwrap() {
            let key = PrivateKey::from_pem(key["pem"].as_str().unwrap()).unwrap();
            store.keys.insert(key.public_key_fingerprint(), key);
        }
        store
    }

    fn stored(&self, id: u64) -> StoredCertificate<'_> {
        let entry = &self.certificates[&id];
        StoredCertificate::new(CertId(id), entry.der.as_slice(), &entry.metadata).with_sha256(entry.index.sha256)
    }

    fn all(&self, ids: Option<&Vec<u64>>) -> Vec<StoredCertificate<'_>> {
        ids.into_iter().flatten().map(|&id| self.stored(id)).collect()
    }
}

impl CertificateStore for JsonStore {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(self.certificates.contains_key(&id.0).then(|| self.stored(id.0)))
    }

    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(self.by_digest.get(thumbprint.as_bytes()).map(|&id| self.stored(id)))
    }

    fn certificate_by_uuid(&self, _uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(None)
    }

    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        Ok(self.all(self.by_issuer_serial.get(&(issuer.clone(), serial.clone()))))
    }

    fn issuer_candidates(
        &self,
        subject: &NameKey,
        _key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        // Every certificate of that subject: extra candidates are allowed.
        Ok(self.all(self.by_subject.get(subject)))
    }

    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
        let Some(fingerprint) = self.certificates.get(&id.0).and_then(|e| e.index.public_key) else {
            return Ok(None);
        };
        let Some(key) = self.keys.get(&fingerprint) else {
            return Ok(None);
        };
        let policies = self.by_public_key[&fingerprint]
            .iter()
            .filter_map(|holder| self.certificates[holder].metadata.key_policy.clone())
            .collect();
        Ok(Some(StoredKey::new(KeyRef::Borrowed(key), policies)))
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Counts up from zero: the same salts and IVs for both exporters.
struct Counter(AtomicU8);

impl RandomSource for Counter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        for b in buf {
            *b = self.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// The pki fixture as the JSON document, written from the fixture files.
fn pki_json() -> serde_json::Value {
    let memory = common::store("pki");
    let certificates: Vec<_> = memory
        .iter()
        .map(|(c, _)| json!({"id": c.id.0, "der_hex": c.der.iter().map(|b| format!("{b:02x}")).collect::<String>()}))
        .collect();
    let keys: Vec<_> = std::fs::read_dir(common::data("pki"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "key"))
        .map(|p| json!({"pem": std::fs::read_to_string(p).unwrap()}))
        .collect();
    json!({"certificates": certificates, "keys": keys})
}

fn requests(thumbprint: Thumbprint) -> Vec<ExportRequest> {
    let mut all = Vec::new();
    for format in [CertificateFormat::Pem, CertificateFormat::P7b, CertificateFormat::Pfx] {
        let mut request = ExportRequest::new(thumbprint);
        request.format = format;
        request.include_chain = true;
        request.chain_order = ChainOrder::RootFirst;
        if format == CertificateFormat::Pfx {
            request.private_key = KeyExport::encrypted(KeyPlacement::WithCertificate, Password::new("pw").unwrap());
        }
        all.push(request);
    }
    all
}

#[test]
fn a_store_of_ones_own_exports_what_memory_store_exports() {
    let json_store = JsonStore::from_json(&pki_json());
    let leaf = common::by_cn(&common::store("pki"), "rsa.example.com");
    let ours = Exporter::with_settings(json_store, common::settings()).with_random_source(Arc::new(Counter(0.into())));
    let memory = Exporter::with_settings(common::store("pki"), common::settings())
        .with_random_source(Arc::new(Counter(0.into())));
    for request in requests(leaf) {
        let a = ours.export(&common::admin(), &request).unwrap();
        let b = memory.export(&common::admin(), &request).unwrap();
        assert_eq!(a.bytes(), b.bytes(), "{:?}", request.format);
        assert_eq!(a.file_name(), b.file_name());
        assert_eq!(a.certificate_count(), 3);
    }
    // OpenSSL reads the chain the custom store built, root first.
    let p7b = ours.export(&common::admin(), &requests(leaf).remove(1)).unwrap();
    let subjects = common::openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], p7b.bytes());
    assert_eq!(subjects.len(), 3);
    assert!(subjects[0].contains("Test Root CA"), "{subjects:?}");
    assert!(subjects[2].starts_with("CN=rsa.example.com"), "{subjects:?}");
}

#[test]
fn a_custom_stores_failure_keeps_its_cause() {
    struct Down;
    impl CertificateStore for Down {
        fn certificate(&self, _: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
            Err(ExportError::backend(std::io::Error::other("database unreachable")))
        }
        fn certificate_by_thumbprint(&self, _: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
            Err(ExportError::backend(std::io::Error::other("database unreachable")))
        }
        fn certificate_by_uuid(&self, _: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
            Ok(None)
        }
        fn certificates_by_issuer_serial(
            &self,
            _: &NameKey,
            _: &SerialNumber,
        ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
            Ok(Vec::new())
        }
        fn issuer_candidates(&self, _: &NameKey, _: Option<&[u8]>) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
            Ok(Vec::new())
        }
        fn private_key(&self, _: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
            Ok(None)
        }
    }
    let error = Exporter::new(Down)
        .export(&common::admin(), &ExportRequest::new(CertId(1)))
        .unwrap_err();
    assert!(matches!(error, ExportError::Backend(_)));
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert_eq!(cause, "database unreachable");
}
