//! OpenSSL doing in-process what our operations do, for the ratio tables
//! (feature `bench-openssl`).
#![allow(dead_code, clippy::unwrap_used)]

use openssl::stack::Stack;

use super::generate::{seq, tlv};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509StoreContext};

/// `X509_verify_cert` over a fixed trust store: OpenSSL's chain build,
/// which finds the intermediate among the untrusted certificates given,
/// the root in the store, and checks both signatures (and the root's
/// own, as our builder does, only when asked to: OpenSSL skips it).
pub(crate) struct Verifier {
    store: X509Store,
    untrusted: Stack<X509>,
    context: X509StoreContext,
}

impl Verifier {
    /// Trusts `root`; offers `intermediates` as untrusted chain
    /// certificates; judges validity at `time` (Unix seconds).
    pub(crate) fn new(root: &[u8], intermediates: &[&[u8]], time: i64) -> Self {
        let mut builder = X509StoreBuilder::new().unwrap();
        builder.add_cert(X509::from_der(root).unwrap()).unwrap();
        let mut param = X509VerifyParam::new().unwrap();
        param.set_time(time);
        builder.set_param(&param).unwrap();
        let mut untrusted = Stack::new().unwrap();
        for der in intermediates {
            untrusted.push(X509::from_der(der).unwrap()).unwrap();
        }
        Self {
            store: builder.build(),
            untrusted,
            context: X509StoreContext::new().unwrap(),
        }
    }

    /// Builds and verifies `leaf`'s chain; returns its length.
    pub(crate) fn chain_len(&mut self, leaf: &X509) -> usize {
        self.context
            .init(&self.store, leaf, &self.untrusted, |ctx| {
                assert!(ctx.verify_cert()?, "{}", ctx.error());
                Ok(ctx.chain().map_or(0, |c| c.len()))
            })
            .unwrap()
    }
}

/// A certificates-only SignedData, DER, of `certs`: `CMS_sign` with no
/// signer, no content and `CMS_PARTIAL` (without it, `CMS_final` fails
/// on a SignedData with no digest algorithm). That is the one way to
/// write a degenerate SignedData in process through the `openssl` crate's
/// safe API: it has no wrapper for `crl2pkcs7`'s `PKCS7_new` +
/// `PKCS7_add_certificate`, and our lints forbid `unsafe` in benches.
/// The output differs from `openssl crl2pkcs7 -nocrl` by an empty
/// `eContent` (4 bytes) and, CMS's `certificates` being a DER `SET OF`,
/// by putting the certificates in byte order, not the order given.
pub(crate) fn certs_only_p7b(certs: &[&X509]) -> Vec<u8> {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    use openssl::pkey::Private;

    let mut stack = Stack::new().unwrap();
    for cert in certs {
        stack.push((*cert).clone()).unwrap();
    }
    CmsContentInfo::sign::<Private>(None, None, Some(&stack), None, CMSOptions::BINARY | CMSOptions::PARTIAL)
        .unwrap()
        .to_der()
        .unwrap()
}

/// An encrypted PKCS#8 key as PEM with exactly our default parameters:
/// PBES2, PBKDF2-HMAC-SHA256 at `iterations`, 16-byte random salt,
/// AES-256-CBC with a random IV. OpenSSL's own
/// `PEM_write_bio_PKCS8PrivateKey` (`private_key_to_pem_pkcs8_passphrase`)
/// always runs 2,048 iterations, so the same work is done from its parts:
/// `PKCS5_PBKDF2_HMAC`, `EVP_aes_256_cbc`, then the
/// `EncryptedPrivateKeyInfo` DER and base64 with `EVP_EncodeBlock`.
pub(crate) fn encrypted_pkcs8_pem(pkcs8_der: &[u8], password: &[u8], iterations: u32) -> String {
    use openssl::hash::MessageDigest;
    use openssl::symm::{Cipher, encrypt};

    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).unwrap();
    openssl::rand::rand_bytes(&mut iv).unwrap();
    let mut key = [0u8; 32];
    openssl::pkcs5::pbkdf2_hmac(password, &salt, iterations as usize, MessageDigest::sha256(), &mut key).unwrap();
    let ciphertext = encrypt(Cipher::aes_256_cbc(), &key, Some(&iv), pkcs8_der).unwrap();

    const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
    const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
    const HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
    const AES_256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
    let count = iterations.to_be_bytes();
    let count = &count[count.iter().position(|&b| b != 0).unwrap_or(3)..];
    let count = if count[0] & 0x80 != 0 {
        [&[0u8][..], count].concat()
    } else {
        count.to_vec()
    };
    let kdf = seq(&[
        &tlv(0x06, PBKDF2),
        &seq(&[
            &tlv(0x04, &salt),
            &tlv(0x02, &count),
            &seq(&[&tlv(0x06, HMAC_SHA256), &[0x05, 0x00]]),
        ]),
    ]);
    let cipher = seq(&[&tlv(0x06, AES_256_CBC), &tlv(0x04, &iv)]);
    let algorithm = seq(&[&tlv(0x06, PBES2), &seq(&[&kdf, &cipher])]);
    let der = seq(&[&algorithm, &tlv(0x04, &ciphertext)]);

    let base64 = openssl::base64::encode_block(&der);
    let mut pem = String::from("-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END ENCRYPTED PRIVATE KEY-----\n");
    pem
}

/// A PFX with our modern profile's parameters through
/// `Pkcs12::builder()`: PBES2 AES-256-CBC (PBKDF2-HMAC-SHA256) for the
/// key and the certificate bags, HMAC-SHA256 MAC, `iterations` for both.
/// Note: `build2` calls `PKCS12_create`, which already computes a MAC,
/// then `PKCS12_set_mac` computes it again with the digest asked for, so
/// OpenSSL derives the MAC key twice (one extra PKCS#12 KDF run).
pub(crate) fn modern_pfx(
    key: &openssl::pkey::PKeyRef<openssl::pkey::Private>,
    cert: &X509,
    chain: &[&X509],
    friendly_name: &str,
    password: &str,
    iterations: u32,
) -> Vec<u8> {
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkcs12::Pkcs12;

    let mut ca = Stack::new().unwrap();
    for cert in chain {
        ca.push((*cert).clone()).unwrap();
    }
    Pkcs12::builder()
        .name(friendly_name)
        .pkey(key)
        .cert(cert)
        .ca(ca)
        .key_algorithm(Nid::AES_256_CBC)
        .cert_algorithm(Nid::AES_256_CBC)
        .key_iter(iterations)
        .mac_iter(iterations)
        .mac_md(MessageDigest::sha256())
        .build2(password)
        .unwrap()
        .to_der()
        .unwrap()
}
