-- certexport schema version 1: the certificate inventory.
--
-- Every lookup of the CertificateStore trait is one indexed query on
-- `certificates`: by id (primary key), SHA-1 and SHA-256 (unique), uuId
-- (unique), issuer name key + serial, and subject name key + subject key
-- identifier (issuer candidates of a chain step).

-- One row: the state every PgStore reads with its lookups.
CREATE TABLE certexport_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- Bumped by every statement that changes certificates or their
    -- metadata; a PgStore empties its CA cache when it sees a new value.
    generation bigint NOT NULL DEFAULT 0,
    -- The highest certificate id ever given: an id is never given twice,
    -- even after the certificate that had it is deleted.
    high_water bigint NOT NULL DEFAULT 0
);
INSERT INTO certexport_state DEFAULT VALUES;

CREATE TABLE key_policies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    private_key_access boolean NOT NULL,
    UNIQUE (name, private_key_access)
);

CREATE TABLE certificates (
    id bigint PRIMARY KEY CHECK (id > 0),
    -- The DER exactly as imported; exports write these bytes.
    der bytea NOT NULL,
    sha1 bytea NOT NULL UNIQUE CHECK (length(sha1) = 20),
    sha256 bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
    -- Names as certexport's comparison keys (RFC 5280 section 7.1 rules).
    subject_key bytea NOT NULL,
    issuer_key bytea NOT NULL,
    -- The serial number's magnitude, without leading zero bytes.
    serial bytea NOT NULL,
    subject_key_id bytea,
    authority_key_id bytea,
    not_before timestamptz NOT NULL,
    not_after timestamptz NOT NULL,
    -- SHA-256 of the public key's value: equal for certificates that hold
    -- the same key (and for that key's private half).
    public_key bytea,
    uuid text UNIQUE CHECK (uuid ~ '^[A-Za-z0-9-]{1,64}$'),
    key_policy_id bigint REFERENCES key_policies (id)
);
CREATE INDEX certificates_issuer_serial ON certificates (issuer_key, serial);
CREATE INDEX certificates_subject ON certificates (subject_key, subject_key_id);
CREATE INDEX certificates_public_key ON certificates (public_key);

CREATE TABLE collections (id bigint PRIMARY KEY CHECK (id >= 0));
CREATE TABLE certificate_collections (
    certificate_id bigint NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    collection_id bigint NOT NULL REFERENCES collections (id),
    PRIMARY KEY (certificate_id, collection_id)
);

CREATE TABLE containers (id bigint PRIMARY KEY CHECK (id >= 0));
CREATE TABLE certificate_containers (
    certificate_id bigint NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    container_id bigint NOT NULL REFERENCES containers (id),
    PRIMARY KEY (certificate_id, container_id)
);

-- Private keys, encrypted: a random data key encrypts the PKCS#8 and the
-- operator's key-encryption key (never stored here) wraps the data key,
-- both with AES-256-GCM and the certificate id as associated data.
CREATE TABLE private_keys (
    certificate_id bigint PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    -- Which key-encryption key wrapped the data key: an HMAC of a fixed
    -- label under it, which tells a wrong key from a damaged row.
    kek_id bytea NOT NULL CHECK (length(kek_id) = 16),
    -- nonce (12 bytes) || AES-256-GCM(key-encryption key, data key) || tag
    wrapped_key bytea NOT NULL,
    -- nonce (12 bytes) || AES-256-GCM(data key, PKCS#8) || tag
    ciphertext bytea NOT NULL
);

CREATE FUNCTION certexport_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE certexport_state SET generation = generation + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER certificates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON certificates
    FOR EACH STATEMENT EXECUTE FUNCTION certexport_changed();
CREATE TRIGGER certificate_collections_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON certificate_collections
    FOR EACH STATEMENT EXECUTE FUNCTION certexport_changed();
CREATE TRIGGER certificate_containers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON certificate_containers
    FOR EACH STATEMENT EXECUTE FUNCTION certexport_changed();
CREATE TRIGGER key_policies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON key_policies
    FOR EACH STATEMENT EXECUTE FUNCTION certexport_changed();
