-- certexport schema version 2: certificate search.
--
-- What a search compares, as certexport computes it from the DER (names
-- in RFC 4514 form and lower case, serial and SHA-1 as lower-case hex,
-- the DNS names of the subject alternative names, key type and size),
-- filled by certexport when it imports a certificate and, for the rows
-- already there, by the migration itself. Text is compared byte for byte
-- (COLLATE "C"), so the database's locale never changes an answer.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE certificates
    ADD COLUMN search_cn text,
    ADD COLUMN search_dn text,
    ADD COLUMN search_issuer text,
    ADD COLUMN search_serial text,
    ADD COLUMN search_sha1 text,
    ADD COLUMN search_dns text[] NOT NULL DEFAULT '{}',
    ADD COLUMN key_type text,
    ADD COLUMN key_bits integer;

-- Substring searches (-contains, -startswith, -endswith) on names.
CREATE INDEX certificates_search_cn_trgm ON certificates USING gin (search_cn gin_trgm_ops);
CREATE INDEX certificates_search_dn_trgm ON certificates USING gin (search_dn gin_trgm_ops);
-- Exact and range comparisons, and the sort orders (ties by id).
CREATE INDEX certificates_search_cn ON certificates (search_cn COLLATE "C", id);
CREATE INDEX certificates_search_issuer ON certificates (search_issuer COLLATE "C", id);
CREATE INDEX certificates_search_serial ON certificates (search_serial);
CREATE INDEX certificates_search_sha1 ON certificates (search_sha1);
CREATE INDEX certificates_search_dns ON certificates USING gin (search_dns);
CREATE INDEX certificates_not_before ON certificates (not_before, id);
CREATE INDEX certificates_not_after ON certificates (not_after, id);
-- A scoped caller's search: the certificates of one collection or container.
CREATE INDEX certificate_collections_by_collection ON certificate_collections (collection_id, certificate_id);
CREATE INDEX certificate_containers_by_container ON certificate_containers (container_id, certificate_id);
