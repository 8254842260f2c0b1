//! The stateless encoders (`certexport::formats`), for programs that hold a
//! chain and a key already: each output read back by OpenSSL and Python
//! `cryptography` (and Java `keytool` for PFX) — chain order kept, key
//! equal to the certificate's. And rustls' types in and out (feature
//! `pki-types`).
//!
//! Fixtures: tests/data/pki (RSA root, intermediate, rsa.example.com and
//! p256.example.com with their keys).
#![allow(clippy::unwrap_used)]

mod common;

use certexport::formats::{self, KeyEncoding, KeyEncryption, P7bEncoding, PfxOptions, PfxProfile};
use certexport::random::OsRandom;
use certexport::{ExportError, Password, PrivateKey};
use common::{data, openssl, openssl_subjects, python};

const ROOT: &str = "CN=Test Root CA,O=certexport tests,C=US";
const INTERMEDIATE: &str = "CN=Test Intermediate CA,O=certexport tests,C=US";
const LEAF: &str = "CN=rsa.example.com,O=certexport tests,C=US";

/// Root, intermediate and leaf, as DER, in that order.
fn root_first() -> Vec<Vec<u8>> {
    ["01-root.pem", "02-intermediate.pem", "03-rsa.example.com.pem"]
        .iter()
        .flat_map(|name| formats::read_certificates(&std::fs::read(data("pki").join(name)).unwrap()).unwrap())
        .collect()
}

fn rsa_key() -> PrivateKey {
    PrivateKey::from_pem(&std::fs::read_to_string(data("pki").join("03-rsa.example.com.key")).unwrap()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn leaf_public_key() -> String {
    let leaf = root_first().pop().unwrap();
    openssl(&["x509", "-inform", "DER", "-noout", "-pubkey"], &leaf)
}

#[test]
fn a_pem_chain_keeps_the_order_given() {
    for (chain, expected) in [
        (root_first(), [ROOT, INTERMEDIATE, LEAF]),
        (root_first().into_iter().rev().collect(), [LEAF, INTERMEDIATE, ROOT]),
    ] {
        let pem = formats::pem_chain(&chain, true).unwrap();
        let text = String::from_utf8(pem.clone()).unwrap();
        let headers: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("subject=")).collect();
        assert_eq!(headers, expected);
        let p7 = openssl(&["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"], &pem);
        assert_eq!(
            openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7.as_bytes()),
            expected
        );
        assert_eq!(common::python_subjects(common::PY_SUBJECTS_PEM, &pem), expected);
        let bare = formats::pem_chain(&chain, false).unwrap();
        assert!(bare.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }
}

#[test]
fn a_p7b_keeps_the_order_given_in_der_and_pem() {
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    let der = formats::p7b(&chain, P7bEncoding::Der).unwrap();
    let expected = [LEAF, INTERMEDIATE, ROOT];
    assert_eq!(
        openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &der),
        expected
    );
    assert_eq!(common::python_subjects(common::PY_SUBJECTS_DER_P7B, &der), expected);
    let pem = formats::p7b(&chain, P7bEncoding::Pem).unwrap();
    assert!(pem.starts_with(b"-----BEGIN PKCS7-----"));
    assert_eq!(openssl_subjects(&["pkcs7", "-print_certs", "-noout"], &pem), expected);
}

const PY_KEY: &str = "import base64, sys
from cryptography.hazmat.primitives import serialization
data, password, der = sys.stdin.buffer.read().split(b'\\n')
data = base64.b64decode(data)
load = serialization.load_der_private_key if der == b'der' else serialization.load_pem_private_key
key = load(data, password=password)
print(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(), end='')";

#[test]
fn an_encrypted_pkcs8_opens_to_the_certificates_key() {
    let password = Password::new("stateless pw").unwrap();
    for encryption in [
        KeyEncryption::default().with_iterations(2_000),
        KeyEncryption::legacy_pkcs12_triple_des(),
    ] {
        for encoding in [KeyEncoding::Pem, KeyEncoding::Der] {
            let out = formats::encrypted_pkcs8(&rsa_key(), &password, encryption, encoding, &OsRandom).unwrap();
            let form = if encoding == KeyEncoding::Der { "DER" } else { "PEM" };
            let public = openssl(
                &["pkey", "-inform", form, "-passin", "pass:stateless pw", "-pubout"],
                &out,
            );
            assert_eq!(public, leaf_public_key(), "{encryption:?} {form}");
            let input = format!("{}\nstateless pw\n{}", b64(&out), form.to_lowercase());
            assert_eq!(
                python(PY_KEY, input.as_bytes()),
                leaf_public_key(),
                "{encryption:?} {form}"
            );
        }
    }
}

const PY_PFX: &str = "import base64, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
data, password = sys.stdin.buffer.read().split(b'\\n')
data = base64.b64decode(data)
key, cert, cas = pkcs12.load_key_and_certificates(data, password)
spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
print(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki))
print(cert.subject.rfc4514_string())
for c in cas:
    print(c.subject.rfc4514_string())";

#[test]
fn a_pfx_holds_the_key_with_its_certificate_and_the_chain_in_order() {
    let password = Password::new("stateless pw").unwrap();
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let mut options = PfxOptions::with_profile(profile);
        options.friendly_name = Some("web".into());
        let pfx = formats::pfx(&rsa_key(), &chain, &password, &options, &OsRandom).unwrap();
        let mut args = vec!["pkcs12", "-passin", "pass:stateless pw", "-info", "-nokeys"];
        if profile == PfxProfile::Legacy {
            args.push("-legacy");
        }
        let out = common::run("openssl", &args, &pfx);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 3);
        assert!(text.contains("friendlyName: web"), "{text}");
        let input = format!("{}\nstateless pw", b64(&pfx));
        let lines: Vec<String> = python(PY_PFX, input.as_bytes()).lines().map(str::to_owned).collect();
        assert_eq!(lines, ["True", LEAF, INTERMEDIATE, ROOT]);
        let dir = common::tempdir();
        let file = common::write(dir.path(), "k.pfx", &pfx);
        let keytool = common::run(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                file.to_str().unwrap(),
                "-storepass",
                "stateless pw",
            ],
            b"",
        );
        let listing = String::from_utf8_lossy(&keytool.stdout);
        assert!(
            listing.contains("web, ") && listing.contains("PrivateKeyEntry"),
            "{listing}"
        );
    }
}

#[test]
fn the_encoders_refuse_what_is_not_a_chain_or_not_its_key() {
    let password = Password::new("pw").unwrap();
    let other = PrivateKey::from_pem(&std::fs::read_to_string(data("pki").join("04-p256.example.com.key")).unwrap());
    let other = other.unwrap();
    let result = formats::pfx(&other, &root_first(), &password, &PfxOptions::default(), &OsRandom);
    assert!(matches!(result, Err(ExportError::KeyMismatch { .. })));
    let garbage = [b"not a certificate".to_vec()];
    assert!(matches!(
        formats::pem_chain(&garbage, false),
        Err(ExportError::MalformedCertificate { .. })
    ));
    assert!(formats::p7b(&garbage, P7bEncoding::Der).is_err());
    assert!(matches!(
        formats::read_certificates(b"junk"),
        Err(ExportError::UnreadableCertificates { .. })
    ));
}

#[cfg(feature = "pki-types")]
#[test]
fn rustls_types_go_in_and_come_out() {
    use certexport::options::{ChainOrder, RootCertificate};
    use certexport::store::MemoryStore;
    use certexport::{Caller, ExportRequest, ExportSettings, Exporter};
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    let chain: Vec<CertificateDer<'static>> = root_first().into_iter().map(CertificateDer::from).collect();
    // In: a store from CertificateDer, a key from PrivateKeyDer, the encoders on both.
    let mut store = MemoryStore::new();
    for certificate in &chain {
        store.insert(certificate).unwrap();
    }
    let key_der = rsa_key().to_private_key_der();
    let key = PrivateKey::try_from(&key_der).unwrap();
    assert_eq!(key.secret_pkcs8_der(), key_der.secret_der());
    store.insert_private_key(key);
    let p7b = formats::p7b(&chain, P7bEncoding::Der).unwrap();
    assert_eq!(
        openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &p7b),
        [ROOT, INTERMEDIATE, LEAF]
    );
    // Out: the chain an export chose, without its root, for rustls.
    let mut settings =
        ExportSettings::default().with_time(certexport::options::ExportTime::UnixSeconds(common::TEST_TIME));
    settings.chain.root = RootCertificate::Exclude;
    let exporter = Exporter::with_settings(store, settings);
    let mut request = ExportRequest::new(certexport::ids::Thumbprint::sha1_of(&chain[2]));
    request.include_chain = true;
    request.chain_order = ChainOrder::EndEntityFirst;
    let served: Vec<CertificateDer<'static>> = exporter
        .certificate_ders(&Caller::single_tenant_full_access(), &request)
        .unwrap();
    assert_eq!(served, [chain[2].clone(), chain[1].clone()]);
    assert!(matches!(
        PrivateKeyDer::try_from(key_der.secret_der()),
        Ok(PrivateKeyDer::Pkcs8(_))
    ));
}
