//! The server's TLS: rustls with the `ring` provider (pure Rust but for
//! ring's own C and assembly primitives; no OpenSSL, no cmake), TLS 1.2 and
//! 1.3 with rustls's safe defaults, HTTP/2 and HTTP/1.1 offered by ALPN.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::failure::Failure;

/// The largest certificate-chain or key file read: 1 MiB.
const MAX_FILE: u64 = 1 << 20;

/// A TLS acceptor for the chain in `cert` (PEM, leaf first) and the key in
/// `key` (PEM: PKCS#8, SEC1 or PKCS#1).
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, Failure> {
    let bad = |path: &Path, why: String| Failure::Usage(format!("{}: {why}", path.display()));
    let chain_pem = certexport::store::read_regular_file(cert, MAX_FILE, "a TLS certificate file")?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, format!("cannot read the certificates: {e}")))?;
    if chain.is_empty() {
        return Err(bad(cert, "holds no CERTIFICATE block".into()));
    }
    let key_pem = certexport::store::read_regular_file(key, MAX_FILE, "a TLS key file")?;
    let private_key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad(key, format!("cannot read the private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::Service(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| bad(key, format!("does not go with {}: {e}", cert.display())))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
