//! PKCS#7 "P7B" certificate bundles: a degenerate SignedData (RFC 5652
//! §5) with certificates and no signers, as `openssl crl2pkcs7 -nocrl`
//! and Windows write them.
//!
//! The certificates are written in the caller's order. DER would sort a
//! `SET OF` by encoding, and cms's `CertificateSet` does, which scrambles a
//! chain; OpenSSL, Windows and Java keep the file's order and read it as
//! the chain order, so this encoder writes the set unsorted, exactly as
//! OpenSSL does. The stored DER of each certificate is copied as it is.

use crate::tlv::{self, tag};

const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];

/// The DER `ContentInfo` holding `certificates` in the order given.
pub(crate) fn encode(certificates: &[&[u8]]) -> Vec<u8> {
    // SignedData: version 1, no digest algorithms, id-data content,
    // [0] IMPLICIT certificates, no CRLs, no signer infos.
    let encap = tlv::encode(tag::SEQUENCE, &[&tlv::encode(tag::OID, &[DATA])]);
    let certs = tlv::encode(tag::CONTEXT_0, certificates);
    let signed_data = tlv::encode(
        tag::SEQUENCE,
        &[&[tag::INTEGER, 1, 1], &[tag::SET, 0], &encap, &certs, &[tag::SET, 0]],
    );
    tlv::encode(
        tag::SEQUENCE,
        &[
            &tlv::encode(tag::OID, &[SIGNED_DATA]),
            &tlv::encode(tag::CONTEXT_0, &[&signed_data]),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_in_the_same_order() {
        // Not real certificates: the store's P7B reader checks them, so
        // compare the raw layout instead.
        let a: &[u8] = &[0x30, 0x01, 0xbb];
        let b: &[u8] = &[0x30, 0x01, 0xaa];
        let der = encode(&[a, b]);
        let position = |needle: &[u8]| der.windows(3).position(|w| w == needle).unwrap();
        assert!(position(a) < position(b));
    }
}
