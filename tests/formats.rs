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

use certexport::formats::{
    self, ChainOrder, KeyEncoding, KeyEncryption, P7bEncoding, PfxOptions, PfxProfile, SubjectHeaders,
};
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
    PrivateKey::from_pem(std::fs::read_to_string(data("pki").join("03-rsa.example.com.key")).unwrap()).unwrap()
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
fn a_pem_chain_is_written_in_the_order_asked_for() {
    // The chain is given end entity first, as TLS holds it.
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    for (order, expected) in [
        (ChainOrder::RootFirst, [ROOT, INTERMEDIATE, LEAF]),
        (ChainOrder::EndEntityFirst, [LEAF, INTERMEDIATE, ROOT]),
    ] {
        let pem = formats::pem_chain(&chain, order, SubjectHeaders::Include).unwrap();
        let text = String::from_utf8(pem.clone()).unwrap();
        let headers: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("subject=")).collect();
        assert_eq!(headers, expected);
        let p7 = openssl(&["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"], &pem);
        assert_eq!(
            openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7.as_bytes()),
            expected
        );
        assert_eq!(common::python_subjects(common::PY_SUBJECTS_PEM, &pem), expected);
        let bare = formats::pem_chain(&chain, order, SubjectHeaders::Omit).unwrap();
        assert!(bare.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }
}

#[test]
fn a_p7b_keeps_the_order_asked_for_in_der_and_pem() {
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    let der = formats::p7b(&chain, ChainOrder::EndEntityFirst, P7bEncoding::Der).unwrap();
    let expected = [LEAF, INTERMEDIATE, ROOT];
    assert_eq!(
        openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &der),
        expected
    );
    assert_eq!(common::python_subjects(common::PY_SUBJECTS_DER_P7B, &der), expected);
    let pem = formats::p7b(&chain, ChainOrder::EndEntityFirst, P7bEncoding::Pem).unwrap();
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
            let out = formats::encrypted_pkcs8(&rsa_key(), &password, encryption, encoding).unwrap();
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
        let options = PfxOptions::default().with_profile(profile).with_friendly_name("web");
        let pfx = formats::pfx(&rsa_key(), &chain, &password, &options).unwrap();
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
    let other = PrivateKey::from_pem(std::fs::read_to_string(data("pki").join("04-p256.example.com.key")).unwrap());
    let other = other.unwrap();
    let result = formats::pfx(&other, &root_first(), &password, &PfxOptions::default());
    assert_eq!(result.unwrap_err(), ExportError::KeyNotInChain { certificates: 3 });
    let garbage = [b"not a certificate".to_vec()];
    assert!(matches!(
        formats::pem_chain(&garbage, ChainOrder::EndEntityFirst, SubjectHeaders::Omit),
        Err(ExportError::MalformedCertificate { .. })
    ));
    assert!(formats::p7b(&garbage, ChainOrder::EndEntityFirst, P7bEncoding::Der).is_err());
    assert!(matches!(
        formats::read_certificates(b"junk"),
        Err(ExportError::UnreadableCertificates { .. })
    ));
}

#[test]
fn empty_and_duplicated_chains_are_refused() {
    let none: [Vec<u8>; 0] = [];
    assert_eq!(
        formats::pem_chain(&none, ChainOrder::EndEntityFirst, SubjectHeaders::Omit).unwrap_err(),
        ExportError::EmptyChain { what: "a PEM chain" }
    );
    assert_eq!(
        formats::p7b(&none, ChainOrder::EndEntityFirst, P7bEncoding::Der).unwrap_err(),
        ExportError::EmptyChain { what: "a P7B" }
    );
    let password = Password::new("pw").unwrap();
    assert_eq!(
        formats::pfx(&rsa_key(), &none, &password, &PfxOptions::default()).unwrap_err(),
        ExportError::EmptyChain { what: "a PFX" }
    );
    let mut twice = root_first();
    twice.push(twice[0].clone());
    let error = formats::p7b(&twice, ChainOrder::RootFirst, P7bEncoding::Der).unwrap_err();
    assert_eq!(error, ExportError::DuplicateCertificate { position: 4, first: 1 });
    assert_eq!(
        error.to_string(),
        "certificate #4 of the chain is the same certificate as #1; give each certificate once"
    );
    // A key file holds no certificate: an error, not an empty chain.
    let key_file = std::fs::read(data("pki").join("03-rsa.example.com.key")).unwrap();
    let error = formats::read_certificates(&key_file).unwrap_err();
    assert!(matches!(error, ExportError::UnreadableCertificates { .. }));
    assert!(error.to_string().contains("no certificate"), "{error}");
}

#[test]
fn a_pfx_without_a_friendly_name_is_named_after_the_end_entity() {
    let password = Password::new("stateless pw").unwrap();
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    let pfx = formats::pfx(&rsa_key(), &chain, &password, &PfxOptions::default()).unwrap();
    let text = openssl(&["pkcs12", "-passin", "pass:stateless pw", "-info", "-nokeys"], &pfx);
    assert!(text.contains("friendlyName: rsa.example.com"), "{text}");
}

#[test]
fn a_key_is_read_from_a_pem_that_holds_other_blocks() {
    let key_pem = std::fs::read(data("pki").join("03-rsa.example.com.key")).unwrap();
    let certificate = std::fs::read(data("pki").join("03-rsa.example.com.pem")).unwrap();
    // Certificate, key and chain in one file, as many servers keep them.
    let combined = [
        certificate.clone(),
        key_pem.clone(),
        std::fs::read(data("pki").join("01-root.pem")).unwrap(),
    ]
    .concat();
    let key = PrivateKey::from_pem(&combined).unwrap();
    assert_eq!(key.secret_pkcs8_der(), rsa_key().secret_pkcs8_der());
    // Bytes or text alike.
    assert_eq!(
        PrivateKey::from_pem(String::from_utf8(key_pem.clone()).unwrap())
            .unwrap()
            .secret_pkcs8_der(),
        key.secret_pkcs8_der()
    );
    let two_keys = [
        key_pem.clone(),
        std::fs::read(data("pki").join("04-p256.example.com.key")).unwrap(),
    ]
    .concat();
    let error = PrivateKey::from_pem(&two_keys).unwrap_err();
    assert!(error.to_string().contains("more than one private key"), "{error}");
    let error = PrivateKey::from_pem(&certificate).unwrap_err();
    assert!(error.to_string().contains("no private key block"), "{error}");
}

#[test]
fn an_encrypted_pkcs8_from_openssl_is_read_with_its_password() {
    let key_pem = std::fs::read(data("pki").join("03-rsa.example.com.key")).unwrap();
    let password = Password::new("openssl pw").unwrap();
    for scheme in [
        &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"][..],
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"][..],
        &["-v1", "PBE-SHA1-3DES"][..],
    ] {
        for form in ["PEM", "DER"] {
            let mut args = vec!["pkcs8", "-topk8", "-passout", "pass:openssl pw", "-outform", form];
            args.extend_from_slice(scheme);
            let out = common::run("openssl", &args, &key_pem);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let key = PrivateKey::from_encrypted(&out.stdout, &password)
                .unwrap_or_else(|e| panic!("{scheme:?} {form}: {e:?}"));
            assert_eq!(
                key.secret_pkcs8_der(),
                rsa_key().secret_pkcs8_der(),
                "{scheme:?} {form}"
            );
            let wrong = PrivateKey::from_encrypted(&out.stdout, &Password::new("not it").unwrap());
            assert!(
                matches!(wrong, Err(ExportError::WrongPassword { .. })),
                "{scheme:?} {form}"
            );
        }
    }
    // An encrypted key given to the reader of plain keys says where to go.
    let out = common::run("openssl", &["pkcs8", "-topk8", "-passout", "pass:openssl pw"], &key_pem);
    let error = PrivateKey::from_pem(&out.stdout).unwrap_err();
    assert!(error.to_string().contains("PrivateKey::from_encrypted"), "{error}");
}

#[test]
fn iteration_counts_below_the_floor_are_refused() {
    let password = Password::new("pw").unwrap();
    let chain: Vec<Vec<u8>> = root_first().into_iter().rev().collect();
    for iterations in [1, 999] {
        let error = formats::encrypted_pkcs8(
            &rsa_key(),
            &password,
            KeyEncryption::default().with_iterations(iterations),
            KeyEncoding::Pem,
        )
        .unwrap_err();
        assert_eq!(
            error,
            ExportError::InvalidIterations {
                iterations,
                min: KeyEncryption::MIN_ITERATIONS,
                max: KeyEncryption::MAX_ITERATIONS
            }
        );
        let options = PfxOptions::default().with_iterations(iterations);
        assert!(matches!(
            formats::pfx(&rsa_key(), &chain, &password, &options),
            Err(ExportError::InvalidIterations { min: 1_000, .. })
        ));
    }
    let at_floor = PfxOptions::default().with_iterations(KeyEncryption::MIN_ITERATIONS);
    let pfx = formats::pfx(&rsa_key(), &chain, &password, &at_floor).unwrap();
    let out = common::run("openssl", &["pkcs12", "-passin", "pass:pw", "-info", "-nokeys"], &pfx);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // OpenSSL prints the MAC and PBE parameters on stderr.
    assert!(
        common::stderr(&out).contains("MAC: sha256, Iteration 1000"),
        "{}",
        common::stderr(&out)
    );
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
    // By value too: the rustls key is consumed.
    let by_value = PrivateKey::try_from(key_der.clone_key()).unwrap();
    assert_eq!(by_value.secret_pkcs8_der(), key.secret_pkcs8_der());
    store.insert_private_key(key);
    let p7b = formats::p7b(&chain, ChainOrder::RootFirst, P7bEncoding::Der).unwrap();
    assert_eq!(
        openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &p7b),
        [LEAF, INTERMEDIATE, ROOT]
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
