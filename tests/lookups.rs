//! Finding the certificate (SPEC §2): every lookup kind and its spellings,
//! conflicts, and malformed input.
//!
//! Fixtures: tests/data/pki; an ambiguous store is made on the fly with
//! Python `cryptography`.

#![allow(clippy::unwrap_used)]

mod common;

use certexport::ids::{CertId, SerialNumber, Thumbprint};
use certexport::name::DistinguishedName;
use certexport::{CertificateFormat, CertificateSummary, ExportError, ExportRequest, Exporter, Lookup};
use common::{by_cn, der_of, export, exporter, settings};

/// The DER the export of `lookup` wrote (format DER).
fn exported(exporter: &Exporter<certexport::store::MemoryStore>, lookups: Vec<Lookup>) -> Result<Vec<u8>, ExportError> {
    let mut request = ExportRequest::from_lookups(lookups)?;
    request.format = CertificateFormat::Der;
    export(exporter, &request).map(|a| a.bytes().to_vec())
}

fn summary(exporter: &Exporter<certexport::store::MemoryStore>, cn: &str) -> (Vec<u8>, CertificateSummary) {
    let der = der_of(exporter.store(), &by_cn(exporter.store(), cn));
    let summary = CertificateSummary::from_der(&der).unwrap();
    (der, summary)
}

#[test]
fn cert_id_finds_the_certificate() {
    let exporter = exporter("pki");
    let (der, _) = summary(&exporter, "rsa.example.com");
    assert_eq!(exported(&exporter, vec![Lookup::CertId(CertId(3))]).unwrap(), der);
    assert!(
        matches!(exported(&exporter, vec![Lookup::CertId(CertId(999))]), Err(ExportError::NotFound { lookup }) if lookup == "CertID 999")
    );
}

#[test]
fn thumbprints_in_every_spelling() {
    let exporter = exporter("pki");
    let (der, summary) = summary(&exporter, "p384.example.com");
    let hex = summary.sha1.to_string();
    let upper_colons = hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let spaced = hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let sha256 = Thumbprint::sha256_of(&der).to_string();
    for spelling in [
        hex.clone(),
        hex.to_uppercase(),
        upper_colons,
        spaced,
        sha256.clone(),
        sha256.to_uppercase(),
    ] {
        let t: Thumbprint = spelling.parse().unwrap_or_else(|e| panic!("{spelling}: {e}"));
        assert_eq!(exported(&exporter, vec![t.into()]).unwrap(), der, "{spelling}");
    }
    let unknown: Thumbprint = "00".repeat(20).parse().unwrap();
    assert!(matches!(
        exported(&exporter, vec![unknown.into()]),
        Err(ExportError::NotFound { .. })
    ));
}

#[test]
fn serial_and_issuer_in_every_spelling() {
    let exporter = exporter("pki");
    let (der, summary) = summary(&exporter, "ed25519.example.com");
    assert_eq!(summary.issuer, "CN=Test Intermediate CA,O=certexport tests,C=US");
    let serial = summary.serial.to_string();
    let serials = [
        serial.clone(),
        serial.to_uppercase(),
        format!("00{serial}"),
        format!("00:{}", spaced(&serial, ":")),
        spaced(&serial, " "),
    ];
    let issuers = [
        "CN=Test Intermediate CA,O=certexport tests,C=US",
        "cn=test intermediate ca, o=CERTEXPORT  TESTS, c=us",
        "CN = Test Intermediate CA , O = certexport tests , C = US",
        // X.500 order, as OpenSSL's default output and some tools print it.
        "C=US, O=certexport tests, CN=Test Intermediate CA",
        "C = US, O = certexport tests, CN = Test Intermediate CA",
        "OID.2.5.4.3=Test Intermediate CA,O=certexport tests,C=US",
        "CN=Test Intermediate CA,O=#0c10636572746578706f7274207465737473,C=US",
    ];
    for s in &serials {
        for i in issuers {
            let lookup = Lookup::IssuerSerial {
                serial: s.parse().unwrap(),
                issuer: i.parse().unwrap(),
            };
            assert_eq!(exported(&exporter, vec![lookup]).unwrap(), der, "{s} / {i}");
        }
    }
    // The serial of another certificate with this issuer names that one, not this.
    let other = Lookup::IssuerSerial {
        serial: "1".parse().unwrap(),
        issuer: issuers[0].parse().unwrap(),
    };
    assert!(matches!(
        exported(&exporter, vec![other]),
        Err(ExportError::NotFound { .. })
    ));
    let wrong_issuer = Lookup::IssuerSerial {
        serial: serial.parse().unwrap(),
        issuer: "CN=Test Root CA,O=certexport tests,C=US".parse().unwrap(),
    };
    assert!(matches!(
        exported(&exporter, vec![wrong_issuer]),
        Err(ExportError::NotFound { .. })
    ));
}

fn spaced(hex: &str, separator: &str) -> String {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    padded
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(separator)
}

#[test]
fn several_lookups_must_agree() {
    let exporter = exporter("pki");
    let (der, rsa) = summary(&exporter, "rsa.example.com");
    let (_, p256) = summary(&exporter, "p256.example.com");
    let issuer: DistinguishedName = rsa.issuer.parse().unwrap();
    let agreeing = vec![
        Lookup::CertId(CertId(3)),
        Lookup::Thumbprint(rsa.sha1),
        Lookup::IssuerSerial {
            issuer: issuer.clone(),
            serial: rsa.serial.clone(),
        },
    ];
    assert_eq!(exported(&exporter, agreeing).unwrap(), der);

    let conflicting = vec![Lookup::CertId(CertId(3)), Lookup::Thumbprint(p256.sha1)];
    match exported(&exporter, conflicting) {
        Err(ExportError::ConflictingLookups {
            first_id: 3,
            second_id: Some(4),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // A second lookup that names nothing conflicts too: never export a certificate the caller did not name.
    let absent = vec![Lookup::Thumbprint(rsa.sha1), Lookup::CertId(CertId(77))];
    assert!(matches!(
        exported(&exporter, absent),
        Err(ExportError::ConflictingLookups { second_id: None, .. })
    ));
}

#[test]
fn untyped_parts_parse_and_name_their_errors() {
    let exporter = exporter("pki");
    let (der, rsa) = summary(&exporter, "rsa.example.com");
    let lookups = Lookup::from_parts(
        Some(3),
        Some(&rsa.sha1.to_string()),
        Some(&rsa.serial.to_string()),
        Some(&rsa.issuer),
    )
    .unwrap();
    assert_eq!(exported(&exporter, lookups).unwrap(), der);
    let bad = [
        (Lookup::from_parts(None, Some("xyz"), None, None), "xyz"),
        (Lookup::from_parts(None, None, Some("12g4"), Some("CN=x")), "12g4"),
        (
            Lookup::from_parts(None, None, Some("01"), Some("CN=x,,O=y")),
            "CN=x,,O=y",
        ),
        (Lookup::from_parts(None, None, Some("01"), Some("FOO=bar")), "FOO"),
    ];
    for (result, named) in bad {
        let err = result.unwrap_err();
        assert!(err.to_string().contains(named), "{err}");
    }
    assert_eq!(
        Lookup::from_parts(None, None, None, None).unwrap_err(),
        ExportError::MissingLookup
    );
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let inputs = [
        "",
        " ",
        ":",
        "::",
        "0",
        "0g",
        "\u{0}",
        "\u{200e}ab",
        "ab:cd:",
        ":ab",
        "ab::cd",
        "é",
        "𝄞𝄞",
        "0x1234",
        "ab cd ef 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13",
    ];
    for input in inputs {
        let _ = input.parse::<Thumbprint>();
        let _ = input.parse::<SerialNumber>();
        let _ = input.parse::<DistinguishedName>();
    }
    let dns = [
        "=",
        "CN=",
        "CN=\\",
        "CN=\\4",
        "CN=#",
        "CN=#zz",
        "CN=#3000ff",
        "+",
        ",",
        "CN=a+",
        "CN=a,+O=b",
        "1.2.3.=x",
        "9999999999999999999999.1=x",
        "CN=\"",
        "CN=\"a\"b",
        "CN=\\c3\\28",
        "CN=a\u{0}",
        "OID.=x",
        "oid.1.2=\\",
    ];
    for dn in dns {
        if let Err(e) = dn.parse::<DistinguishedName>() {
            assert!(matches!(e, ExportError::InvalidDistinguishedName { .. }), "{dn}: {e:?}");
            assert!(
                e.to_string().contains(&format!("{dn:?}")),
                "the error names the input: {e}"
            );
        }
    }
}

/// Two certificates with one issuer and one serial (a misbehaving CA):
/// serial + issuer names neither, so neither is exported.
#[test]
fn ambiguous_serial_and_issuer_is_refused() {
    let dir = common::tempdir();
    let script = format!(
        "import datetime as dt, pathlib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
ca = ec.generate_private_key(ec.SECP256R1())
issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Sloppy CA')])
for i in range(2):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f'twin{{i}}.example')])
    c = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(ec.generate_private_key(ec.SECP256R1()).public_key()).serial_number(4242)
         .not_valid_before(dt.datetime(2020, 1, 1)).not_valid_after(dt.datetime(2090, 1, 1)).sign(ca, hashes.SHA256()))
    pathlib.Path(r'{}').joinpath(f'twin{{i}}.pem').write_bytes(c.public_bytes(serialization.Encoding.PEM))",
        dir.path().display()
    );
    common::python(&script, b"");
    let exporter = Exporter::with_settings(
        certexport::store::MemoryStore::from_path(dir.path()).unwrap(),
        settings(),
    );
    let lookup = Lookup::IssuerSerial {
        serial: "1092".parse().unwrap(),
        issuer: "CN=Sloppy CA".parse().unwrap(),
    };
    match exported(&exporter, vec![lookup]) {
        Err(ExportError::AmbiguousLookup { count: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
}
