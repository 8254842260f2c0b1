//! PKCS#7 "P7B" certificate bundles: a degenerate SignedData (RFC 5652
//! §5) with certificates and no signers, as `openssl crl2pkcs7 -nocrl`
//! and Windows write them — read and written with the same types.
//!
//! The certificates are kept in the file's order, both ways. DER would
//! sort a `SET OF` by encoding, and `cms`'s `CertificateSet` does (on
//! construction and when decoding), which scrambles a chain; OpenSSL,
//! Windows and Java keep the file's order and read it as the chain order.
//! So this module declares the few fields a P7B uses with the
//! certificates as an ordered `[0] IMPLICIT` list, which encodes exactly
//! the bytes OpenSSL writes. Each certificate's stored DER is copied as it
//! is, never re-encoded.

use der::asn1::{AnyRef, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode, Length, Reader, Sequence, Writer};

use crate::error::{DerError, ExportError};
use crate::fast_der::{self, tag};
use crate::oid;

/// `ContentInfo` holding a SignedData (RFC 5652 §3).
#[derive(Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: SignedData<'a>,
}

/// The SignedData of a certificates-only bundle (RFC 5652 §5.1).
#[derive(Sequence)]
struct SignedData<'a> {
    version: u8,
    digest_algorithms: SetOfVec<AnyRef<'a>>,
    encap_content_info: EncapsulatedContentInfo<'a>,
    /// In the file's order; anything that is not a plain certificate (an
    /// attribute certificate, say) is skipped when reading.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<Vec<Element<'a>>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<Vec<AnyRef<'a>>>,
    signer_infos: SetOfVec<AnyRef<'a>>,
}

/// `EncapsulatedContentInfo` (RFC 5652 §5.2).
#[derive(Sequence)]
struct EncapsulatedContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    content: Option<AnyRef<'a>>,
}

/// One whole DER element (tag, length and contents), carried as its
/// bytes: a certificate is read out of a P7B and written into one exactly
/// as it is, with no decoding of what it holds. Reading takes the element
/// the `der` reader delimits (`Reader::tlv_bytes`).
struct Element<'a>(&'a [u8]);

impl<'a> Decode<'a> for Element<'a> {
    type Error = der::Error;

    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        reader.tlv_bytes().map(Element)
    }
}

impl Encode for Element<'_> {
    fn encoded_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.0)
    }
}

/// The DER P7B holding `certificates` (each one DER certificate) in the
/// order given: version 1, no digest algorithms, `id-data` content, no
/// CRLs, no signers.
pub(crate) fn encode(certificates: &[&[u8]]) -> Result<Vec<u8>, ExportError> {
    let encoding = ExportError::encoding("P7B");
    // Each must be one DER SEQUENCE and nothing more, or the bundle would
    // not be one (its contents were checked when it was stored).
    let certificates = certificates
        .iter()
        .map(|der| fast_der::single(der, tag::SEQUENCE).map(|_| Element(der)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ExportError::Encoding {
            what: "P7B",
            source: DerError::of(e),
        })?;
    ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: SignedData {
            version: 1,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                content_type: oid::DATA,
                content: None,
            },
            certificates: Some(certificates),
            crls: None,
            signer_infos: SetOfVec::new(),
        },
    }
    .to_der()
    .map_err(encoding)
}

/// The certificates of a DER P7B, in the order the file lists them, as
/// DER. Their contents are not checked here.
pub(crate) fn decode(der: &[u8]) -> der::Result<Vec<Vec<u8>>> {
    let info = ContentInfo::from_der(der)?;
    if info.content_type != oid::SIGNED_DATA {
        return Err(der::ErrorKind::OidUnknown { oid: info.content_type }.into());
    }
    info.content
        .certificates
        .unwrap_or_default()
        .into_iter()
        // Only the plain `Certificate` choice; attribute certificates are not ours.
        .filter(|choice| choice.0.first() == Some(&tag::SEQUENCE))
        .map(|certificate| Ok(certificate.0.to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_both_ways() {
        // Not real certificates: the order is all this checks.
        let a: &[u8] = &[0x30, 0x01, 0xbb];
        let b: &[u8] = &[0x30, 0x01, 0xaa];
        let der = encode(&[a, b]).unwrap();
        assert_eq!(decode(&der).unwrap(), [a.to_vec(), b.to_vec()]);
        let der = encode(&[b, a]).unwrap();
        assert_eq!(decode(&der).unwrap(), [b.to_vec(), a.to_vec()]);
    }

    #[test]
    fn refuses_what_is_not_signed_data() {
        let other = ContentInfo {
            content_type: oid::DATA,
            content: SignedData {
                version: 1,
                digest_algorithms: SetOfVec::new(),
                encap_content_info: EncapsulatedContentInfo {
                    content_type: oid::DATA,
                    content: None,
                },
                certificates: None,
                crls: None,
                signer_infos: SetOfVec::new(),
            },
        }
        .to_der()
        .unwrap();
        assert!(decode(&other).is_err());
        assert!(decode(b"\x30\x00").is_err());
    }
}
