//! The attribute types a DN string may name, by short name and OID.

use crate::oid;

/// One attribute type: the name we print, the names we accept, its OID.
pub(crate) struct AttributeType {
    /// The name written in RFC 4514 output.
    pub(crate) name: &'static str,
    /// Other names accepted on input (case-insensitive), besides `name`.
    aliases: &'static [&'static str],
    /// The OID's DER content octets.
    pub(crate) oid: &'static [u8],
}

macro_rules! types {
    ($($name:literal [$($alias:literal),*] => $oid:ident;)+) => {
        const TYPES: &[AttributeType] = &[
            $(AttributeType { name: $name, aliases: &[$($alias),*], oid: oid::$oid.as_bytes() },)+
        ];
    };
}

// RFC 4514 §3 names first, then the ones OpenSSL and Windows print
// (Windows: S, E, G, T; OpenSSL: emailAddress, jurisdictionC, ...).
types! {
    "CN" ["commonName"] => COMMON_NAME;
    "SN" ["surname"] => SURNAME;
    "SERIALNUMBER" ["serialNumber"] => SERIAL_NUMBER;
    "C" ["countryName"] => COUNTRY;
    "L" ["localityName"] => LOCALITY;
    "ST" ["S", "stateOrProvinceName"] => STATE;
    "STREET" ["streetAddress"] => STREET;
    "O" ["organizationName"] => ORGANIZATION;
    "OU" ["organizationalUnitName"] => ORGANIZATIONAL_UNIT;
    "title" ["T"] => TITLE;
    "description" [] => DESCRIPTION;
    "businessCategory" [] => BUSINESS_CATEGORY;
    "postalCode" [] => POSTAL_CODE;
    "name" [] => NAME;
    "GN" ["G", "givenName"] => GIVEN_NAME;
    "initials" [] => INITIALS;
    "generationQualifier" [] => GENERATION_QUALIFIER;
    "dnQualifier" [] => DN_QUALIFIER;
    "pseudonym" [] => PSEUDONYM;
    "organizationIdentifier" [] => ORGANIZATION_IDENTIFIER;
    "DC" ["domainComponent"] => DOMAIN_COMPONENT;
    "UID" ["userId"] => USER_ID;
    "emailAddress" ["E", "email"] => EMAIL_ADDRESS;
    "unstructuredName" [] => UNSTRUCTURED_NAME;
    "jurisdictionL" ["jurisdictionLocalityName"] => JURISDICTION_LOCALITY;
    "jurisdictionST" ["jurisdictionStateOrProvinceName"] => JURISDICTION_STATE;
    "jurisdictionC" ["jurisdictionCountryName"] => JURISDICTION_COUNTRY;
}

/// The OID content octets of commonName.
pub(crate) const COMMON_NAME: &[u8] = oid::COMMON_NAME.as_bytes();

/// The type named `name` (case-insensitive), if we know it.
pub(crate) fn by_name(name: &str) -> Option<&'static AttributeType> {
    TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name) || t.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// The type with these OID content octets, if we know it.
pub(crate) fn by_oid(oid: &[u8]) -> Option<&'static AttributeType> {
    // The X.520 types (2.5.4.n) that fill almost every name come first in
    // the table: try them by their last byte before searching.
    if let [0x55, 0x04, n] = oid
        && let Some(t) = TYPES.iter().take(X520_TYPES).find(|t| t.oid[2] == *n)
    {
        return Some(t);
    }
    TYPES.iter().find(|t| t.oid == oid)
}

/// How many entries at the start of the table are 2.5.4.n types.
const X520_TYPES: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_oid_is_well_formed_and_unique() {
        for t in TYPES {
            let oid = der::asn1::ObjectIdentifier::from_bytes(t.oid).unwrap();
            assert_eq!(oid.as_bytes(), t.oid);
            assert_eq!(TYPES.iter().filter(|u| u.oid == t.oid).count(), 1, "{}", t.name);
        }
    }

    #[test]
    fn the_x520_types_lead_the_table() {
        assert!(
            TYPES[..X520_TYPES]
                .iter()
                .all(|t| t.oid.len() == 3 && t.oid[..2] == [0x55, 0x04])
        );
        assert!(TYPES[X520_TYPES..].iter().all(|t| t.oid[..2] != [0x55, 0x04]));
        for t in TYPES {
            assert_eq!(by_oid(t.oid).map(|found| found.name), Some(t.name));
        }
    }

    #[test]
    fn names_are_case_insensitive_and_aliased() {
        assert_eq!(by_name("cn").unwrap().oid, COMMON_NAME);
        assert_eq!(by_name("S").unwrap().name, "ST");
        assert_eq!(by_name("E").unwrap().name, "emailAddress");
        assert!(by_name("XYZ").is_none());
    }
}
