//! Every object identifier the crate compares or writes, named once, from
//! `const-oid`'s database where it has the name, each with the document
//! that assigns it.

use const_oid::ObjectIdentifier as Oid;
use const_oid::db::{rfc2985, rfc3280, rfc4519, rfc5280, rfc5911, rfc5912, rfc7292, rfc8410};

// Certificate extensions (RFC 5280 §4.2.1).

/// `id-ce-subjectKeyIdentifier` (RFC 5280 §4.2.1.2).
pub(crate) const SUBJECT_KEY_IDENTIFIER: Oid = rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
/// `id-ce-authorityKeyIdentifier` (RFC 5280 §4.2.1.1).
pub(crate) const AUTHORITY_KEY_IDENTIFIER: Oid = rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER;
/// subjectAltName (RFC 5280 §4.2.1.6).
pub(crate) const SUBJECT_ALT_NAME: Oid = rfc5280::ID_CE_SUBJECT_ALT_NAME;

// Public-key algorithms.

/// `rsaEncryption` (RFC 8017 Appendix C, RFC 5912).
pub(crate) const RSA_ENCRYPTION: Oid = rfc5912::RSA_ENCRYPTION;
/// `id-RSASSA-PSS` (RFC 4055 §3.1, RFC 5912), as a key or signature algorithm.
pub(crate) const RSASSA_PSS: Oid = rfc5912::ID_RSASSA_PSS;
/// `id-ecPublicKey` (RFC 5480 §2.1.1, RFC 5912).
pub(crate) const EC_PUBLIC_KEY: Oid = rfc5912::ID_EC_PUBLIC_KEY;
/// `secp256r1`, NIST P-256 (RFC 5480 §2.1.1.1).
pub(crate) const SECP256R1: Oid = rfc5912::SECP_256_R_1;
/// `secp384r1`, NIST P-384 (RFC 5480 §2.1.1.1).
pub(crate) const SECP384R1: Oid = rfc5912::SECP_384_R_1;
/// `secp521r1`, NIST P-521 (RFC 5480 §2.1.1.1).
pub(crate) const SECP521R1: Oid = rfc5912::SECP_521_R_1;
/// `id-Ed25519` (RFC 8410 §3), as a key or signature algorithm.
pub(crate) const ED25519: Oid = rfc8410::ID_ED_25519;

// Signature algorithms (RFC 4055, RFC 5758, RFC 5912).

/// `sha1WithRSAEncryption` (RFC 3279 §2.2.1).
pub(crate) const SHA1_WITH_RSA: Oid = rfc5912::SHA_1_WITH_RSA_ENCRYPTION;
/// `sha256WithRSAEncryption` (RFC 4055 §5).
pub(crate) const SHA256_WITH_RSA: Oid = rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
/// `sha384WithRSAEncryption` (RFC 4055 §5).
pub(crate) const SHA384_WITH_RSA: Oid = rfc5912::SHA_384_WITH_RSA_ENCRYPTION;
/// `sha512WithRSAEncryption` (RFC 4055 §5).
pub(crate) const SHA512_WITH_RSA: Oid = rfc5912::SHA_512_WITH_RSA_ENCRYPTION;
/// `ecdsa-with-SHA256` (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA256: Oid = rfc5912::ECDSA_WITH_SHA_256;
/// `ecdsa-with-SHA384` (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA384: Oid = rfc5912::ECDSA_WITH_SHA_384;
/// `ecdsa-with-SHA512` (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA512: Oid = rfc5912::ECDSA_WITH_SHA_512;
/// `id-mgf1` (RFC 4055 §2.2).
pub(crate) const MGF1: Oid = rfc5912::ID_MGF_1;

// Digests.

/// `id-sha1` (RFC 3279 §2.2.1).
pub(crate) const SHA1: Oid = rfc5912::ID_SHA_1;
/// `id-sha256` (RFC 5758 §2).
pub(crate) const SHA256: Oid = rfc5912::ID_SHA_256;
/// `id-sha384` (RFC 5758 §2).
pub(crate) const SHA384: Oid = rfc5912::ID_SHA_384;
/// `id-sha512` (RFC 5758 §2).
pub(crate) const SHA512: Oid = rfc5912::ID_SHA_512;

// CMS content types (RFC 5652 §4, §5, §8).

/// `id-data`.
pub(crate) const DATA: Oid = rfc5911::ID_DATA;
/// `id-signedData`: a P7B is a SignedData with certificates and no signers.
pub(crate) const SIGNED_DATA: Oid = rfc5911::ID_SIGNED_DATA;
/// `id-encryptedData`: the PFX's certificate bags.
pub(crate) const ENCRYPTED_DATA: Oid = rfc5911::ID_ENCRYPTED_DATA;

// PKCS#12 (RFC 7292; names from the `pkcs12` crate where `const-oid`
// has none) and its attributes (RFC 2985).

/// `pkcs8ShroudedKeyBag` (RFC 7292 §4.2.2).
pub(crate) const PKCS8_SHROUDED_KEY_BAG: Oid = pkcs12::PKCS_12_PKCS8_KEY_BAG_OID;
/// `certBag` (RFC 7292 §4.2.3).
pub(crate) const CERT_BAG: Oid = pkcs12::PKCS_12_CERT_BAG_OID;
/// `x509Certificate`, the kind of a certificate bag (RFC 7292 §4.2.3).
pub(crate) const X509_CERTIFICATE: Oid = pkcs12::PKCS_12_X509_CERT_OID;
/// `pbeWithSHAAnd3-KeyTripleDES-CBC` (RFC 7292 Appendix C).
pub(crate) const PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC: Oid = rfc7292::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC;
/// `friendlyName` (RFC 2985 §5.5.1): the Java keystore alias.
pub(crate) const FRIENDLY_NAME: Oid = rfc2985::PKCS_9_AT_FRIENDLY_NAME;
/// `localKeyId` (RFC 2985 §5.5.2): links a key bag to its certificate.
pub(crate) const LOCAL_KEY_ID: Oid = rfc2985::PKCS_9_AT_LOCAL_KEY_ID;
/// Microsoft's CSP-name bag attribute, `szOID_LOCAL_MACHINE_KEYSET`'s
/// sibling 1.3.6.1.4.1.311.17.1 (Microsoft's PFX documentation; not in an RFC).
pub(crate) const MS_CSP_NAME: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.17.1");

// Attribute types a DN string may name (RFC 4519 §2, RFC 2985 §5.2,
// RFC 5280 Appendix A, and the CA/Browser Forum EV Guidelines §9.2.4).

/// `cn` (RFC 4519 §2.3).
pub(crate) const COMMON_NAME: Oid = rfc4519::CN;
/// `sn`, surname (RFC 4519 §2.32).
pub(crate) const SURNAME: Oid = rfc4519::SN;
/// `serialNumber` (RFC 4519 §2.31).
pub(crate) const SERIAL_NUMBER: Oid = rfc4519::SERIAL_NUMBER;
/// `c` (RFC 4519 §2.2).
pub(crate) const COUNTRY: Oid = rfc4519::C;
/// `l` (RFC 4519 §2.16).
pub(crate) const LOCALITY: Oid = rfc4519::L;
/// `st` (RFC 4519 §2.33).
pub(crate) const STATE: Oid = rfc4519::ST;
/// `street` (RFC 4519 §2.34).
pub(crate) const STREET: Oid = rfc4519::STREET;
/// `o` (RFC 4519 §2.19).
pub(crate) const ORGANIZATION: Oid = rfc4519::O;
/// `ou` (RFC 4519 §2.20).
pub(crate) const ORGANIZATIONAL_UNIT: Oid = rfc4519::OU;
/// `title` (RFC 4519 §2.38).
pub(crate) const TITLE: Oid = rfc4519::TITLE;
/// `description` (RFC 4519 §2.5).
pub(crate) const DESCRIPTION: Oid = rfc4519::DESCRIPTION;
/// `businessCategory` (RFC 4519 §2.1).
pub(crate) const BUSINESS_CATEGORY: Oid = rfc4519::BUSINESS_CATEGORY;
/// `postalCode` (RFC 4519 §2.23).
pub(crate) const POSTAL_CODE: Oid = rfc4519::POSTAL_CODE;
/// `name` (RFC 4519 §2.18).
pub(crate) const NAME: Oid = rfc4519::NAME;
/// `givenName` (RFC 4519 §2.12).
pub(crate) const GIVEN_NAME: Oid = rfc4519::GIVEN_NAME;
/// `initials` (RFC 4519 §2.14).
pub(crate) const INITIALS: Oid = rfc4519::INITIALS;
/// `generationQualifier` (RFC 4519 §2.11).
pub(crate) const GENERATION_QUALIFIER: Oid = rfc4519::GENERATION_QUALIFIER;
/// `dnQualifier` (RFC 4519 §2.8).
pub(crate) const DN_QUALIFIER: Oid = rfc4519::DN_QUALIFIER;
/// `pseudonym` (RFC 3280 Appendix A.1, kept by RFC 5280).
pub(crate) const PSEUDONYM: Oid = rfc3280::PSEUDONYM;
/// `organizationIdentifier` (X.520 §6.4.4; ETSI EN 319 412-1).
pub(crate) const ORGANIZATION_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");
/// `dc`, domain component (RFC 4519 §2.4).
pub(crate) const DOMAIN_COMPONENT: Oid = rfc4519::DC;
/// `uid` (RFC 4519 §2.39).
pub(crate) const USER_ID: Oid = rfc4519::UID;
/// `emailAddress` (RFC 2985 §5.2.1).
pub(crate) const EMAIL_ADDRESS: Oid = rfc2985::PKCS_9_AT_EMAIL_ADDRESS;
/// `unstructuredName` (RFC 2985 §5.2.2).
pub(crate) const UNSTRUCTURED_NAME: Oid = rfc2985::PKCS_9_AT_UNSTRUCTURED_NAME;
/// `jurisdictionLocalityName` (CA/B Forum EV Guidelines §9.2.4).
pub(crate) const JURISDICTION_LOCALITY: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.60.2.1.1");
/// `jurisdictionStateOrProvinceName` (CA/B Forum EV Guidelines §9.2.4).
pub(crate) const JURISDICTION_STATE: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.60.2.1.2");
/// `jurisdictionCountryName` (CA/B Forum EV Guidelines §9.2.4).
pub(crate) const JURISDICTION_COUNTRY: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.60.2.1.3");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_arcs_their_documents_give() {
        for (oid, dotted) in [
            (SUBJECT_KEY_IDENTIFIER, "2.5.29.14"),
            (AUTHORITY_KEY_IDENTIFIER, "2.5.29.35"),
            (RSASSA_PSS, "1.2.840.113549.1.1.10"),
            (ED25519, "1.3.101.112"),
            (SECP521R1, "1.3.132.0.35"),
            (SIGNED_DATA, "1.2.840.113549.1.7.2"),
            (PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC, "1.2.840.113549.1.12.1.3"),
            (CERT_BAG, "1.2.840.113549.1.12.10.1.3"),
            (LOCAL_KEY_ID, "1.2.840.113549.1.9.21"),
            (EMAIL_ADDRESS, "1.2.840.113549.1.9.1"),
            (DOMAIN_COMPONENT, "0.9.2342.19200300.100.1.25"),
        ] {
            assert_eq!(oid.to_string(), dotted);
        }
    }
}
