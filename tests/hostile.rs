//! Regression tests for the holes an outside review found (issue 11), one
//! per finding, through the command line so that they run unchanged
//! against an older build: `CERTEXPORT_BIN=<old certexport> cargo test
//! --features cli --test hostile` shows each failing there.
//!
//! Inputs are made here, with Python `cryptography` (generated, not
//! committed: some are megabytes) and from tests/data/pki.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{cli, cli_or_hang, data, exit_code as code, path_str as path, python, stderr, tempdir, write};

/// Minutes where a run takes milliseconds: only a hang reaches it.
const HANG: Duration = Duration::from_secs(120);

/// Python that makes certificates: `leaf(subject_attrs, key, issuer_name,
/// issuer_key, extra_extension_bytes)` and `pem(cert)`, writing into `out`.
const MAKE: &str = r#"
import sys, datetime, os
from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
out = sys.argv[1] if len(sys.argv) > 1 else "."
T0 = datetime.datetime(2020, 1, 1)
T1 = datetime.datetime(2040, 1, 1)
def cert(subject, key, issuer=None, issuer_key=None, ca=False, extra=None, serial=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
         .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
         .not_valid_before(T0).not_valid_after(T1)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if extra is not None:
        b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), extra), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())
def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)
def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
def cn(text, ou=None):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hostile tests")]
    if ou is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, text))
    return x509.Name(attrs)
"#;

/// Runs `MAKE` then `script` with `dir` as the output directory.
fn make(dir: &Path, script: &str) {
    let out = common::run("python3", &["-c", &format!("{MAKE}\n{script}"), path(dir)], b"");
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
}

fn pki() -> String {
    data("pki").display().to_string()
}

// 1. A certificate smuggled through the PEM header.

#[test]
fn a_subject_holding_a_pem_block_never_becomes_a_second_certificate() {
    let dir = tempdir();
    let root = std::fs::read_to_string(data("pki").join("01-root.pem")).unwrap();
    let body: String = root.lines().filter(|l| !l.starts_with("-----")).collect();
    let smuggled = format!("-----BEGIN CERTIFICATE-----{body}-----END CERTIFICATE-----");
    make(
        dir.path(),
        &format!(
            "k = ec.generate_private_key(ec.SECP256R1())\nwrite('carrier.pem', pem(cert(cn('carrier', ou={smuggled:?}), k)))"
        ),
    );
    let out = cli(&["export", "--store", path(&dir.path().join("carrier.pem")), "--id", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let exported = write(dir.path(), "exported.pem", &out.stdout);
    let header = String::from_utf8_lossy(&out.stdout).lines().next().unwrap().to_owned();
    assert!(header.starts_with("subject=") && !header.contains("-----"), "{header}");
    // Our own loader and Python read one certificate back, not two.
    let listed = cli(&["list", "--store", path(&exported)]);
    assert_eq!(code(&listed), 0, "{}", stderr(&listed));
    assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), 1);
    let count = python(
        "import sys\nfrom cryptography import x509\nprint(len(x509.load_pem_x509_certificates(sys.stdin.buffer.read())))",
        &out.stdout,
    );
    assert_eq!(count.trim(), "1");
}

// 2. --out writes through symbolic links and leaves keys world-readable.

fn export_to(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["export", "--store", "tests/data/pki", "--id", "3", "--out", path(dir)];
    args.extend_from_slice(extra);
    let out = cli(&args);
    code(&out);
    out
}

#[test]
fn out_never_writes_through_a_planted_link_nor_over_a_file() {
    let out_dir = tempdir();
    let elsewhere = tempdir();
    let victim = write(elsewhere.path(), "victim", b"precious");
    std::os::unix::fs::symlink(&victim, out_dir.path().join("rsa.example.com.pem")).unwrap();
    let out = export_to(out_dir.path(), &[]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");

    // --force replaces the link itself, atomically; the target is untouched.
    let out = export_to(out_dir.path(), &["--force"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let written = out_dir.path().join("rsa.example.com.pem");
    assert!(!std::fs::symlink_metadata(&written).unwrap().file_type().is_symlink());

    // A file that is there is not replaced without --force.
    std::fs::write(&written, b"mine").unwrap();
    let out = export_to(out_dir.path(), &[]);
    assert_ne!(code(&out), 0);
    assert_eq!(std::fs::read(&written).unwrap(), b"mine");
    assert_eq!(leftovers(out_dir.path()), ["rsa.example.com.pem"]);
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn files_holding_a_key_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let password = write(dir.path(), "pw", b"a password\n");
    for (extra, name) in [
        (vec!["--key-only"], "rsa.example.com.key"),
        (vec!["--with-key"], "rsa.example.com.pem"),
        (vec!["--with-key", "--format", "pfx"], "rsa.example.com.pfx"),
    ] {
        let out_dir = tempdir();
        let mut args = extra.clone();
        args.extend(["--password-file", path(&password), "--iterations", "1000"]);
        let out = export_to(out_dir.path(), &args);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let mode = std::fs::metadata(out_dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name}: {mode:o}");
    }
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    // A file-size limit of 512 bytes makes the write fail, as a full disk does.
    let out_dir = tempdir();
    let binary = common::cli_binary();
    let script = format!(
        "ulimit -f 1; trap '' XFSZ; exec '{binary}' export --store tests/data/pki --id 3 --include-chain --out '{}'",
        path(out_dir.path())
    );
    let out = common::run("sh", &["-c", &script], b"");
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    assert!(leftovers(out_dir.path()).is_empty(), "{:?}", leftovers(out_dir.path()));
}

// 3. Chain building bounded in checks, not bytes.

#[test]
fn an_absurd_certificate_is_refused_at_load() {
    let dir = tempdir();
    make(
        dir.path(),
        "k = ec.generate_private_key(ec.SECP256R1())\nwrite('huge.pem', pem(cert(cn('huge'), k, extra=b'\\0' * (2 << 20))))",
    );
    let out = cli(&["list", "--store", path(&dir.path().join("huge.pem"))]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("huge.pem") && err.contains("larger than"), "{err}");
}

#[test]
fn a_chain_build_stops_at_its_byte_budget() {
    // A 900 kB leaf (under the load limit) whose issuer name 100 CAs
    // share, none of which signed it: each check hashes the leaf again.
    let dir = tempdir();
    make(
        dir.path(),
        "ca = cn('Crowded CA')\n\
         for i in range(100):\n    k = ec.generate_private_key(ec.SECP256R1())\n    write(f'ca{i:03}.pem', pem(cert(ca, k, ca=True)))\n\
         stranger = ec.generate_private_key(ec.SECP256R1())\n\
         leaf_key = ec.generate_private_key(ec.SECP256R1())\n\
         write('leaf.pem', pem(cert(cn('big leaf'), leaf_key, ca, stranger, extra=b'\\0' * 900000)))",
    );
    let leaf = cli(&["list", "--store", path(&dir.path().join("leaf.pem"))]);
    let sha1 = String::from_utf8_lossy(&leaf.stdout)
        .split('\t')
        .nth(1)
        .unwrap()
        .to_owned();
    let out = cli_or_hang(
        &[
            "export",
            "--store",
            path(dir.path()),
            "--thumbprint",
            &sha1,
            "--include-chain",
        ],
        HANG,
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("bytes of signed data"), "{}", stderr(&out));
}

// 4. The manifest in linear time.

#[test]
fn a_manifest_entry_with_200000_collections_loads() {
    let dir = tempdir();
    std::fs::copy(data("pki").join("01-root.pem"), dir.path().join("01-root.pem")).unwrap();
    let collections: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
    let manifest = format!(
        r#"{{"certificates": [{{"file": "01-root.pem", "collections": [{}]}}]}}"#,
        collections.join(",")
    );
    write(dir.path(), "certexport-store.json", manifest.as_bytes());
    let out = cli_or_hang(&["list", "--store", path(dir.path())], HANG);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_manifest_of_20000_thumbprints_with_ids_loads() {
    let dir = tempdir();
    make(
        dir.path(),
        "import json\n\
         ca_key = ec.generate_private_key(ec.SECP256R1())\n\
         leaf_key = ec.generate_private_key(ec.SECP256R1())\n\
         ca = cn('Many CA')\n\
         certs = [cert(cn(f'leaf {i}'), leaf_key, ca, ca_key) for i in range(20000)]\n\
         write('bundle.pem', b''.join(pem(c) for c in certs))\n\
         entries = [{'thumbprint': c.fingerprint(hashes.SHA1()).hex(), 'id': 100000 + i, 'collections': [i % 7]}\n\
                    for i, c in enumerate(certs)]\n\
         write('certexport-store.json', json.dumps({'certificates': entries}).encode())",
    );
    let out = cli_or_hang(&["list", "--store", path(dir.path())], HANG);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 20_000);
    assert!(
        text.lines().all(|l| l.starts_with("1")),
        "every id fixed by the manifest"
    );
}

// 5. A restricted key leaves through a sibling certificate.

#[test]
fn a_restricted_key_stays_in_whatever_certificate_is_asked_for() {
    let dir = tempdir();
    make(
        dir.path(),
        "k = ec.generate_private_key(ec.SECP256R1())\n\
         write('a.pem', pem(cert(cn('renewed.example.com'), k, serial=1)))\n\
         write('a.key', key_pem(k))\n\
         write('b.pem', pem(cert(cn('renewed.example.com'), k, serial=2)))",
    );
    write(
        dir.path(),
        "certexport-store.json",
        br#"{"certificates": [
            {"file": "a.pem", "id": 1, "collections": [5], "key_policy": {"name": "Production", "private_key_access": false}},
            {"file": "b.pem", "id": 2, "collections": [7]}]}"#,
    );
    let files = tempdir();
    let claims = write(
        files.path(),
        "claims",
        b"/certificates/collections/read/7/\n/certificates/collections/private_key/read/7/\n",
    );
    let password = write(files.path(), "pw", b"a password\n");
    let export = |claims: &Path, scope: &[&str]| {
        let mut args = vec![
            "export",
            "--store",
            path(dir.path()),
            "--id",
            "2",
            "--key-only",
            "--password-file",
            path(&password),
            "--iterations",
            "1000",
            "--claims",
            path(claims),
        ];
        args.extend_from_slice(scope);
        cli(&args)
    };
    // The collection-7 caller is refused, and learns nothing of the
    // collection-5 sibling or its policy: the answer of a certificate
    // whose key they may not have.
    let out = export(&claims, &["--collection-id", "7"]);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert_eq!(stderr(&out), "error: access denied\n");
    assert!(out.stdout.is_empty());
    // A caller who may see every certificate is told which policy holds the key.
    let everything = write(
        files.path(),
        "all",
        b"/certificates/collections/read/\n/certificates/collections/private_key/read/\n",
    );
    let out = export(&everything, &[]);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: Private key access is restricted in Production policy\n"
    );
    assert!(out.stdout.is_empty());
}

// 6. Ids that move.

#[test]
fn an_id_after_a_skipped_file_never_names_another_certificate() {
    let dir = tempdir();
    for (name, source) in [
        ("01-root.pem", "01-root.pem"),
        ("03-leaf.pem", "03-rsa.example.com.pem"),
    ] {
        std::fs::copy(data("pki").join(source), dir.path().join(name)).unwrap();
    }
    write(
        dir.path(),
        "02-broken.pem",
        b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    );
    let out = cli(&["export", "--store", path(dir.path()), "--skip-bad-files", "--id", "2"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("may have moved"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // The certificate is still there by thumbprint; ids before the skipped file stand.
    let out = cli(&["export", "--store", path(dir.path()), "--skip-bad-files", "--id", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

// 7. Unbounded reads.

#[test]
fn devices_and_pipes_are_refused_not_read() {
    let dir = tempdir();
    let fifo = dir.path().join("fifo");
    let made = common::run("mkfifo", &[path(&fifo)], b"");
    assert!(made.status.success());
    for store in ["/dev/zero", path(&fifo)] {
        let out = cli_or_hang(&["list", "--store", store], HANG);
        assert_eq!(code(&out), 1, "{store}");
        assert!(stderr(&out).contains("not a regular file"), "{store}: {}", stderr(&out));
    }
}

#[test]
fn errors_quote_a_bounded_part_of_hostile_input() {
    let dir = tempdir();
    let request = format!(r#"{{"Thumbprint": "{}"}}"#, "ab".repeat(5_000_000));
    let request = write(dir.path(), "huge.json", request.as_bytes());
    let label = format!("-----BEGIN {}-----\nMAA=\n", "X".repeat(10_000_000));
    let store = write(dir.path(), "label.pem", label.as_bytes());
    for args in [
        vec!["export", "--store", &pki(), "--request", path(&request)],
        vec!["list", "--store", path(&store)],
    ] {
        let out = cli_or_hang(&args, HANG);
        assert_ne!(code(&out), 0);
        assert!(out.stderr.len() < 1_000, "{} bytes of error", out.stderr.len());
    }
}

// 8. Secrets and passwords.

#[test]
fn a_password_of_the_wrong_type_is_never_echoed() {
    let dir = tempdir();
    let request = write(dir.path(), "r.json", br#"{"CertID": 3, "Password": 31415926535}"#);
    let out = cli(&["export", "--store", &pki(), "--request", path(&request), "--key-only"]);
    assert_eq!(code(&out), 2);
    assert!(!stderr(&out).contains("31415926535"), "{}", stderr(&out));
}

#[test]
fn a_password_with_a_nul_character_is_refused() {
    let dir = tempdir();
    let password = write(dir.path(), "pw", b"abc\0def\n");
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "3",
        "--key-only",
        "--password-file",
        path(&password),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("NUL"), "{}", stderr(&out));
}

// 9. Smaller.

#[test]
fn a_closed_stdout_ends_the_program_quietly() {
    let dir = tempdir();
    for extra in [vec!["--json"], vec!["--out", path(dir.path()), "--force"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut args = vec!["export", "--store", "tests/data/pki", "--id", "3"];
        args.extend_from_slice(&extra);
        let status = std::process::Command::new(common::cli_binary())
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{extra:?}");
    }
}

#[test]
fn device_names_and_invisible_characters_never_reach_file_names_or_headers() {
    let dir = tempdir();
    make(
        dir.path(),
        "k = ec.generate_private_key(ec.SECP256R1())\n\
         write('1.pem', pem(cert(cn('CONIN$'), k)))\n\
         write('2.pem', pem(cert(cn('CONOUT$.example'), k)))\n\
         write('3.pem', pem(cert(cn('invoice\\u202egpj.exe'), k)))\n\
         write('4.pem', pem(cert(cn('line\\u2028break'), k)))",
    );
    let out_dir = tempdir();
    let mut names = Vec::new();
    for id in ["1", "2", "3", "4"] {
        let out = cli(&[
            "export",
            "--store",
            path(dir.path()),
            "--id",
            id,
            "--out",
            path(out_dir.path()),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let written = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        names.push(written.file_name().unwrap().to_string_lossy().into_owned());
        let text = std::fs::read_to_string(&written).unwrap();
        let header = text.lines().next().unwrap();
        assert!(!header.contains('\u{202e}') && !header.contains('\u{2028}'), "{header}");
    }
    assert_eq!(
        names,
        [
            "_CONIN$.pem",
            "_CONOUT$.example.pem",
            "invoice_gpj.exe.pem",
            "line_break.pem"
        ]
    );
}
