//! The whole export path, `Exporter::export`, on the store of
//! tests/data/manifest, with fuzzed request fields, claims and scope.
//!
//! The store (ids as the manifest gives them; every certificate also gets
//! a `uuId` here):
//!
//! | id | certificate | collections | containers | key policy | key |
//! | --- | --- | --- | --- | --- | --- |
//! | 1 | Manifest Root | | | | no |
//! | 2 | Manifest Intermediate | | | | no |
//! | 3 | a.example.com | 5 | 2 | Standard (allows) | yes |
//! | 100 | b.example.com | 6 | 3 | | yes |
//! | 4 | c.example.com | 5 | | Production (restricts) | yes |
//!
//! Input: [`HEADER`] bytes of choices (missing bytes read as 0), then up
//! to four texts separated by 0xff: a lookup's text, the password, the
//! friendly name, the CSP. See [`Case::read`].
//!
//! Oracles, from SPEC §6, §7 and §10 (the AppViewX call's rule, "within
//! the certificate's category", `ScopeRule::AnyCollectionOfTheCertificate`)
//! written here independently of the crate's access code ([`Model`]):
//! - an export that §7 forbids never succeeds, and one that succeeds is of
//!   the certificate the request names (its file name), holding only
//!   certificates of that certificate's chain, with the key exactly when a
//!   key was asked for; a CSP the settings do not list never succeeds;
//! - for a caller without a system-wide claim, a lookup of a certificate
//!   that does not exist fails exactly as one of a certificate that exists
//!   but is not theirs (the same error), and every lookup that names no
//!   single certificate they may see fails that way too;
//! - no artifact holds an unencrypted key (a `PRIVATE KEY`, `RSA PRIVATE
//!   KEY` or `EC PRIVATE KEY` block, or the bytes of any store key's
//!   PKCS#8, SEC1 or private scalar, in the artifact or in a ZIP member)
//!   unless the request asked for `KeyExport::DangerUnencrypted`;
//! - the password shows in no error's `Display` or `Debug`, nor in the
//!   `Debug` of the request or the artifact, nor in an artifact that is
//!   text (the rule of `certexport_fuzz::assert_secret_hidden`);
//! - an export repeated on the same exporter (whose chain cache is then
//!   warm) gives the same bytes or the same error;
//! - every error's text is bounded.
//!
//! Keys are encrypted with 1 to 4 iterations, so that a run stays fast.
#![no_main]

use std::sync::{Arc, OnceLock};

use certexport::formats::{KeyEncryption, P7bEncoding, PfxProfile};
use certexport::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use certexport::name::{DistinguishedName, NameKey};
use certexport::options::{
    ChainOrder, ChainPolicy, CspPolicy, ExportTime, FileExtension, IncompleteChains, KeyExport, KeyPlacement,
    RootCertificate, Scope, ScopeRule,
};
use certexport::store::MemoryStore;
use certexport::{
    Caller, CertificateFormat, CertificateSummary, Claim, ExportArtifact, ExportError, ExportRequest, ExportSettings,
    Exporter, Lookup, Password, PrivateKey,
};
use certexport_fuzz::{FIXED_TIME, FixedRandom, Shown, assert_secret_hidden, checked_text, fixture, other_secret};
use der::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

/// The one CSP the exporter's settings list (when they allow CSPs at all).
const ALLOWED_CSP: &str = "Microsoft Enhanced RSA and AES Cryptographic Provider";

/// Ids that scope and claims take: the collections (5, 6) and containers
/// (2, 3) of the store, and some that nothing is in.
const SCOPE_IDS: [u64; 8] = [5, 6, 2, 3, 0, 1, 7, 100];

/// Store ids a `CertId` lookup takes: every certificate's, and some that
/// name none.
const CERT_IDS: [u64; 10] = [1, 2, 3, 4, 100, 5, 99, 101, 0, u64::MAX];

fuzz_target!(|data: &[u8]| {
    let model = model();
    let Some(case) = Case::read(data, model) else { return };
    let exporter = Exporter::with_settings(&model.store, case.settings()).with_random_source(Arc::new(FixedRandom));
    let caller = Caller::with_claims(case.claims.iter().copied());

    let request = match case.request(case.lookup.clone(), &case.password) {
        Ok(request) => request,
        Err(e) => {
            check_password(&case, &[("the request error", checked_text(&e))], || {
                match case.request(case.lookup.clone(), &other_secret(&case.password)) {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![e.to_string()],
                }
            });
            return;
        }
    };
    let result = exporter.export(&caller, &request);
    let again = exporter.export(&caller, &request);
    same_result(&result, &again, "the same export, repeated");

    let target = model.resolve(&case.lookup, &case.also);
    match &result {
        Ok(artifact) => model.check_success(&case, target, &request, artifact),
        Err(e) => model.check_error(&case, target, e),
    }

    // A caller without a system-wide claim learns nothing of what exists:
    // a certificate that does not exist and one that is not theirs (the
    // root, in no collection or container) fail alike, and so does any
    // lookup that names no single certificate they may see.
    if !model.sees_everything(&case) {
        let missing = exporter.export(&caller, &case.with_lookup(model.missing(&case.lookup)));
        let hidden = exporter.export(&caller, &case.with_lookup(model.hidden(&case.lookup)));
        assert!(hidden.is_err(), "a scoped caller exported the root");
        same_result(&missing, &hidden, "a missing certificate and one not the caller's");
        let theirs = target.is_some_and(|t| model.may_read(&case, t));
        if !theirs {
            same_result(
                &result,
                &hidden,
                "a lookup naming nothing the caller may see, and one not theirs",
            );
        }
    }

    let mut shown: Vec<Shown<'_>> = vec![("the request's Debug", format!("{request:?}"))];
    shown.extend(outputs(&result));
    check_password(&case, &shown, || {
        let Ok(request) = case.request(case.lookup.clone(), &other_secret(&case.password)) else {
            return Vec::new();
        };
        let result = exporter.export(&caller, &request);
        let mut texts = vec![format!("{request:?}")];
        texts.extend(outputs(&result).into_iter().map(|(_, text)| text));
        texts
    });
});

/// The texts a result shows a person, and the artifact's bytes when they
/// are text (PEM): binary bytes read as text are mostly U+FFFD, which a
/// password of such characters would match by chance.
fn outputs(result: &Result<ExportArtifact, ExportError>) -> Vec<Shown<'static>> {
    match result {
        Ok(artifact) => {
            let mut shown = vec![("the artifact's Debug", format!("{artifact:?}"))];
            if let Ok(text) = std::str::from_utf8(artifact.bytes()) {
                shown.push(("the artifact's text", text.to_owned()));
            }
            shown
        }
        Err(e) => vec![
            ("the error's Display", checked_text(e)),
            ("the error's Debug", format!("{e:?}")),
        ],
    }
}

/// Shorter passwords are too likely to occur in any text by chance.
const MIN_SECRET_CHARS: usize = 8;

fn check_password(case: &Case, shown: &[Shown<'_>], again: impl FnOnce() -> Vec<String>) {
    if case.password.chars().count() >= MIN_SECRET_CHARS {
        assert_secret_hidden(&case.password, shown, again);
    }
}

fn same_result(a: &Result<ExportArtifact, ExportError>, b: &Result<ExportArtifact, ExportError>, what: &str) {
    match (a, b) {
        (Ok(a), Ok(b)) => assert!(
            a.bytes() == b.bytes() && a.file_name() == b.file_name(),
            "{what}: different artifacts ({a:?}, {b:?})"
        ),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{what}: different errors");
            assert_eq!(a.to_string(), b.to_string(), "{what}: different error texts");
        }
        (a, b) => panic!("{what}: {a:?} and {b:?}"),
    }
}

/// Number of choice bytes before the texts.
const HEADER: usize = 17;

/// One fuzzed export: the request's fields, the caller's claims, the
/// scope and the exporter's settings.
#[derive(Debug)]
struct Case {
    lookup: Lookup,
    also: Option<Lookup>,
    format: CertificateFormat,
    extension: Option<FileExtension>,
    include_chain: bool,
    root_first: bool,
    subject_headers: bool,
    p7b_pem: bool,
    key: KeyChoice,
    legacy_key: bool,
    legacy_pfx: bool,
    iterations: u32,
    friendly_name: Option<String>,
    csp: Option<String>,
    claims: Vec<Claim>,
    scope: Scope,
    rule: ScopeRule,
    allow_partial: bool,
    exclude_root: bool,
    periods: bool,
    csps_allowed: bool,
    password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyChoice {
    None,
    Encrypted(KeyPlacement),
    DangerUnencrypted(KeyPlacement),
}

impl Case {
    /// Reads a case. Header bytes, in order: lookup kind, lookup target,
    /// second lookup (0: none), format, extension, flags (chain, root
    /// first, no subject headers, P7B as PEM, legacy key encryption,
    /// legacy PFX, friendly name given, CSP given), key export, iterations,
    /// six claims (0: none; else kind and id), collection id (0: none),
    /// container id (0: none), settings flags (partial chains, root left
    /// out, no periods in file names, CSPs not allowed, the AppViewX scope
    /// rule). `None` when a lookup's
    /// text does not parse (the parsers have their own targets).
    fn read(data: &[u8], model: &Model) -> Option<Case> {
        let (header, texts) = data.split_at(data.len().min(HEADER));
        let byte = |i: usize| header.get(i).copied().unwrap_or(0);
        let mut texts = texts
            .split(|&b| b == 0xff)
            .map(|t| String::from_utf8_lossy(t).into_owned());
        let lookup_text = texts.next().unwrap_or_default();
        let password = texts.next().unwrap_or_default();
        let friendly_name = texts.next().unwrap_or_default();
        let csp = texts.next().unwrap_or_default();

        let lookup = model.lookup(byte(0), byte(1), &lookup_text)?;
        let also = match byte(2) {
            0 => None,
            b => Some(model.lookup((b - 1) % 5, (b - 1) / 5, "")?),
        };
        let flags = byte(5);
        let settings = byte(16);
        let scope_id = |b: u8| (b != 0).then(|| SCOPE_IDS[usize::from(b - 1) % SCOPE_IDS.len()]);
        Some(Case {
            lookup,
            also,
            format: [
                CertificateFormat::Cer,
                CertificateFormat::Crt,
                CertificateFormat::Der,
                CertificateFormat::Pem,
                CertificateFormat::P7b,
                CertificateFormat::Pfx,
                CertificateFormat::Zip,
            ][usize::from(byte(3)) % 7],
            extension: [
                None,
                Some(FileExtension::Cer),
                Some(FileExtension::Crt),
                Some(FileExtension::Pem),
                Some(FileExtension::P7b),
                Some(FileExtension::Pfx),
                Some(FileExtension::Key),
                Some(FileExtension::P8),
                Some(FileExtension::Zip),
            ][usize::from(byte(4)) % 9],
            include_chain: flags & 1 != 0,
            root_first: flags & 2 != 0,
            subject_headers: flags & 4 == 0,
            p7b_pem: flags & 8 != 0,
            legacy_key: flags & 16 != 0,
            legacy_pfx: flags & 32 != 0,
            friendly_name: (flags & 64 != 0).then_some(friendly_name),
            csp: (flags & 128 != 0).then_some(csp),
            key: [
                KeyChoice::None,
                KeyChoice::Encrypted(KeyPlacement::WithCertificate),
                KeyChoice::Encrypted(KeyPlacement::KeyOnly),
                KeyChoice::DangerUnencrypted(KeyPlacement::WithCertificate),
                KeyChoice::DangerUnencrypted(KeyPlacement::KeyOnly),
            ][usize::from(byte(6)) % 5],
            iterations: certexport::formats::KeyEncryption::MIN_ITERATIONS + u32::from(byte(7) % 4),
            claims: (8..14).filter_map(|i| claim(byte(i))).collect(),
            scope: Scope::new(scope_id(byte(14)), scope_id(byte(15))),
            rule: if settings & 16 != 0 {
                ScopeRule::AnyCollectionOfTheCertificate
            } else {
                ScopeRule::GivenScope
            },
            allow_partial: settings & 1 != 0,
            exclude_root: settings & 2 != 0,
            periods: settings & 4 == 0,
            csps_allowed: settings & 8 == 0,
            password,
        })
    }

    fn settings(&self) -> ExportSettings {
        let mut chain = ChainPolicy::default();
        if self.allow_partial {
            chain.incomplete = IncompleteChains::AllowPartial;
        }
        if self.exclude_root {
            chain.root = RootCertificate::Exclude;
        }
        let csps = if self.csps_allowed {
            CspPolicy::allowing([ALLOWED_CSP])
        } else {
            CspPolicy::default()
        };
        ExportSettings::default()
            .with_time(ExportTime::UnixSeconds(FIXED_TIME))
            .with_chain(chain)
            .with_csps(csps)
            .with_periods_in_filenames(self.periods)
    }

    /// The request, with `lookup` and `password` (a password the crate
    /// refuses is an error, as when a caller builds the request).
    fn request(&self, lookup: Lookup, password: &str) -> Result<ExportRequest, ExportError> {
        let mut request = ExportRequest::new(lookup);
        request.also_matching.extend(self.also.clone());
        request.format = self.format;
        request.extension = self.extension;
        request.include_chain = self.include_chain;
        request.chain_order = if self.root_first {
            ChainOrder::RootFirst
        } else {
            ChainOrder::EndEntityFirst
        };
        request.include_subject_header = self.subject_headers;
        request.p7b_encoding = if self.p7b_pem {
            P7bEncoding::Pem
        } else {
            P7bEncoding::Der
        };
        request.private_key = match self.key {
            KeyChoice::None => KeyExport::None,
            KeyChoice::Encrypted(placement) => {
                let encryption = if self.legacy_key {
                    KeyEncryption::legacy_pkcs12_triple_des()
                } else {
                    KeyEncryption::default()
                };
                KeyExport::Encrypted {
                    placement,
                    password: Password::new(password)?,
                    encryption: encryption.with_iterations(self.iterations),
                }
            }
            KeyChoice::DangerUnencrypted(placement) => KeyExport::DangerUnencrypted { placement },
        };
        request.pfx.profile = if self.legacy_pfx {
            PfxProfile::Legacy
        } else {
            PfxProfile::Modern
        };
        request.pfx.iterations = self.iterations;
        request.pfx.friendly_name = self.friendly_name.clone();
        request.pfx.target_csp = self.csp.clone();
        request.scope = self.scope;
        request.scope_rule = self.rule;
        Ok(request)
    }

    /// The request with another lookup (a password it refuses cannot get
    /// here: the case's own request was built).
    fn with_lookup(&self, lookup: Lookup) -> ExportRequest {
        match self.request(lookup, &self.password) {
            Ok(request) => request,
            Err(e) => panic!("the request was built once: {e}"),
        }
    }

    fn wants_key(&self) -> bool {
        self.key != KeyChoice::None
    }
}

/// A claim from a byte: none for 0, else one of the six kinds, with an id
/// from [`SCOPE_IDS`].
fn claim(b: u8) -> Option<Claim> {
    let id = SCOPE_IDS[usize::from(b / 6) % SCOPE_IDS.len()];
    Some(match b % 6 {
        _ if b == 0 => return None,
        0 => Claim::ReadAllCollections,
        1 => Claim::ReadCollection(id),
        2 => Claim::ReadAllStores,
        3 => Claim::ReadStoreContainer(id),
        4 => Claim::ReadAllPrivateKeys,
        _ => Claim::ReadCollectionPrivateKeys(id),
    })
}

/// What the store holds, as this target knows it (from the fixture files
/// and the manifest's table above, not from the crate's answers), and
/// SPEC §7 as a model.
struct Model {
    store: MemoryStore,
    certificates: Vec<Known>,
}

/// One certificate of the store.
struct Known {
    id: CertId,
    der: Vec<u8>,
    /// Its issuer's comparison key (from the issuer read by `x509-cert`)
    /// and its issuer DN as the crate prints it.
    issuer_key: NameKey,
    issuer: String,
    serial: SerialNumber,
    uuid: Uuid,
    /// The file-name stem, its CN.
    cn: &'static str,
    collections: &'static [u64],
    containers: &'static [u64],
    /// The key policy: its name and whether it allows key export.
    policy: Option<(&'static str, bool)>,
    /// The index of its issuer (itself for the root).
    issuer_index: usize,
    /// The secrets of its key: PKCS#8, SEC1, the private scalar.
    key: Option<[Vec<u8>; 3]>,
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(Model::load)
}

impl Model {
    fn load() -> Model {
        type Row = (
            u64,
            &'static str,
            &'static str,
            &'static [u64],
            &'static [u64],
            Option<(&'static str, bool)>,
            usize,
        );
        // The manifest's table (see the top of this file), and each
        // certificate's issuer.
        const ROWS: [Row; 5] = [
            (1, "01-root", "Manifest Root", &[], &[], None, 0),
            (2, "02-intermediate", "Manifest Intermediate", &[], &[], None, 0),
            (
                3,
                "a.example.com",
                "a.example.com",
                &[5],
                &[2],
                Some(("Standard", true)),
                1,
            ),
            (100, "b.example.com", "b.example.com", &[6], &[3], None, 1),
            (
                4,
                "c.example.com",
                "c.example.com",
                &[5],
                &[],
                Some(("Production", false)),
                1,
            ),
        ];
        let dir = fixture("manifest");
        let mut store = MemoryStore::from_path(&dir).expect("the manifest fixture loads");
        let mut certificates = Vec::new();
        for (i, (id, file, cn, collections, containers, policy, issuer_index)) in ROWS.into_iter().enumerate() {
            let pem = std::fs::read(dir.join(format!("{file}.pem"))).expect("a fixture certificate");
            let der = certexport::formats::read_certificates(&pem)
                .expect("a certificate")
                .remove(0);
            let parsed = x509_cert::Certificate::from_der(&der).expect("x509-cert reads the fixture");
            let issuer_der = parsed.tbs_certificate().issuer().to_der().expect("the issuer's DER");
            let summary = CertificateSummary::from_der(&der).expect("a summary");
            let serial_hex: String = parsed
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let uuid: Uuid = format!("fuzz-{i}").parse().expect("a uuId");
            let id = CertId(id);
            store.set_uuid(id, uuid.clone()).expect("the store takes a uuId");
            let key = std::fs::read_to_string(dir.join(format!("{file}.key")))
                .ok()
                .map(|pem| {
                    let key = PrivateKey::from_pem(&pem).expect("a fixture key");
                    let pkcs8 = key.secret_pkcs8_der().to_vec();
                    let info = pkcs8::PrivateKeyInfoRef::from_der(&pkcs8).expect("PKCS#8");
                    let sec1 = info.private_key.as_bytes().to_vec();
                    let scalar = sec1::EcPrivateKey::from_der(&sec1).expect("SEC1").private_key.to_vec();
                    [pkcs8.clone(), sec1, scalar]
                });
            // The crate's store agrees with the table: the fuzzing is about
            // what it does with it.
            assert_eq!(
                store.get(id).map(|c| c.der.into_owned()),
                Some(der.clone()),
                "{cn} is not {id}"
            );
            let metadata = store.metadata(id).cloned().unwrap_or_default();
            assert_eq!(
                (metadata.collections.as_slice(), metadata.containers.as_slice()),
                (collections, containers)
            );
            assert_eq!(
                metadata.key_policy.map(|p| p.name),
                policy.map(|(name, _)| name.to_owned()),
                "{cn}'s key policy"
            );
            certificates.push(Known {
                id,
                der,
                issuer_key: NameKey::from_der(&issuer_der).expect("the issuer's key"),
                issuer: summary.issuer,
                serial: serial_hex.parse().expect("a serial"),
                uuid,
                cn,
                collections,
                containers,
                policy,
                issuer_index,
                key,
            });
        }
        Model { store, certificates }
    }

    /// A lookup from the case's bytes. Kinds: 0 `CertId` (from
    /// [`CERT_IDS`]), 1 SHA-1 and 2 SHA-256 thumbprint, 3 issuer DN and
    /// serial (the DN in RFC 4514 or reversed order), 4 `uuId`, each of the
    /// certificate `target` picks or of none; 5 the text, as a thumbprint,
    /// a `uuId` or `serial|issuer DN`.
    fn lookup(&self, kind: u8, target: u8, text: &str) -> Option<Lookup> {
        let known = self
            .certificates
            .get(usize::from(target) % (self.certificates.len() + 1));
        Some(match kind % 6 {
            0 => Lookup::CertId(CertId(CERT_IDS[usize::from(target) % CERT_IDS.len()])),
            1 => Lookup::Thumbprint(known.map_or(Thumbprint::Sha1([0; 20]), |k| Thumbprint::sha1_of(&k.der))),
            2 => Lookup::Thumbprint(known.map_or(Thumbprint::Sha256([0; 32]), |k| Thumbprint::sha256_of(&k.der))),
            3 => {
                let (issuer, serial) = match known {
                    Some(k) => (k.issuer.clone(), k.serial.clone()),
                    None => (self.certificates[2].issuer.clone(), unknown_serial()),
                };
                let issuer = if target & 0x80 != 0 {
                    issuer.split(',').rev().collect::<Vec<_>>().join(",")
                } else {
                    issuer
                };
                Lookup::IssuerSerial {
                    issuer: issuer.parse().ok()?,
                    serial,
                }
            }
            4 => Lookup::Uuid(known.map_or_else(|| "no-such-certificate".parse().ok(), |k| Some(k.uuid.clone()))?),
            _ => match target % 3 {
                0 => Lookup::Thumbprint(text.parse().ok()?),
                1 => Lookup::Uuid(text.parse().ok()?),
                _ => {
                    let (serial, issuer) = text.split_once('|')?;
                    Lookup::IssuerSerial {
                        issuer: issuer.parse::<DistinguishedName>().ok()?,
                        serial: serial.parse().ok()?,
                    }
                }
            },
        })
    }

    /// A lookup of the same kind as `like` that names no certificate.
    fn missing(&self, like: &Lookup) -> Lookup {
        match like {
            Lookup::Thumbprint(Thumbprint::Sha256(_)) => Lookup::Thumbprint(Thumbprint::Sha256([0; 32])),
            Lookup::Thumbprint(_) => Lookup::Thumbprint(Thumbprint::Sha1([0; 20])),
            Lookup::IssuerSerial { issuer, .. } => Lookup::IssuerSerial {
                issuer: issuer.clone(),
                serial: unknown_serial(),
            },
            Lookup::Uuid(_) => Lookup::Uuid("no-such-certificate".parse().expect("a uuId")),
            _ => Lookup::CertId(CertId(99)),
        }
    }

    /// A lookup of the same kind as `like` that names the root, which is
    /// in no collection or container: no scoped caller may see it.
    fn hidden(&self, like: &Lookup) -> Lookup {
        let root = &self.certificates[0];
        match like {
            Lookup::Thumbprint(Thumbprint::Sha256(_)) => Lookup::Thumbprint(Thumbprint::sha256_of(&root.der)),
            Lookup::Thumbprint(_) => Lookup::Thumbprint(Thumbprint::sha1_of(&root.der)),
            Lookup::IssuerSerial { .. } => Lookup::IssuerSerial {
                issuer: root.issuer.parse().expect("the root's issuer parses"),
                serial: root.serial.clone(),
            },
            Lookup::Uuid(_) => Lookup::Uuid(root.uuid.clone()),
            _ => Lookup::CertId(root.id),
        }
    }

    /// The index of the one certificate all the lookups name, if they do.
    fn resolve(&self, first: &Lookup, also: &Option<Lookup>) -> Option<usize> {
        let one = self.resolve_one(first)?;
        match also {
            Some(second) if self.resolve_one(second) != Some(one) => None,
            _ => Some(one),
        }
    }

    fn resolve_one(&self, lookup: &Lookup) -> Option<usize> {
        let found: Vec<usize> = (0..self.certificates.len())
            .filter(|&i| {
                let k = &self.certificates[i];
                match lookup {
                    Lookup::CertId(id) => k.id == *id,
                    Lookup::Thumbprint(t) => *t == Thumbprint::sha1_of(&k.der) || *t == Thumbprint::sha256_of(&k.der),
                    Lookup::Uuid(uuid) => k.uuid == *uuid,
                    // The issuer read in RFC 4514 order, or (SPEC §2) reversed.
                    Lookup::IssuerSerial { issuer, serial } => {
                        k.serial == *serial
                            && (*issuer.key() == k.issuer_key || issuer.reversed_key() == Some(&k.issuer_key))
                    }
                    _ => false,
                }
            })
            .collect();
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn holds(case: &Case, claim: Claim) -> bool {
        case.claims.contains(&claim)
    }

    /// A system-wide read claim (collections or stores).
    fn reads_all(case: &Case) -> bool {
        Self::holds(case, Claim::ReadAllCollections) || Self::holds(case, Claim::ReadAllStores)
    }

    /// Whether the caller's rights reach every certificate (then they may
    /// learn what does not exist). SPEC §7: in the scope given. SPEC §10's
    /// rule: the system-wide read claim, and the system-wide key claim
    /// when a key is asked for.
    fn sees_everything(&self, case: &Case) -> bool {
        if case.rule == ScopeRule::AnyCollectionOfTheCertificate {
            return Self::reads_all(case) && (!case.wants_key() || Self::holds(case, Claim::ReadAllPrivateKeys));
        }
        match (case.scope.collection_id, case.scope.container_id) {
            (Some(_), _) => Self::holds(case, Claim::ReadAllCollections),
            (None, Some(_)) => Self::holds(case, Claim::ReadAllStores),
            (None, None) => Self::reads_all(case),
        }
    }

    /// Whether the caller may export certificate `i`. SPEC §7:
    /// CollectionId wins over ContainerId; with neither, only a
    /// system-wide claim. SPEC §10's rule: a system-wide read claim, or
    /// the read claim of a collection the certificate is in.
    fn may_read(&self, case: &Case, i: usize) -> bool {
        let k = &self.certificates[i];
        if case.rule == ScopeRule::AnyCollectionOfTheCertificate {
            return Self::reads_all(case)
                || k.collections
                    .iter()
                    .any(|&c| Self::holds(case, Claim::ReadCollection(c)));
        }
        match (case.scope.collection_id, case.scope.container_id) {
            (Some(c), _) => {
                Self::holds(case, Claim::ReadAllCollections)
                    || (Self::holds(case, Claim::ReadCollection(c)) && k.collections.contains(&c))
            }
            (None, Some(n)) => {
                Self::holds(case, Claim::ReadAllStores)
                    || (Self::holds(case, Claim::ReadStoreContainer(n)) && k.containers.contains(&n))
            }
            (None, None) => Self::reads_all(case),
        }
    }

    /// Whether the caller's claims give them certificate `i`'s key, policy
    /// aside. SPEC §7: read rights, and the private-key claim system-wide
    /// or for the collection given, which the certificate must be in.
    /// SPEC §10's rule: the read and key claims of one collection the
    /// certificate is in, either of them possibly system-wide.
    fn key_claim(&self, case: &Case, i: usize) -> bool {
        let k = &self.certificates[i];
        let all_keys = Self::holds(case, Claim::ReadAllPrivateKeys);
        if case.rule == ScopeRule::AnyCollectionOfTheCertificate {
            return (Self::reads_all(case) && all_keys)
                || k.collections.iter().any(|&c| {
                    (Self::reads_all(case) || Self::holds(case, Claim::ReadCollection(c)))
                        && (all_keys || Self::holds(case, Claim::ReadCollectionPrivateKeys(c)))
                });
        }
        self.may_read(case, i)
            && (all_keys
                || case.scope.collection_id.is_some_and(|c| {
                    Self::holds(case, Claim::ReadCollectionPrivateKeys(c)) && k.collections.contains(&c)
                }))
    }

    /// Whether the key policy of certificate `i` lets its key out.
    fn policy_allows(&self, i: usize) -> bool {
        self.certificates[i].policy.is_none_or(|(_, allows)| allows)
    }

    /// The certificates of `i`'s chain: itself and its issuers.
    fn chain(&self, mut i: usize) -> Vec<usize> {
        let mut chain = vec![i];
        while self.certificates[i].issuer_index != i {
            i = self.certificates[i].issuer_index;
            chain.push(i);
        }
        chain
    }

    fn check_success(&self, case: &Case, target: Option<usize>, request: &ExportRequest, artifact: &ExportArtifact) {
        let Some(i) = target else {
            panic!("an export succeeded for lookups that name no single certificate: {case:?}");
        };
        let k = &self.certificates[i];
        assert!(
            self.may_read(case, i),
            "SPEC §7 forbids this export of {}, and it succeeded: {case:?}",
            k.cn
        );
        if let Some(csp) = &case.csp {
            assert!(
                case.csps_allowed && csp == ALLOWED_CSP,
                "the CSP {csp:?} is not allowed, and the export succeeded"
            );
        }
        // The file is named for the certificate asked for.
        let stem = if case.periods {
            k.cn.to_owned()
        } else {
            k.cn.replace('.', "_")
        };
        let expected_name = format!("{stem}.{}", artifact.extension().as_str());
        assert_eq!(artifact.file_name(), expected_name, "the artifact is not of {}", k.cn);

        assert_eq!(
            artifact.contains_private_key(),
            case.wants_key(),
            "key asked for: {:?}",
            case.key
        );
        let readable = readable_bytes(artifact.bytes());
        if case.wants_key() {
            assert!(
                self.key_claim(case, i),
                "SPEC §7 forbids exporting the key of {}, and it succeeded: {case:?}",
                k.cn
            );
            assert!(
                self.policy_allows(i),
                "the key policy of {} restricts its key, and it left",
                k.cn
            );
            assert!(k.key.is_some(), "a key was exported for {}, which has none", k.cn);
        } else {
            assert!(
                !contains(&readable, b"PRIVATE KEY"),
                "no key was asked for, and the artifact holds one"
            );
        }
        if !matches!(request.private_key, KeyExport::DangerUnencrypted { .. }) {
            self.holds_no_plain_key(&readable);
        }
        // Only certificates of the chain of the certificate asked for, and
        // that one unless the key goes alone. (A PFX's are encrypted.)
        if case.format != CertificateFormat::Pfx {
            let chain = self.chain(i);
            let found: Vec<usize> = (0..self.certificates.len())
                .filter(|&j| contains(&readable, &self.certificates[j].der))
                .collect();
            if let Some(j) = found.iter().find(|j| !chain.contains(j)) {
                panic!(
                    "the export of {} holds {}, which is not in its chain",
                    k.cn, self.certificates[*j].cn
                );
            }
            let key_only = case.key == KeyChoice::Encrypted(KeyPlacement::KeyOnly)
                || case.key == KeyChoice::DangerUnencrypted(KeyPlacement::KeyOnly);
            assert_eq!(
                found.contains(&i),
                !key_only,
                "the certificate of {} and a key-only export",
                k.cn
            );
            assert_eq!(
                artifact.certificate_count(),
                found.len(),
                "the certificates of {} counted",
                k.cn
            );
        }
    }

    /// No plaintext key: no unencrypted PEM key block, none of the store's
    /// keys' secret bytes.
    fn holds_no_plain_key(&self, bytes: &[u8]) {
        for label in [
            &b"-----BEGIN PRIVATE KEY-----"[..],
            b"-----BEGIN RSA PRIVATE KEY-----",
            b"-----BEGIN EC PRIVATE KEY-----",
        ] {
            assert!(
                !contains(bytes, label),
                "an unencrypted key block without DangerUnencrypted"
            );
        }
        for k in &self.certificates {
            for secret in k.key.iter().flatten() {
                assert!(
                    !contains(bytes, secret),
                    "the key of {} in plain without DangerUnencrypted",
                    k.cn
                );
            }
        }
    }

    fn check_error(&self, case: &Case, target: Option<usize>, error: &ExportError) {
        match error {
            // Errors that tell something of the certificate found: only to
            // a caller who may see it.
            ExportError::KeyExportRestricted { policy } => {
                let i = target.expect("a restricted key of a certificate the lookups name");
                assert!(case.wants_key(), "a key policy refused a certificate-only export");
                assert!(
                    self.key_claim(case, i),
                    "the key policy {policy:?} was named to a caller who may not have the key: {case:?}"
                );
                assert_eq!(
                    self.certificates[i].policy,
                    Some((policy.as_str(), false)),
                    "another policy named"
                );
            }
            ExportError::NoPrivateKey { .. } => {
                let i = target.expect("a missing key of a certificate the lookups name");
                assert!(self.key_claim(case, i), "a missing key told to another: {case:?}");
                assert!(
                    self.certificates[i].key.is_none(),
                    "the key of {} is there",
                    self.certificates[i].cn
                );
            }
            ExportError::NotFound { .. }
            | ExportError::AmbiguousLookup { .. }
            | ExportError::ConflictingLookups { .. } => {
                assert!(
                    self.sees_everything(case),
                    "a scoped caller learned that a lookup names nothing: {error}: {case:?}"
                );
            }
            // SPEC §7 does allow this export: the denial is wrong unless
            // the key (claims or policy) is what is refused. The refusal
            // of scoped claims without a scope is a denial too.
            ExportError::AccessDenied | ExportError::ScopeRequired { .. } => {
                if let Some(i) = target {
                    let key_refused = case.wants_key() && !self.key_claim(case, i);
                    assert!(
                        !self.may_read(case, i) || key_refused,
                        "SPEC §7 allows this export of {}, and it was denied: {case:?}",
                        self.certificates[i].cn
                    );
                }
            }
            _ => {}
        }
    }
}

/// A serial number no certificate of the store has.
fn unknown_serial() -> SerialNumber {
    "0badc0de".parse().expect("a serial number")
}

/// The bytes of an artifact with what it holds in other forms appended:
/// the members of a ZIP (read with the `zip` crate), then the body of
/// every PEM block (read with the `base64` crate), so that certificates
/// and keys show as their DER whatever the artifact's form.
fn readable_bytes(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    use std::io::Read;
    let mut readable = bytes.to_vec();
    if let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        for i in 0..archive.len() {
            match archive.by_index(i).map(|mut member| member.read_to_end(&mut readable)) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("member {i} of the ZIP does not read: {e}"),
                Err(e) => panic!("member {i} of the ZIP does not open: {e}"),
            }
        }
    }
    let pem = readable.clone();
    let mut rest = pem.as_slice();
    while let Some(begin) = find(rest, b"-----BEGIN ") {
        let after = &rest[begin..];
        let Some(body_start) = after.iter().position(|&b| b == b'\n') else {
            break;
        };
        let Some(body_len) = find(&after[body_start..], b"-----END ") else {
            break;
        };
        let body: Vec<u8> = after[body_start..body_start + body_len]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(body) {
            readable.extend_from_slice(&decoded);
        }
        rest = &after[body_start + body_len..];
    }
    readable
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
