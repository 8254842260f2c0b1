//! The attribute types a DN string may name, by short name and OID.

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
    ($($name:literal [$($alias:literal),*] => [$($byte:literal),+];)+) => {
        const TYPES: &[AttributeType] = &[
            $(AttributeType { name: $name, aliases: &[$($alias),*], oid: &[$($byte),+] },)+
        ];
    };
}

// RFC 4514 §3 names first, then the ones OpenSSL and Windows print
// (Windows: S, E, G, T; OpenSSL: emailAddress, jurisdictionC, ...).
types! {
    "CN" ["commonName"] => [0x55, 0x04, 0x03];
    "SN" ["surname"] => [0x55, 0x04, 0x04];
    "SERIALNUMBER" ["serialNumber"] => [0x55, 0x04, 0x05];
    "C" ["countryName"] => [0x55, 0x04, 0x06];
    "L" ["localityName"] => [0x55, 0x04, 0x07];
    "ST" ["S", "stateOrProvinceName"] => [0x55, 0x04, 0x08];
    "STREET" ["streetAddress"] => [0x55, 0x04, 0x09];
    "O" ["organizationName"] => [0x55, 0x04, 0x0a];
    "OU" ["organizationalUnitName"] => [0x55, 0x04, 0x0b];
    "title" ["T"] => [0x55, 0x04, 0x0c];
    "description" [] => [0x55, 0x04, 0x0d];
    "businessCategory" [] => [0x55, 0x04, 0x0f];
    "postalCode" [] => [0x55, 0x04, 0x11];
    "name" [] => [0x55, 0x04, 0x29];
    "GN" ["G", "givenName"] => [0x55, 0x04, 0x2a];
    "initials" [] => [0x55, 0x04, 0x2b];
    "generationQualifier" [] => [0x55, 0x04, 0x2c];
    "dnQualifier" [] => [0x55, 0x04, 0x2e];
    "pseudonym" [] => [0x55, 0x04, 0x41];
    "organizationIdentifier" [] => [0x55, 0x04, 0x61];
    "DC" ["domainComponent"] => [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19];
    "UID" ["userId"] => [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01];
    "emailAddress" ["E", "email"] => [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
    "unstructuredName" [] => [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02];
    "jurisdictionL" ["jurisdictionLocalityName"] => [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01];
    "jurisdictionST" ["jurisdictionStateOrProvinceName"] => [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02];
    "jurisdictionC" ["jurisdictionCountryName"] => [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03];
}

/// The OID content octets of commonName.
pub(crate) const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

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
    if let [0x55, 0x04, n] = oid {
        if let Some(t) = TYPES.iter().take(X520_TYPES).find(|t| t.oid[2] == *n) {
            return Some(t);
        }
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
