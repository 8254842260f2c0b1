//! The `certexport` command line (SPEC §9): output, exit codes, one-line
//! errors, passwords from files and the environment, JSON requests.
//!
//! Fixtures: tests/data/pki, tests/data/missing, tests/data/keys-mismatch.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use common::{cli, data, openssl, openssl_subjects, stderr, tempdir, write};

fn pki() -> String {
    data("pki").display().to_string()
}

/// Exit code, and the check that an error is exactly one `error:` line —
/// or, for a usage error (exit code 2), clap's whole message, which starts
/// with its `error:` line and ends by pointing to `--help`.
fn code(out: &Output) -> i32 {
    let code = common::exit_code(out);
    if code != 0 {
        let err = stderr(out);
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning: ")).collect();
        assert!(lines[0].starts_with("error: "), "{err:?}");
        if !(code == 2 && err.ends_with("For more information, try '--help'.\n")) {
            assert_eq!(lines.len(), 1, "one error line: {err:?}");
        }
    }
    code
}

#[test]
fn list_prints_one_tab_separated_line_per_certificate() {
    let out = cli(&["list", "--store", &pki()]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 8);
    for line in &lines {
        assert_eq!(line.len(), 6, "{line:?}");
        assert_eq!(line[1].len(), 40);
        assert!(
            line[1]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(
            line[2]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
    assert_eq!(lines[2][0], "3");
    assert_eq!(lines[2][3], "CN=rsa.example.com,O=certexport tests,C=US");
    assert_eq!(lines[2][4], "CN=Test Intermediate CA,O=certexport tests,C=US");
    assert_eq!((lines[2][5], lines[7][5]), ("key", "-"));
    // The SHA-1 column is the certificate's thumbprint as OpenSSL computes it.
    let pem = std::fs::read(data("pki").join("03-rsa.example.com.pem")).unwrap();
    assert_eq!(common::openssl_sha1_hex(&pem), lines[2][1]);
}

#[test]
fn export_writes_stdout_a_file_or_json() {
    let out = cli(&["export", "--store", &pki(), "--id", "3", "--format", "der"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        openssl_subjects(&["x509", "-inform", "DER", "-noout", "-subject"], &out.stdout),
        ["CN=rsa.example.com,O=certexport tests,C=US"]
    );

    let dir = tempdir();
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "3",
        "--format",
        "p7b",
        "--include-chain",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let path = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(path, dir.path().join("rsa.example.com.p7b").display().to_string());
    let p7b = std::fs::read(&path).unwrap();
    assert_eq!(
        openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &p7b).len(),
        3
    );

    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "4",
        "--json",
        "--no-subject-header",
    ]);
    assert_eq!(code(&out), 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["FileName"], "p256.example.com.pem");
    assert_eq!(json["ContentType"], "application/x-pem-file");
    assert_eq!(json["Certificates"], 1);
    let content = python_b64decode(json["Content"].as_str().unwrap());
    assert!(content.starts_with("-----BEGIN CERTIFICATE-----"));
}

fn python_b64decode(text: &str) -> String {
    common::python(
        "import sys, base64; sys.stdout.write(base64.b64decode(sys.stdin.read()).decode())",
        text.as_bytes(),
    )
}

#[test]
fn exit_codes_follow_spec_9() {
    let pki = pki();
    let other = "ab".repeat(20);
    let mismatch = data("keys-mismatch").display().to_string();
    let missing = data("missing").display().to_string();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["export", "--store", &pki, "--thumbprint", "xyz"],
            2,
            "invalid thumbprint \"xyz\"",
        ),
        (
            vec!["export", "--store", &pki, "--serial", "zz", "--issuer", "CN=x"],
            2,
            "invalid serial number",
        ),
        (
            vec!["export", "--store", &pki, "--serial", "01", "--issuer", "CN=x,"],
            2,
            "invalid distinguished name",
        ),
        (
            vec![
                "export",
                "--store",
                &pki,
                "--id",
                "3",
                "--format",
                "der",
                "--include-chain",
            ],
            2,
            "incompatible options",
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--format", "p7b"],
            2,
            "IncludeChain",
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--extension", "p7b"],
            2,
            ".p7b",
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--with-key"],
            2,
            "--password-file FILE (its first line) or --password-env VAR",
        ),
        (vec!["export", "--store", &pki, "--id", "3", "--bogus"], 2, "--bogus"),
        (vec!["export", "--store", &pki], 2, "no certificate named"),
        (vec!["export", "--store", &pki, "--id", "3", "--id", "4"], 2, ""),
        (
            vec!["export", "--store", &pki, "--id", "3", "--thumbprint", &other],
            2,
            "conflicting lookups",
        ),
        (
            vec!["export", "--store", &pki, "--id", "99"],
            3,
            "no certificate matches CertID 99",
        ),
        (
            vec!["export", "--store", &missing, "--id", "3", "--include-chain"],
            4,
            "Gap Intermediate 1",
        ),
        (
            vec![
                "export",
                "--store",
                &pki,
                "--id",
                "8",
                "--key-only",
                "--password-env",
                "CERTEXPORT_TEST_PW",
            ],
            5,
            "no private key",
        ),
        (
            vec!["export", "--store", "/nonexistent/store", "--id", "1"],
            1,
            "/nonexistent/store",
        ),
        (vec!["export", "--store", &mismatch, "--id", "1"], 1, "alpha.key"),
    ];
    for (args, expected, message) in cases {
        let out = common::run(env!("CARGO_BIN_EXE_certexport"), &args, b"");
        let out = if args.contains(&"CERTEXPORT_TEST_PW") {
            with_env(&args)
        } else {
            out
        };
        assert_eq!(code(&out), expected, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

fn with_env(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_certexport"))
        .args(args)
        .env("CERTEXPORT_TEST_PW", "from the environment")
        .output()
        .unwrap()
}

#[test]
fn passwords_come_from_a_file_or_the_environment() {
    let dir = tempdir();
    let file = write(dir.path(), "pw.txt", b"file password\r\nsecond line ignored\n");
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "4",
        "--key-only",
        "--iterations",
        "1000",
        "--password-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let public = openssl(&["pkey", "-passin", "pass:file password", "-pubout"], &out.stdout);
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));

    let out = with_env(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "4",
        "--with-key",
        "--key-encryption",
        "legacy-3des",
        "--password-env",
        "CERTEXPORT_TEST_PW",
    ]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.contains("BEGIN CERTIFICATE") && text.contains("BEGIN ENCRYPTED PRIVATE KEY"));
    assert!(
        openssl(
            &["asn1parse"],
            &text.as_bytes()[text.find("-----BEGIN ENCRYPTED").unwrap()..]
        )
        .contains("pbeWithSHA1And3-KeyTripleDES-CBC")
    );
    openssl(&["pkey", "-passin", "pass:from the environment", "-noout"], &out.stdout);

    let empty = write(dir.path(), "empty.txt", b"\n");
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "4",
        "--key-only",
        "--password-file",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    // No flag takes a password on the command line.
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "4",
        "--key-only",
        "--password",
        "x",
    ]);
    assert_eq!(code(&out), 2);
}

#[test]
fn chain_flags_partial_and_exclude_root() {
    let missing = data("missing").display().to_string();
    let out = cli(&[
        "export",
        "--store",
        &missing,
        "--id",
        "3",
        "--include-chain",
        "--allow-partial-chain",
    ]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8(out.stdout)
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "3",
        "--include-chain",
        "--exclude-root",
        "--chain-order",
        "root-first",
    ]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("subject=")).collect();
    assert_eq!(
        headers,
        [
            "subject=CN=Test Intermediate CA,O=certexport tests,C=US",
            "subject=CN=rsa.example.com,O=certexport tests,C=US"
        ]
    );
}

#[test]
fn periods_in_file_names_can_be_turned_off() {
    let dir = tempdir();
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "3",
        "--no-periods-in-filename",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    assert!(dir.path().join("rsa_example_com.pem").exists());
}

#[test]
fn a_json_request_in_the_reference_field_names() {
    let dir = tempdir();
    let summary = certexport::CertificateSummary::from_der(&common::der_of(
        &common::store("pki"),
        &common::by_cn(&common::store("pki"), "p384.example.com"),
    ))
    .unwrap();
    let request = serde_json::json!({
        "SerialNumber": summary.serial.to_string(),
        "IssuerDN": summary.issuer,
        "IncludeChain": true,
        "ChainOrder": "RootFirst",
        "FileExtension": "crt",
        "IncludeSubjectHeader": false,
    });
    let file = write(dir.path(), "request.json", request.to_string().as_bytes());
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--request",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["FileName"], "p384.example.com.crt");
    assert_eq!(json["Certificates"], 3);
    let pem = python_b64decode(json["Content"].as_str().unwrap());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let p7 = openssl(&["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"], pem.as_bytes());
    assert_eq!(
        openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7.as_bytes())[0],
        "CN=Test Root CA,O=certexport tests,C=US"
    );

    // A key export with the JSON's Password and the legacy switch.
    let request = serde_json::json!({ "CertID": 5, "Password": "json password", "UseLegacyEncryption": true });
    let file = write(dir.path(), "key.json", request.to_string().as_bytes());
    let out = cli(&[
        "export",
        "--store",
        &pki(),
        "--request",
        file.to_str().unwrap(),
        "--key-only",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(openssl(&["asn1parse"], &out.stdout).contains("pbeWithSHA1And3-KeyTripleDES-CBC"));
    openssl(&["pkey", "-passin", "pass:json password", "-noout"], &out.stdout);

    // Unknown fields are ignored, as the reference servers ignore them, and
    // reported on stderr (issue 13); lookups that disagree are refused.
    let file = write(
        dir.path(),
        "unknown.json",
        serde_json::json!({ "CertID": 3, "Bogus": 1 }).to_string().as_bytes(),
    );
    let out = cli(&["export", "--store", &pki(), "--request", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: unknown request field \"Bogus\" ignored"));
    for (body, message) in [
        (
            serde_json::json!({ "CertID": 3, "Thumbprint": summary.sha1.to_string() }),
            "conflicting",
        ),
        (
            serde_json::json!({ "CertID": 3, "Password": "" }),
            "no password (or an empty one) was given",
        ),
    ] {
        let file = write(dir.path(), "bad.json", body.to_string().as_bytes());
        let out = cli(&["export", "--store", &pki(), "--request", file.to_str().unwrap()]);
        assert_eq!(code(&out), 2, "{body}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{body}: {}", stderr(&out));
    }
}

/// The command's whole usage error, as clap words it: the missing
/// argument by name, a flag or value close to a mistyped one, the values
/// a flag takes in the spelling it takes them.
#[test]
fn usage_errors_name_what_is_missing_and_what_is_accepted() {
    let pki = pki();
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["export", "--store", &pki, "--serial", "01"],
            &["the following required arguments were not provided", "--issuer <DN>"],
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--include-chian"],
            &[
                "unexpected argument '--include-chian'",
                "a similar argument exists: '--include-chain'",
            ],
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--chain-order", "nonsense"],
            &["[possible values: end-entity-first, root-first]"],
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--chain-order", "root-frist"],
            &["a similar value exists: 'root-first'"],
        ),
        (
            vec!["export", "--store", &pki, "--id", "3", "--format", "zap"],
            &["[possible values: cer, crt, der, pem, p7b, pfx, zip]"],
        ),
        (
            vec!["lsit"],
            &["unrecognized subcommand 'lsit'", "a similar subcommand exists: 'list'"],
        ),
    ];
    for (args, expected) in cases {
        let out = cli(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = stderr(&out);
        for text in expected {
            assert!(err.contains(text), "{args:?}: {text:?} not in\n{err}");
        }
        assert!(!err.contains("EndEntityFirst"), "{args:?}: {err}");
    }
    // No store named at all: the message names the flag(s) to give.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_certexport"))
        .args(["export", "--id", "3"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--store"), "{}", stderr(&out));
}

#[test]
fn bare_certexport_prints_the_help() {
    let out = cli(&[]);
    let err = stderr(&out);
    assert_eq!(common::exit_code(&out), 2, "{err}");
    for text in ["Usage: certexport <COMMAND>", "Commands:", "export", "list", "--help"] {
        assert!(err.contains(text), "{text:?} not in\n{err}");
    }
}

#[test]
fn help_lists_the_values_the_flags_accept() {
    let out = cli(&["export", "--help"]);
    assert_eq!(code(&out), 0);
    let help = String::from_utf8(out.stdout).unwrap();
    for text in [
        "[possible values: cer, crt, pem, p7b, pfx, key, p8, zip]",
        "[possible values: cer, crt, der, pem, p7b, pfx, zip]",
        "[possible values: end-entity-first, root-first]",
        "[possible values: modern, legacy]",
    ] {
        assert!(help.contains(text), "{text:?} not in\n{help}");
    }
    // And what it lists is accepted: a ZIP with the .zip extension.
    let out = with_env(&[
        "export",
        "--store",
        &pki(),
        "--id",
        "3",
        "--format",
        "zip",
        "--extension",
        "zip",
        "--with-key",
        "--password-env",
        "CERTEXPORT_TEST_PW",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"PK\x03\x04"));
}

#[test]
fn list_shows_sha256_thumbprints_on_request() {
    let default = String::from_utf8(cli(&["list", "--store", &pki()]).stdout).unwrap();
    let out = cli(&["list", "--store", &pki(), "--sha256"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let pem = std::fs::read(data("pki").join("03-rsa.example.com.pem")).unwrap();
    let sha256 = openssl(&["x509", "-noout", "-fingerprint", "-sha256"], &pem);
    let sha256 = sha256
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    let line: Vec<&str> = text.lines().nth(2).unwrap().split('\t').collect();
    assert_eq!(line[1], sha256);
    // Every other column as without the flag.
    for (with, without) in text.lines().zip(default.lines()) {
        let (a, b): (Vec<&str>, Vec<&str>) = (with.split('\t').collect(), without.split('\t').collect());
        assert_eq!((a.len(), b[1].len()), (6, 40));
        assert_eq!((a[0], &a[2..]), (b[0], &b[2..]));
    }
}

#[test]
fn hostile_arguments_never_panic() {
    let weird = ["", "\u{1}", "💥", "-", "--", "CN=\\", "#", "0x", &"f".repeat(10_000)];
    for w in weird {
        for flag in [
            "--thumbprint",
            "--id",
            "--format",
            "--extension",
            "--chain-order",
            "--request",
            "--claims",
            "--store",
        ] {
            let out = cli(&["export", "--store", &pki(), flag, w]);
            code(&out);
        }
        let out = cli(&["export", "--store", &pki(), "--serial", w, "--issuer", w]);
        code(&out);
    }
}
