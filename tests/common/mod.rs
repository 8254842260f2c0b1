//! Shared helpers of the integration tests: fixtures, a fixed clock, and
//! the real consumers (openssl, Python cryptography, keytool) that judge
//! what we write.
//!
//! Fixtures: tests/data/<case>/, written by tests/data/make_fixtures.py.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use certexport::ids::Thumbprint;
use certexport::options::ExportTime;
use certexport::store::{CertificateStore, MemoryStore};
use certexport::{Caller, ExportArtifact, ExportError, ExportRequest, ExportSettings, Exporter};

/// Validity is judged at 2030-01-01T00:00:00Z in every test, never the clock.
pub const TEST_TIME: i64 = 1_893_456_000;

pub fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(case)
}

pub fn store(case: &str) -> MemoryStore {
    MemoryStore::from_path(data(case)).unwrap_or_else(|e| panic!("loading {case}: {e}"))
}

pub fn settings() -> ExportSettings {
    ExportSettings::default().with_time(ExportTime::UnixSeconds(TEST_TIME))
}

pub fn exporter(case: &str) -> Exporter<MemoryStore> {
    Exporter::with_settings(store(case), settings())
}

pub fn admin() -> Caller {
    Caller::single_tenant_full_access()
}

pub fn export(exporter: &Exporter<MemoryStore>, request: &ExportRequest) -> Result<ExportArtifact, ExportError> {
    exporter.export(&admin(), request)
}

/// The SHA-1 thumbprint of the certificate whose subject CN is `cn`.
pub fn by_cn(store: &MemoryStore, cn: &str) -> Thumbprint {
    let wanted = format!("CN={}", cn);
    store
        .iter()
        .find(|(c, _)| {
            certexport::CertificateSummary::from_der(&c.der)
                .map(|s| s.subject.split(',').next() == Some(wanted.as_str()))
                .unwrap_or(false)
        })
        .map(|(c, _)| Thumbprint::sha1_of(&c.der))
        .unwrap_or_else(|| panic!("no certificate with CN={cn}"))
}

/// The DER of the certificate with this thumbprint.
pub fn der_of(store: &MemoryStore, t: &Thumbprint) -> Vec<u8> {
    store.certificate_by_thumbprint(t).unwrap().unwrap().der.into_owned()
}

/// Runs a program with `stdin`, returning its output (not checking status).
pub fn run(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed (.ci/run installs it): {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Runs `openssl` and returns stdout; panics with stderr if it fails.
pub fn openssl(args: &[&str], stdin: &[u8]) -> String {
    let out = run("openssl", args, stdin);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a Python script (with `cryptography`) that reads the file bytes
/// from stdin; returns stdout, panicking with stderr on failure.
pub fn python(script: &str, stdin: &[u8]) -> String {
    let out = run("python3", &["-c", script], stdin);
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subjects OpenSSL prints (`subject=` lines of `pkcs7 -print_certs`
/// or `x509 -subject`), in order, turned from OpenSSL's default
/// `C = US, O = x, CN = y` into RFC 4514 `CN=y,O=x,C=US` (simple names only:
/// OpenSSL 3.0's `pkcs7` has no `-nameopt`).
pub fn openssl_subjects(args: &[&str], stdin: &[u8]) -> Vec<String> {
    openssl(args, stdin)
        .lines()
        .filter_map(|l| l.strip_prefix("subject="))
        .map(|s| {
            let mut rdns: Vec<String> = s.split(", ").map(|rdn| rdn.replacen(" = ", "=", 1)).collect();
            rdns.reverse();
            rdns.join(",")
        })
        .collect()
}

/// The subjects Python `cryptography` prints with `script` (one of the
/// `PY_SUBJECTS_*` below) for `stdin`, in the order it reads them.
pub fn python_subjects(script: &str, stdin: &[u8]) -> Vec<String> {
    python(script, stdin).lines().map(str::to_owned).collect()
}

/// Python `cryptography` printing the RFC 4514 subjects of the
/// certificates it reads from stdin, one a line, in the order it reads
/// them: from PEM certificates, a DER P7B, a PEM P7B.
pub const PY_SUBJECTS_PEM: &str = "import sys
from cryptography import x509
for c in x509.load_pem_x509_certificates(sys.stdin.buffer.read()):
    print(c.subject.rfc4514_string())";
/// See [`PY_SUBJECTS_PEM`].
pub const PY_SUBJECTS_DER_P7B: &str = "import sys
from cryptography.hazmat.primitives.serialization import pkcs7
for c in pkcs7.load_der_pkcs7_certificates(sys.stdin.buffer.read()):
    print(c.subject.rfc4514_string())";
/// See [`PY_SUBJECTS_PEM`].
pub const PY_SUBJECTS_PEM_P7B: &str = "import sys
from cryptography.hazmat.primitives.serialization import pkcs7
for c in pkcs7.load_pem_pkcs7_certificates(sys.stdin.buffer.read()):
    print(c.subject.rfc4514_string())";

/// The SHA-1 thumbprint OpenSSL computes for a PEM certificate, as
/// lower-case hex without separators.
pub fn openssl_sha1_hex(pem: &[u8]) -> String {
    openssl(&["x509", "-noout", "-fingerprint", "-sha1"], pem)
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

/// The PEM of certificate `cn` of fixture `case`, as OpenSSL writes it.
pub fn certificate_pem(case: &str, cn: &str) -> String {
    let store = store(case);
    openssl(&["x509", "-inform", "DER"], &der_of(&store, &by_cn(&store, cn)))
}

/// The public key of certificate `cn` of fixture `case`, as `openssl
/// x509 -pubkey` prints it (to compare with `openssl pkey -pubout`).
pub fn certificate_public_key(case: &str, cn: &str) -> String {
    let store = store(case);
    openssl(
        &["x509", "-inform", "DER", "-noout", "-pubkey"],
        &der_of(&store, &by_cn(&store, cn)),
    )
}

/// What Python `cryptography` says (`True` or `False`) to: does the
/// encrypted PEM key `key_pem`, opened with `password`, hold the public
/// key of the PEM certificate `cert_pem`?
pub fn python_key_matches(key_pem: &[u8], cert_pem: &[u8], password: &[u8]) -> String {
    const SCRIPT: &str = "import sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
key_pem, cert_pem, password = sys.stdin.buffer.read().split(b'\\0')
key = serialization.load_pem_private_key(key_pem, password=password)
cert = x509.load_pem_x509_certificate(cert_pem)
spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
print(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki))";
    python(SCRIPT, &[key_pem, cert_pem, password].join(&b'\0'))
        .trim()
        .to_owned()
}

/// The standard error of a program, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A program's exit code; fails the test if it was killed or panicked
/// (Rust's exit code 101).
pub fn exit_code(out: &Output) -> i32 {
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 101, "panicked: {}", stderr(out));
    code
}

/// A path as the `&str` a command-line argument wants.
pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `certexport` binary's output for `args` (tests that call it are
/// compiled with feature `cli` only).
///
/// `CERTEXPORT_BIN` in the environment runs another build instead (to show
/// that a regression test fails on an older binary).
pub fn cli(args: &[&str]) -> Output {
    run(&cli_binary(), args, b"")
}

/// The `certexport` binary the CLI tests run.
pub fn cli_binary() -> String {
    if let Ok(binary) = std::env::var("CERTEXPORT_BIN") {
        return binary;
    }
    match option_env!("CARGO_BIN_EXE_certexport") {
        Some(binary) => binary.to_owned(),
        None => panic!("the CLI tests need --features cli"),
    }
}

/// Runs the CLI with `args`, killing it (and failing) if it has not ended
/// after `limit`: a hang detector for input that once made it run forever,
/// not a timing assertion (the limit is minutes where a run takes
/// milliseconds).
pub fn cli_or_hang(args: &[&str], limit: std::time::Duration) -> Output {
    use std::io::Read;
    let mut child = Command::new(cli_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("certexport {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
