//! Recipe: a directory store exported by SHA-256 thumbprint for a caller
//! whose rights are scoped to one collection.
//!
//! Run from the crate's root: `cargo run --example scoped_export`.

use certexport::options::{ChainOrder, Scope};
use certexport::store::MemoryStore;
use certexport::{Caller, CertificateFormat, Claim, ExportError, ExportRequest, Exporter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // PEM files and a manifest (`certexport-store.json`) that puts
    // a.example.com in collection 5.
    let exporter = Exporter::new(MemoryStore::from_path("tests/data/manifest")?);

    // A caller who may read collection 5, and nothing else.
    let caller = Caller::with_claims([Claim::ReadCollection(5)]);

    // a.example.com by its SHA-256 thumbprint, with its chain, as a P7B.
    let thumbprint = "BD:72:95:E5:C2:BA:12:DB:08:1E:CD:F0:E8:83:CF:1A:70:6B:B1:96:48:70:58:43:24:91:0F:09:3D:BB:96:25";
    let mut request = ExportRequest::new(thumbprint.parse::<certexport::ids::Thumbprint>()?);
    request.format = CertificateFormat::P7b;
    request.include_chain = true;
    request.chain_order = ChainOrder::RootFirst;

    // Scoped claims count only in their scope: a request without one is
    // refused, and the refusal says what to add.
    let unscoped = exporter.export(&caller, &request);
    let refusal = unscoped.err().ok_or("exported without a scope")?;
    assert!(matches!(refusal, ExportError::ScopeRequired { .. }));
    println!("without a scope: {refusal}");

    request.scope = Scope::collection(5);
    let artifact = exporter.export(&caller, &request)?;
    assert_eq!(artifact.file_name(), "a.example.com.p7b");
    assert_eq!(artifact.certificate_count(), 3);
    println!(
        "in collection 5: {} ({} bytes)",
        artifact.file_name(),
        artifact.bytes().len()
    );
    Ok(())
}
