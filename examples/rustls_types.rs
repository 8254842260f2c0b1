//! Recipe: the `CertificateDer` chain and `PrivateKeyDer` a rustls server
//! was configured with, out as an encrypted PKCS#8 key and a P7B bundle.
//!
//! Run from the crate's root: `cargo run --example rustls_types`.

use certexport::formats::{self, ChainOrder, KeyEncoding, KeyEncryption, P7bEncoding};
use certexport::{Password, PrivateKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What a rustls `ServerConfig` was built from.
    let chain = CertificateDer::pem_slice_iter(&std::fs::read("tests/data/bundles/chain.pem")?)
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(&std::fs::read("tests/data/pki/03-rsa.example.com.key")?)?;

    // The key, taken by value, encrypted as PKCS#8 PBES2 (PBKDF2-HMAC-SHA256,
    // AES-256-CBC): what `openssl pkey` and Python `cryptography` open.
    let key = PrivateKey::try_from(key)?;
    let password = Password::new("correct horse battery staple")?;
    let pkcs8 = formats::encrypted_pkcs8(&key, &password, KeyEncryption::default(), KeyEncoding::Pem)?;

    // The chain as a certificates-only PKCS#7 bundle, end entity first.
    let p7b = formats::p7b(&chain, ChainOrder::EndEntityFirst, P7bEncoding::Der)?;

    let out = std::env::temp_dir();
    std::fs::write(out.join("rsa.example.com.p8.pem"), &pkcs8)?;
    std::fs::write(out.join("rsa.example.com.p7b"), &p7b)?;
    println!(
        "wrote rsa.example.com.p8.pem and rsa.example.com.p7b to {}",
        out.display()
    );
    Ok(())
}
