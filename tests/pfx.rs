//! PKCS#12 (PFX) exports, judged by the programs that open them: `openssl
//! pkcs12`, Python `cryptography` and Java `keytool` (SPEC §6, issue 5).
//!
//! Fixtures (tests/data/pki/, written by tests/data/make_fixtures.py):
//! `01-root.pem` (RSA, CN "Test Root CA"), `02-intermediate.pem` (RSA, CN
//! "Test Intermediate CA"), the leaves with their keys
//! `03-rsa.example.com` (RSA), `04-p256.example.com` (P-256),
//! `05-p384.example.com` (P-384) and `06-ed25519.example.com` (Ed25519),
//! and `08-nokey.example.com.pem`, for which the store holds no key.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Output;

use certexport::formats::{KeyEncryption, PfxProfile};
use certexport::options::{ChainOrder, CspPolicy, FileExtension, KeyExport, KeyPlacement};
use certexport::store::MemoryStore;
use certexport::{CertificateFormat, ExportArtifact, ExportError, ExportRequest, Exporter, Password};
use common::stderr;

const PASSWORD: &str = "correct horse battery staple";
const CSP: &str = "Microsoft Enhanced RSA and AES Cryptographic Provider";
const ROOT: &str = "Test Root CA";
const INTERMEDIATE: &str = "Test Intermediate CA";

/// What issue 5 asks every consumer to open: an RSA and an EC leaf with
/// their three-certificate chain, in both profiles.
const CASES: [(&str, PfxProfile); 4] = [
    ("rsa.example.com", PfxProfile::Modern),
    ("rsa.example.com", PfxProfile::Legacy),
    ("p256.example.com", PfxProfile::Modern),
    ("p256.example.com", PfxProfile::Legacy),
];

// ---------------------------------------------------------------------------
// Requests and exports

/// A PFX request for the leaf `cn` with its chain, the key under `PASSWORD`.
fn request(exporter: &Exporter<MemoryStore>, cn: &str, profile: PfxProfile) -> ExportRequest {
    let mut req = ExportRequest::new(common::by_cn(exporter.store(), cn));
    req.format = CertificateFormat::Pfx;
    req.include_chain = true;
    req.private_key = encrypted_key(PASSWORD);
    req.pfx.profile = profile;
    req
}

fn encrypted_key(password: &str) -> KeyExport {
    KeyExport::Encrypted {
        placement: KeyPlacement::WithCertificate,
        password: Password::new(password).expect("a non-empty test password"),
        encryption: KeyEncryption::default(),
    }
}

/// Exports with `edit` applied to the default request for `cn`.
fn export_with(cn: &str, profile: PfxProfile, edit: impl FnOnce(&mut ExportRequest)) -> ExportArtifact {
    let exporter = common::exporter("pki");
    let mut req = request(&exporter, cn, profile);
    edit(&mut req);
    common::export(&exporter, &req).unwrap_or_else(|e| panic!("PFX of {cn} ({profile:?}): {e}"))
}

fn export(cn: &str, profile: PfxProfile) -> ExportArtifact {
    export_with(cn, profile, |_| {})
}

/// An exporter whose settings allow exactly the CSP `CSP`.
fn exporter_allowing_csp() -> Exporter<MemoryStore> {
    let mut settings = common::settings();
    settings.csps = CspPolicy::allowing([CSP]);
    Exporter::with_settings(common::store("pki"), settings)
}

/// The fixture's PEM certificate of the leaf `cn`.
fn fixture_pem(cn: &str) -> PathBuf {
    std::fs::read_dir(common::data("pki"))
        .expect("tests/data/pki")
        .map(|entry| entry.expect("a directory entry").path())
        .find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&format!("-{cn}.pem")))
        })
        .unwrap_or_else(|| panic!("no fixture for {cn}"))
}

// ---------------------------------------------------------------------------
// openssl pkcs12

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl pkcs12 -info -nodes` (with `-legacy` for the legacy profile),
/// unchecked. The `-info` lines (MAC, encryption) go to stderr, the bags
/// and PEM blocks to stdout.
fn openssl_info(pfx: &[u8], profile: PfxProfile, password: &str, extra: &[&str]) -> Output {
    let passin = format!("pass:{password}");
    let mut args = vec!["pkcs12", "-info", "-nodes", "-passin", &passin];
    if profile == PfxProfile::Legacy {
        args.push("-legacy");
    }
    args.extend_from_slice(extra);
    common::run("openssl", &args, pfx)
}

/// `openssl pkcs12 -info -nodes` that must succeed. OpenSSL 3.0 says
/// nothing when the MAC verifies (1.1's "MAC verified OK" is gone) and
/// fails with "Mac verify error" when it does not; `-nomacver` is never
/// passed, so success means the MAC verified.
fn openssl_opens(pfx: &[u8], profile: PfxProfile, password: &str) -> (String, String) {
    let out = openssl_info(pfx, profile, password, &[]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert!(
        out.status.success(),
        "openssl pkcs12 refused the PFX ({profile:?}): {stderr}"
    );
    assert!(!stderr.contains("Mac verify error"), "{stderr}");
    (stdout, stderr)
}

/// One bag as `openssl pkcs12 -info` prints it.
#[derive(Debug, Default)]
struct Bag {
    /// Attribute lines, e.g. `friendlyName: rsa.example.com`.
    attributes: Vec<String>,
    /// The certificate's CN, for a certificate bag.
    subject: Option<String>,
    /// Whether it is the (decrypted) key.
    key: bool,
}

impl Bag {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find_map(|a| a.strip_prefix(name)?.strip_prefix(": "))
    }
}

/// The bags of `openssl pkcs12 -info` stdout, in file order. Each starts
/// with a `Bag Attributes` line, attributes indented below it.
fn bags(stdout: &str) -> Vec<Bag> {
    let mut bags: Vec<Bag> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("Bag Attributes") {
            bags.push(Bag::default());
            continue;
        }
        let Some(bag) = bags.last_mut() else { continue };
        if let Some(attribute) = line.strip_prefix("    ") {
            bag.attributes.push(attribute.trim_end().to_owned());
        } else if let Some(subject) = line.strip_prefix("subject=") {
            bag.subject = Some(cn(subject));
        } else if line == "-----BEGIN PRIVATE KEY-----" {
            bag.key = true;
        }
    }
    bags
}

/// The CN of an OpenSSL one-line subject (`C = US, O = ..., CN = x`) or
/// an RFC 4514 one (`CN=x,O=...,C=US`).
fn cn(subject: &str) -> String {
    subject
        .split(',')
        .map(str::trim)
        .find_map(|rdn| rdn.strip_prefix("CN = ").or_else(|| rdn.strip_prefix("CN=")))
        .unwrap_or_else(|| panic!("no CN in {subject:?}"))
        .to_owned()
}

/// The CNs of the certificates OpenSSL prints, in file order.
fn certificate_order(stdout: &str) -> Vec<String> {
    bags(stdout).into_iter().filter_map(|b| b.subject).collect()
}

/// The `PRIVATE KEY` PEM block of `openssl pkcs12 -nodes` stdout.
fn private_key_pem(stdout: &str) -> String {
    let start = stdout
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("openssl printed no private key");
    let end = stdout
        .find("-----END PRIVATE KEY-----")
        .expect("unterminated private key")
        + 25;
    format!("{}\n", &stdout[start..end])
}

/// Asserts that the key OpenSSL decrypted belongs to the leaf `cn`:
/// `openssl pkey -pubout` of it equals the certificate's public key.
fn assert_key_matches_certificate(key_pem: &str, cn: &str) {
    let from_key = common::openssl(&["pkey", "-pubout"], key_pem.as_bytes());
    let cert = fixture_pem(cn);
    let from_cert = common::openssl(
        &[
            "x509",
            "-noout",
            "-pubkey",
            "-in",
            cert.to_str().expect("a UTF-8 fixture path"),
        ],
        b"",
    );
    assert!(from_key.contains("BEGIN PUBLIC KEY"), "{from_key}");
    assert_eq!(from_key, from_cert, "the PFX's key is not the key of {cn}");
}

/// The `-info` lines of stderr, e.g. `MAC: sha256, Iteration 2048`.
fn info_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().map(str::trim_end).collect()
}

// ---------------------------------------------------------------------------
// Python cryptography

/// What `pkcs12.load_key_and_certificates` and `load_pkcs12` return, one
/// fact a line. Warnings are errors: `cryptography` warns when a PFX is
/// not DER before falling back to BER.
const PYTHON_LOAD: &str = r#"
import sys, warnings
warnings.simplefilter("error")
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, PublicFormat
data = sys.stdin.buffer.read()
key, cert, cas = pkcs12.load_key_and_certificates(data, PASSWORD)
spki = lambda k: k.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
if isinstance(key, rsa.RSAPrivateKey):
    print("key type: RSA")
elif isinstance(key, ec.EllipticCurvePrivateKey):
    print("key type: EC", key.curve.name)
elif isinstance(key, ed25519.Ed25519PrivateKey):
    print("key type: Ed25519")
print("key matches certificate:", spki(key.public_key()) == spki(cert.public_key()))
print("certificate:", cert.subject.rfc4514_string())
for ca in cas:
    print("ca:", ca.subject.rfc4514_string())
name = pkcs12.load_pkcs12(data, PASSWORD).cert.friendly_name
print("friendly name:", name.decode("utf-8") if name is not None else None)
"#;

/// The script with `password` bound to `PASSWORD` (bytes, UTF-8).
fn python_script(password: &str) -> String {
    assert!(
        !password.contains(['"', '\\']),
        "keep test passwords simple for the Python literal"
    );
    format!("PASSWORD = \"{password}\".encode(\"utf-8\")\n{PYTHON_LOAD}")
}

/// Python's view of a PFX.
#[derive(Debug)]
struct PythonView {
    key_type: String,
    key_matches_certificate: bool,
    certificate: String,
    cas: Vec<String>,
    friendly_name: String,
}

fn python_loads(pfx: &[u8], password: &str) -> PythonView {
    let out = common::python(&python_script(password), pfx);
    let value = |prefix: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let one = |prefix: &str| {
        value(prefix)
            .pop()
            .unwrap_or_else(|| panic!("python printed no {prefix:?}: {out}"))
    };
    PythonView {
        key_type: one("key type:"),
        key_matches_certificate: one("key matches certificate:") == "True",
        certificate: cn(&one("certificate:")),
        cas: value("ca:").iter().map(|s| cn(s)).collect(),
        friendly_name: one("friendly name:"),
    }
}

// ---------------------------------------------------------------------------
// keytool

/// `keytool -list -v` of the PFX written under its artifact file name.
fn keytool_list(artifact: &ExportArtifact, password: &str) -> Output {
    let dir = common::tempdir();
    let path = common::write(dir.path(), artifact.file_name(), artifact.bytes());
    let keystore = path.to_str().expect("a UTF-8 temporary path");
    common::run(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            keystore,
            "-storepass",
            password,
        ],
        b"",
    )
}

/// keytool's view: the entries' aliases and types, and the owners of the
/// certificate chain.
#[derive(Debug)]
struct KeytoolView {
    aliases: Vec<String>,
    entry_types: Vec<String>,
    chain_length: String,
    owners: Vec<String>,
}

fn keytool_opens(artifact: &ExportArtifact) -> KeytoolView {
    let out = keytool_list(artifact, PASSWORD);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "keytool refused {}: {text}{}",
        artifact.file_name(),
        stderr(&out)
    );
    let values = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    KeytoolView {
        aliases: values("Alias name:"),
        entry_types: values("Entry type:"),
        chain_length: values("Certificate chain length:").join(","),
        owners: values("Owner:").iter().map(|s| cn(s)).collect(),
    }
}

// ---------------------------------------------------------------------------
// 1. Every consumer opens RSA and EC PFX files of both profiles.

#[test]
fn openssl_verifies_the_mac_and_shows_the_key_and_three_certificates() {
    for (cn, profile) in CASES {
        let pfx = export(cn, profile);
        let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        assert_eq!(
            out.matches("-----BEGIN CERTIFICATE-----").count(),
            3,
            "{cn} {profile:?}: {out}"
        );
        assert_eq!(
            out.matches("-----BEGIN PRIVATE KEY-----").count(),
            1,
            "{cn} {profile:?}: {out}"
        );
        assert_key_matches_certificate(&private_key_pem(&out), cn);
    }
}

#[test]
fn python_loads_the_key_the_certificate_and_two_ca_certificates() {
    for (cn, profile) in CASES {
        let view = python_loads(export(cn, profile).bytes(), PASSWORD);
        let key_type = if cn.starts_with("rsa") { "RSA" } else { "EC secp256r1" };
        assert_eq!(view.key_type, key_type, "{cn} {profile:?}");
        assert!(
            view.key_matches_certificate,
            "{cn} {profile:?}: the key is not the certificate's: {view:?}"
        );
        assert_eq!(view.certificate, cn, "{profile:?}");
        assert_eq!(view.cas, [INTERMEDIATE, ROOT], "{cn} {profile:?}");
    }
}

#[test]
fn keytool_lists_one_private_key_entry_with_the_chain() {
    for (cn, profile) in CASES {
        let view = keytool_opens(&export(cn, profile));
        assert_eq!(view.entry_types, ["PrivateKeyEntry"], "{cn} {profile:?}: {view:?}");
        assert_eq!(view.chain_length, "3", "{cn} {profile:?}");
        assert_eq!(view.owners, [cn, INTERMEDIATE, ROOT], "{profile:?}");
    }
}

#[test]
fn a_wrong_password_is_refused_by_every_consumer() {
    for (cn, profile) in CASES {
        let pfx = export(cn, profile);
        let what = format!("{cn} {profile:?}");

        let out = openssl_info(pfx.bytes(), profile, "wrong password", &[]);
        assert!(!out.status.success(), "openssl opened {what} with a wrong password");
        assert!(
            stderr(&out).contains("Mac verify error: invalid password?"),
            "{what}: {}",
            stderr(&out)
        );
        assert!(!stdout(&out).contains("PRIVATE KEY"), "{what}");

        let out = common::run("python3", &["-c", &python_script("wrong password")], pfx.bytes());
        assert!(!out.status.success(), "python opened {what} with a wrong password");
        assert!(
            stderr(&out).contains("Invalid password or PKCS12 data"),
            "{what}: {}",
            stderr(&out)
        );

        let out = keytool_list(&pfx, "wrong password");
        assert!(!out.status.success(), "keytool opened {what} with a wrong password");
        let said = stdout(&out) + &stderr(&out);
        assert!(said.contains("keystore password was incorrect"), "{what}: {said}");
    }
}

// ---------------------------------------------------------------------------
// 2. The algorithms of each profile, as OpenSSL reports them.

#[test]
fn the_modern_profile_is_aes_256_cbc_with_a_sha256_mac() {
    for cn in ["rsa.example.com", "p256.example.com"] {
        let (_, info) = openssl_opens(export(cn, PfxProfile::Modern).bytes(), PfxProfile::Modern, PASSWORD);
        let lines = info_lines(&info);
        for expected in [
            "MAC: sha256, Iteration 2048",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
        ] {
            assert!(lines.contains(&expected), "{cn}: no {expected:?} in {info}");
        }
    }
}

#[test]
fn the_legacy_profile_is_3des_with_a_sha1_mac() {
    for cn in ["rsa.example.com", "p256.example.com"] {
        let (_, info) = openssl_opens(export(cn, PfxProfile::Legacy).bytes(), PfxProfile::Legacy, PASSWORD);
        let lines = info_lines(&info);
        for expected in [
            "MAC: sha1, Iteration 2048",
            "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
        ] {
            assert!(lines.contains(&expected), "{cn}: no {expected:?} in {info}");
        }
        assert!(
            !info.contains("AES") && !info.contains("sha256"),
            "{cn}: modern algorithms in a legacy PFX: {info}"
        );
    }
}

#[test]
fn the_requested_iteration_count_is_used_everywhere() {
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let pfx = export_with("rsa.example.com", profile, |r| r.pfx.iterations = 4096);
        let (_, info) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        let iterations: Vec<&str> = info.matches("Iteration ").collect();
        assert_eq!(iterations.len(), 3, "{profile:?}: MAC, certificates and key: {info}");
        assert_eq!(info.matches("Iteration 4096").count(), 3, "{profile:?}: {info}");
    }
}

/// One iteration (MacData's DEFAULT) is below the floor of 1,000 and
/// refused; the floor itself opens in OpenSSL and Python `cryptography`.
#[test]
fn one_iteration_is_refused_and_the_floor_opens() {
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let exporter = common::exporter("pki");
        let mut req = request(&exporter, "rsa.example.com", profile);
        req.pfx.iterations = 1;
        let error = common::export(&exporter, &req).unwrap_err();
        assert_eq!(
            error.to_string(),
            "iteration count 1 is not accepted: give between 1000 and 100000000 \
             (fewer make the password cheap to guess offline, more take minutes)"
        );
        let pfx = export_with("rsa.example.com", profile, |r| {
            r.pfx.iterations = KeyEncryption::MIN_ITERATIONS
        });
        let (_, info) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        assert!(
            info_lines(&info).contains(&format!("MAC: {}, Iteration 1000", mac_name(profile)).as_str()),
            "{info}"
        );
        let view = python_loads(pfx.bytes(), PASSWORD);
        assert!(view.key_matches_certificate, "{profile:?}: {view:?}");
    }
}

fn mac_name(profile: PfxProfile) -> &'static str {
    match profile {
        PfxProfile::Modern => "sha256",
        PfxProfile::Legacy => "sha1",
        other => panic!("no MAC expectation for {other:?}"),
    }
}

#[test]
fn iteration_counts_no_reader_accepts_are_refused() {
    let exporter = common::exporter("pki");
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        for iterations in [
            0,
            1,
            KeyEncryption::MIN_ITERATIONS - 1,
            KeyEncryption::MAX_ITERATIONS + 1,
        ] {
            let mut req = request(&exporter, "rsa.example.com", profile);
            req.pfx.iterations = iterations;
            let result = common::export(&exporter, &req);
            assert!(
                matches!(&result, Err(ExportError::InvalidIterations { .. })),
                "{profile:?} at {iterations} iterations: {:?}",
                result.map(|a| a.bytes().len())
            );
        }
    }
}

#[test]
fn a_csp_allowed_by_the_settings_is_named_on_the_key_bag() {
    let exporter = exporter_allowing_csp();
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let mut req = request(&exporter, "rsa.example.com", profile);
        req.pfx.target_csp = Some(CSP.into());
        let pfx = common::export(&exporter, &req).expect("a PFX naming an allowed CSP");
        let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        let bags = bags(&out);
        let key = bags.iter().find(|b| b.key).expect("no key bag");
        assert_eq!(key.attribute("Microsoft CSP Name"), Some(CSP), "{profile:?}: {key:?}");
        let certificates_naming_it = bags
            .iter()
            .filter(|b| !b.key && b.attribute("Microsoft CSP Name").is_some());
        assert_eq!(
            certificates_naming_it.count(),
            0,
            "{profile:?}: the CSP belongs on the key only: {bags:?}"
        );
        let keytool = keytool_opens(&pfx);
        assert_eq!(
            keytool.entry_types,
            ["PrivateKeyEntry"],
            "{profile:?}: keytool with a CSP attribute"
        );
    }
}

#[test]
fn without_a_csp_none_is_named() {
    let (out, _) = openssl_opens(
        export("rsa.example.com", PfxProfile::Modern).bytes(),
        PfxProfile::Modern,
        PASSWORD,
    );
    assert!(!out.contains("Microsoft CSP Name"), "{out}");
}

// ---------------------------------------------------------------------------
// 3. The chain order.

#[test]
fn the_certificates_are_in_the_requested_order() {
    let cn = "rsa.example.com";
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        for (order, expected) in [
            (ChainOrder::EndEntityFirst, [cn, INTERMEDIATE, ROOT]),
            (ChainOrder::RootFirst, [ROOT, INTERMEDIATE, cn]),
        ] {
            let pfx = export_with(cn, profile, |r| r.chain_order = order);
            let out = openssl_info(pfx.bytes(), profile, PASSWORD, &["-nokeys"]);
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(
                certificate_order(&stdout(&out)),
                expected,
                "openssl, {order:?}, {profile:?}"
            );

            // Python gives the end-entity certificate apart and the others in file order.
            let view = python_loads(pfx.bytes(), PASSWORD);
            let cas: Vec<&str> = expected.iter().copied().filter(|&c| c != cn).collect();
            assert_eq!(view.certificate, cn, "python, {order:?}, {profile:?}");
            assert_eq!(view.cas, cas, "python, {order:?}, {profile:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Bag attributes: friendlyName and localKeyId.

#[test]
fn the_friendly_name_defaults_to_the_file_name_stem_and_is_the_keytool_alias() {
    let pfx = export("rsa.example.com", PfxProfile::Modern);
    assert_eq!(pfx.file_name(), "rsa.example.com.pfx");
    let (out, _) = openssl_opens(pfx.bytes(), PfxProfile::Modern, PASSWORD);
    let bags = bags(&out);
    let named: Vec<&Bag> = bags.iter().filter(|b| b.attribute("friendlyName").is_some()).collect();
    assert_eq!(named.len(), 2, "the key and the end-entity certificate only: {bags:?}");
    for bag in named {
        assert!(bag.key || bag.subject.as_deref() == Some("rsa.example.com"), "{bag:?}");
        assert_eq!(bag.attribute("friendlyName"), Some("rsa.example.com"), "{bag:?}");
    }
    assert_eq!(python_loads(pfx.bytes(), PASSWORD).friendly_name, "rsa.example.com");
    assert_eq!(keytool_opens(&pfx).aliases, ["rsa.example.com"]);
}

#[test]
fn a_custom_friendly_name_is_on_the_key_and_the_end_entity_certificate() {
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let pfx = export_with("p256.example.com", profile, |r| {
            r.pfx.friendly_name = Some("Web Server 2030".into())
        });
        let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        let bags = bags(&out);
        let named: Vec<&Bag> = bags
            .iter()
            .filter(|b| b.attribute("friendlyName") == Some("Web Server 2030"))
            .collect();
        assert_eq!(named.len(), 2, "{profile:?}: {bags:?}");
        assert!(
            named.iter().any(|b| b.key),
            "{profile:?}: the key bag is not named: {bags:?}"
        );
        assert!(
            named.iter().any(|b| b.subject.as_deref() == Some("p256.example.com")),
            "{profile:?}: {bags:?}"
        );

        assert_eq!(
            python_loads(pfx.bytes(), PASSWORD).friendly_name,
            "Web Server 2030",
            "{profile:?}"
        );
        // keytool prints PKCS#12 aliases in lower case.
        assert_eq!(keytool_opens(&pfx).aliases, ["web server 2030"], "{profile:?}");
    }
}

#[test]
fn a_non_ascii_friendly_name_survives_the_bmp_string() {
    let pfx = export_with("rsa.example.com", PfxProfile::Modern, |r| {
        r.pfx.friendly_name = Some("Zürich ключ".into())
    });
    assert_eq!(python_loads(pfx.bytes(), PASSWORD).friendly_name, "Zürich ключ");
}

#[test]
fn a_friendly_name_a_bmp_string_cannot_hold_is_refused() {
    let exporter = common::exporter("pki");
    let mut req = request(&exporter, "rsa.example.com", PfxProfile::Modern);
    req.pfx.friendly_name = Some("key \u{1f511}".into());
    let result = common::export(&exporter, &req);
    assert!(
        matches!(&result, Err(ExportError::NotBmpString { .. })),
        "{:?}",
        result.map(|a| a.bytes().len())
    );
}

/// On CA certificates a localKeyId makes Apple's importer drop them (SPEC §6).
#[test]
fn local_key_id_links_only_the_key_and_the_end_entity_certificate() {
    for order in [ChainOrder::EndEntityFirst, ChainOrder::RootFirst] {
        for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
            let pfx = export_with("rsa.example.com", profile, |r| r.chain_order = order);
            let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
            let bags = bags(&out);
            assert_eq!(
                bags.len(),
                4,
                "{order:?} {profile:?}: three certificates and a key: {bags:?}"
            );

            let key = bags.iter().find(|b| b.key).expect("no key bag");
            let leaf = bags
                .iter()
                .find(|b| b.subject.as_deref() == Some("rsa.example.com"))
                .expect("no leaf");
            let id = key.attribute("localKeyID").expect("the key bag has no localKeyID");
            assert_eq!(id.split_whitespace().count(), 20, "a SHA-1 sized id: {id}");
            assert_eq!(
                leaf.attribute("localKeyID"),
                Some(id),
                "{order:?} {profile:?}: {bags:?}"
            );

            for ca in bags
                .iter()
                .filter(|b| matches!(b.subject.as_deref(), Some(ROOT | INTERMEDIATE)))
            {
                assert!(
                    ca.attributes.is_empty(),
                    "{order:?} {profile:?}: a CA bag has attributes: {ca:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The artifact and the requests that are refused.

#[test]
fn the_artifact_is_a_pfx_named_after_the_subject() {
    let pfx = export("rsa.example.com", PfxProfile::Modern);
    assert_eq!(pfx.file_name(), "rsa.example.com.pfx");
    assert_eq!(pfx.extension(), FileExtension::Pfx);
    assert_eq!(pfx.content_type(), "application/x-pkcs12");
    assert_eq!(pfx.certificate_count(), 3);
    assert!(pfx.contains_private_key());
}

#[test]
fn without_the_chain_the_pfx_holds_the_leaf_and_its_key() {
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let pfx = export_with("p256.example.com", profile, |r| r.include_chain = false);
        assert_eq!(pfx.certificate_count(), 1);
        let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
        assert_eq!(certificate_order(&out), ["p256.example.com"], "{profile:?}");
        assert_key_matches_certificate(&private_key_pem(&out), "p256.example.com");
        let view = python_loads(pfx.bytes(), PASSWORD);
        assert!(
            view.cas.is_empty() && view.key_matches_certificate,
            "{profile:?}: {view:?}"
        );
    }
}

#[test]
fn a_csp_the_settings_do_not_allow_is_refused() {
    let mut listed_but_off = CspPolicy::allowing([CSP]);
    listed_but_off.allow = false;
    let other_names = CspPolicy::allowing(["Microsoft Strong Cryptographic Provider"]);
    for (policy, what) in [
        (CspPolicy::default(), "default settings"),
        (listed_but_off, "CSPs off"),
        (other_names, "not listed"),
    ] {
        let mut settings = common::settings();
        settings.csps = policy;
        let exporter = Exporter::with_settings(common::store("pki"), settings);
        let mut req = request(&exporter, "rsa.example.com", PfxProfile::Modern);
        req.pfx.target_csp = Some(CSP.into());
        let result = common::export(&exporter, &req).map(|a| a.bytes().len());
        assert_eq!(result, Err(ExportError::CspNotAllowed { csp: CSP.into() }), "{what}");
    }
    // The allowed list is compared exactly.
    let exporter = exporter_allowing_csp();
    let mut req = request(&exporter, "rsa.example.com", PfxProfile::Modern);
    req.pfx.target_csp = Some(CSP.to_lowercase());
    let result = common::export(&exporter, &req).map(|a| a.bytes().len());
    assert_eq!(
        result,
        Err(ExportError::CspNotAllowed {
            csp: CSP.to_lowercase()
        })
    );
}

#[test]
fn a_pfx_needs_an_encrypted_key() {
    let key_only = KeyExport::Encrypted {
        placement: KeyPlacement::KeyOnly,
        password: Password::new(PASSWORD).expect("a non-empty test password"),
        encryption: KeyEncryption::default(),
    };
    // (what, key export, include the chain): a key-only export without the
    // chain, so that the format is what it is refused for.
    let cases = [
        ("no key export", KeyExport::None, true),
        (
            "an unencrypted key",
            KeyExport::DangerUnencrypted {
                placement: KeyPlacement::WithCertificate,
            },
            true,
        ),
        ("a key-only export", key_only, false),
    ];
    let exporter = common::exporter("pki");
    for (what, key, chain) in cases {
        let mut req = request(&exporter, "rsa.example.com", PfxProfile::Modern);
        req.private_key = key;
        req.include_chain = chain;
        match common::export(&exporter, &req) {
            Err(ExportError::IncompatibleOptions { first, second }) => {
                let message = format!("{first} / {second}");
                assert!(
                    message.contains("PFX"),
                    "{what}: the error does not name the format: {message}"
                );
            }
            other => panic!("{what}: {:?}", other.map(|a| a.bytes().len())),
        }
    }
}

#[test]
fn a_pfx_takes_no_other_extension() {
    let exporter = common::exporter("pki");
    let mut req = request(&exporter, "rsa.example.com", PfxProfile::Modern);
    req.extension = Some(FileExtension::Pem);
    let result = common::export(&exporter, &req);
    assert!(
        matches!(result, Err(ExportError::IncompatibleOptions { .. })),
        "{:?}",
        result.map(|a| a.bytes().len())
    );
}

#[test]
fn a_certificate_without_a_key_has_no_pfx() {
    let exporter = common::exporter("pki");
    let req = request(&exporter, "nokey.example.com", PfxProfile::Modern);
    let result = common::export(&exporter, &req);
    assert!(
        matches!(result, Err(ExportError::NoPrivateKey { .. })),
        "{:?}",
        result.map(|a| a.bytes().len())
    );
}

// ---------------------------------------------------------------------------
// Other key types and passwords.

#[test]
fn ed25519_and_p384_keys_open_in_openssl() {
    for (cn, key_text) in [
        ("ed25519.example.com", "ED25519 Private-Key"),
        ("p384.example.com", "NIST CURVE: P-384"),
    ] {
        for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
            let pfx = export(cn, profile);
            let (out, _) = openssl_opens(pfx.bytes(), profile, PASSWORD);
            assert_eq!(
                out.matches("-----BEGIN CERTIFICATE-----").count(),
                3,
                "{cn} {profile:?}"
            );
            let key = private_key_pem(&out);
            let text = common::openssl(&["pkey", "-noout", "-text"], key.as_bytes());
            assert!(text.contains(key_text), "{cn} {profile:?}: {text}");
            assert_key_matches_certificate(&key, cn);
        }
    }
}

#[test]
fn ed25519_and_p384_keys_load_in_python() {
    for (cn, key_type) in [("ed25519.example.com", "Ed25519"), ("p384.example.com", "EC secp384r1")] {
        let view = python_loads(export(cn, PfxProfile::Modern).bytes(), PASSWORD);
        assert_eq!(view.key_type, key_type, "{cn}: {view:?}");
        assert!(view.key_matches_certificate, "{cn}: {view:?}");
    }
}

/// PBES2 takes the password's UTF-8 bytes, the PKCS#12 KDF (MAC, legacy
/// encryption) its BMPString: both must match what OpenSSL and Python
/// derive. (Java refuses non-ASCII PFX passwords whoever wrote the file,
/// OpenSSL included, so keytool is not asked.)
#[test]
fn a_non_ascii_password_opens_in_openssl_and_python() {
    let password = "pässwörd€";
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        let pfx = export_with("p256.example.com", profile, |r| r.private_key = encrypted_key(password));
        let (out, _) = openssl_opens(pfx.bytes(), profile, password);
        assert_key_matches_certificate(&private_key_pem(&out), "p256.example.com");
        let view = python_loads(pfx.bytes(), password);
        assert!(view.key_matches_certificate, "{profile:?}: {view:?}");
        assert!(
            !openssl_info(pfx.bytes(), profile, "passwörd€", &[]).status.success(),
            "{profile:?}"
        );
    }
}
