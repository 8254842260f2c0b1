//! A store file from arbitrary bytes (SPEC §8): PEM, DER, P7B, keys, and —
//! when the input holds [`NEXT_FILE`] — a key file beside a certificate
//! file, loaded as two files of one store (two `load_bytes` calls) and as
//! `www.pem` + `www.key` in a directory (`load_paths`, where the key is
//! named for the certificates of its stem).
//!
//! Oracles:
//! - never a panic; every error's text is bounded whatever the input size;
//! - with `BadFiles::SkipWithWarning` a load never fails: a bad file is
//!   skipped and reported;
//! - whatever loads exports cleanly: as DER, the stored bytes exactly; as
//!   PEM (with and without the chain) and P7B, text the store reads back
//!   as the same certificates; found again by its thumbprint and by the
//!   issuer DN and serial the crate prints for it (`certexport list`); its
//!   key, when it has one, exported (plain, DER) as a key the crate reads.
#![no_main]

use std::sync::Arc;

use certexport::ids::{CertId, Thumbprint};
use certexport::name::DistinguishedName;
use certexport::options::{ChainPolicy, ExportTime, IncompleteChains, KeyExport, KeyPlacement};
use certexport::store::{BadFiles, LoadOptions, LoadReport, MemoryStore};
use certexport::{
    Caller, CertificateFormat, CertificateSummary, ExportError, ExportRequest, ExportSettings, Exporter, Lookup,
    PrivateKey, formats,
};
use certexport_fuzz::{FIXED_TIME, FixedRandom, checked_text, scratch_dir};
use libfuzzer_sys::fuzz_target;

/// Separates the two files of an input: a certificate file, then a key
/// file beside it. (Seeds use it; libFuzzer keeps it as a dictionary word.)
const NEXT_FILE: &[u8] = b"\n%%certexport-fuzz-next-file%%\n";

/// At most this many certificates of one input are exported, so that a
/// bundle of many small certificates does not make one run slow.
const MAX_EXPORTED: usize = 12;

fuzz_target!(|data: &[u8]| {
    let (first, second) = match data.windows(NEXT_FILE.len()).position(|w| w == NEXT_FILE) {
        Some(at) => (&data[..at], Some(&data[at + NEXT_FILE.len()..])),
        None => (data, None),
    };

    let strict = LoadOptions::default();
    let mut store = MemoryStore::new();
    let loaded = load(&mut store, "fuzz.pem", first, &strict)
        .and_then(|()| second.map_or(Ok(()), |key| load(&mut store, "fuzz.key", key, &strict)));
    if loaded.is_ok() {
        export_everything(&store);
    }

    let skipping = LoadOptions::with_bad_files(BadFiles::SkipWithWarning);
    let mut lenient = MemoryStore::new();
    for (name, bytes) in [("fuzz.pem", Some(first)), ("fuzz.key", second)] {
        let Some(bytes) = bytes else { continue };
        if let Err(e) = load(&mut lenient, name, bytes, &skipping) {
            panic!("BadFiles::SkipWithWarning: loading failed rather than skipping the file: {e:?}");
        }
    }
    if loaded.is_err() {
        export_everything(&lenient);
    }

    if let Some(second) = second {
        // The same two files in a directory, where `www.key` is named for
        // the certificates of `www.pem`.
        let dir = scratch_dir("store-file");
        let written = std::fs::write(dir.join("www.pem"), first).and(std::fs::write(dir.join("www.key"), second));
        if let Err(e) = written {
            panic!("cannot write the scratch files: {e}");
        }
        let mut from_dir = MemoryStore::new();
        match from_dir.load_paths([&dir], &strict) {
            Ok(report) => {
                check_report(&report);
                export_everything(&from_dir);
            }
            Err(e) => {
                checked_text(&e);
            }
        }
    }
});

/// Loads `bytes` as the file `name`, checking the text of the error and
/// of every warning.
fn load(store: &mut MemoryStore, name: &str, bytes: &[u8], options: &LoadOptions) -> Result<(), ExportError> {
    match store.load_bytes(name, bytes, options) {
        Ok(report) => {
            check_report(&report);
            Ok(())
        }
        Err(e) => {
            checked_text(&e);
            Err(e)
        }
    }
}

fn check_report(report: &LoadReport) {
    for warning in &report.warnings {
        checked_text(warning);
    }
}

/// Exports each certificate of the store (up to [`MAX_EXPORTED`]) in every
/// way a user of a loaded store would, as a caller who may see everything.
fn export_everything(store: &MemoryStore) {
    let mut chain = ChainPolicy::default();
    // Fuzzed certificates rarely reach a root: export as far as the chain goes.
    chain.incomplete = IncompleteChains::AllowPartial;
    let settings = ExportSettings::default()
        .with_time(ExportTime::UnixSeconds(FIXED_TIME))
        .with_chain(chain);
    let exporter = Exporter::with_settings(store, settings).with_random_source(Arc::new(FixedRandom));
    let caller = Caller::single_tenant_full_access();
    let export = |request: &ExportRequest| {
        let result = exporter.export(&caller, request);
        if let Err(e) = &result {
            checked_text(e);
        }
        result
    };

    for (stored, has_key) in store.iter().take(MAX_EXPORTED) {
        let id = stored.id;
        let der = stored.der.as_ref();
        // Named by thumbprint: after a skipped file, automatic ids are
        // unstable and refused by design (`ExportError::UnstableId`).
        let this = Thumbprint::sha256_of(der);

        // DER: the stored bytes, exactly (SPEC §8: never re-encoded).
        let mut request = ExportRequest::new(this);
        request.format = CertificateFormat::Der;
        match export(&request) {
            Ok(artifact) => assert_eq!(artifact.bytes(), der, "the DER export of {id} is not the stored DER"),
            Err(e) => panic!("a loaded certificate ({id}) does not export as DER: {e:?}"),
        }
        request.lookup = id.into();
        match export(&request) {
            Ok(artifact) => assert_eq!(artifact.bytes(), der, "{id} names another certificate"),
            Err(ExportError::UnstableId { .. }) => {}
            Err(e) => panic!("a loaded certificate is not found by its id {id}: {e:?}"),
        }

        // PEM with its subject header, then the chain as PEM and as P7B:
        // what the crate writes, it reads back.
        let single = export(&ExportRequest::new(this))
            .ok()
            .map(|a| read_back(a.bytes(), "PEM"));
        if let Some(single) = single {
            assert_eq!(single, [der], "the PEM export of {id} reads back as other certificates");
        }
        let mut request = ExportRequest::new(this);
        request.include_chain = true;
        let pem_chain = export(&request).ok().map(|a| read_back(a.bytes(), "PEM chain"));
        request.format = CertificateFormat::P7b;
        let p7b_chain = export(&request).ok().map(|a| read_back(a.bytes(), "P7B"));
        for chain in [&pem_chain, &p7b_chain].into_iter().flatten() {
            assert_eq!(
                chain.first().map(Vec::as_slice),
                Some(der),
                "a chain of {id} starts elsewhere"
            );
        }
        if let (Some(pem), Some(p7b)) = (&pem_chain, &p7b_chain) {
            assert_eq!(pem, p7b, "the PEM and P7B chains of {id} differ");
        }

        find_again(&export, id, der);

        if has_key {
            let mut request = ExportRequest::new(this);
            request.format = CertificateFormat::Der;
            request.private_key = KeyExport::DangerUnencrypted {
                placement: KeyPlacement::KeyOnly,
            };
            match export(&request) {
                Ok(artifact) => {
                    if let Err(e) = PrivateKey::from_pkcs8_der(artifact.bytes()) {
                        panic!("the key exported for {id} does not read back: {e:?}");
                    }
                }
                Err(e) => panic!("the key paired with {id} does not export: {e:?}"),
            }
        }
    }
}

/// The certificates of an artifact, read as a store file is read.
fn read_back(bytes: &[u8], what: &str) -> Vec<Vec<u8>> {
    match formats::read_certificates(bytes) {
        Ok(certificates) => certificates,
        Err(e) => panic!("the crate cannot read its own {what} export: {e:?}"),
    }
}

/// The certificate is found again by its SHA-1 and SHA-256 thumbprints,
/// and by the issuer DN and serial the crate prints for it (what a user
/// copies from `certexport list`).
fn find_again(
    export: &dyn Fn(&ExportRequest) -> Result<certexport::ExportArtifact, ExportError>,
    id: CertId,
    der: &[u8],
) {
    for thumbprint in [Thumbprint::sha1_of(der), Thumbprint::sha256_of(der)] {
        let mut request = ExportRequest::new(thumbprint);
        request.format = CertificateFormat::Der;
        match export(&request) {
            Ok(artifact) => assert_eq!(
                artifact.bytes(),
                der,
                "{thumbprint} finds another certificate than {id}"
            ),
            Err(e) => panic!("{id} is not found by its thumbprint {thumbprint}: {e:?}"),
        }
    }

    // A summary may be refused (a name the crate cannot print); then
    // there is nothing to copy.
    let Ok(summary) = CertificateSummary::from_der(der) else {
        return;
    };
    let issuer: DistinguishedName = match summary.issuer.parse() {
        Ok(issuer) => issuer,
        Err(e) => panic!(
            "the issuer DN printed for {id} does not parse: {:?}: {e:?}",
            summary.issuer
        ),
    };
    let mut request = ExportRequest::new(Lookup::IssuerSerial {
        issuer,
        serial: summary.serial.clone(),
    });
    request.format = CertificateFormat::Der;
    match export(&request) {
        // One match is this certificate; another certificate with the same
        // issuer and serial makes the lookup ambiguous.
        Ok(artifact) => assert_eq!(
            artifact.bytes(),
            der,
            "the issuer and serial of {id} find another certificate"
        ),
        Err(ExportError::AmbiguousLookup { .. }) => {}
        Err(e) => panic!(
            "{id} is not found by the issuer {:?} and serial {} printed for it: {e:?}",
            summary.issuer, summary.serial
        ),
    }
}
