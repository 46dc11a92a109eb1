-- 0002: the small stores of the scale-out deployment, shared by every node (issue 6). The
-- same tables and columns as the SQLite files of an embedded data dir (identity.db,
-- audit.db, incidents.db, alert-states.db), so one store class serves both. Times are Unix
-- seconds (UTC) as double precision.

-- identity: members, users, sources with their ingest keys, signing keys, revoked tokens
CREATE TABLE members (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    country    text NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE users (
    username      text PRIMARY KEY,
    member        text NOT NULL REFERENCES members(code),
    role          text NOT NULL,
    password_hash text NOT NULL,
    created_at    double precision NOT NULL,
    disabled_at   double precision
);
CREATE TABLE sources (
    member     text NOT NULL REFERENCES members(code),
    name       text NOT NULL,
    kind       text NOT NULL,
    release    text NOT NULL,
    key_hash   text UNIQUE,
    key_set_at double precision,
    created_at double precision NOT NULL,
    PRIMARY KEY (member, name)
);
CREATE TABLE signing_keys (
    kid        text PRIMARY KEY,
    secret     bytea NOT NULL,
    created_at double precision NOT NULL,
    retired_at double precision
);
CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    revoked_at double precision NOT NULL,
    expires_at double precision,
    reason     text NOT NULL
);

-- the audit log: hash-chained records and the head (last seq and hash), written in the
-- transaction of each append under the audit store's advisory lock. Records cannot be
-- changed or deleted through SQL (the trigger); verification still catches a change made
-- around it (a superuser disabling triggers).
CREATE TABLE audit (
    seq       bigint PRIMARY KEY,
    ts        double precision NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    resource  text NOT NULL,
    detail    text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE TABLE audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- incidents, their timelines, attachments (the bytes in attachment_blobs, by SHA-256) and
-- the members' assets
CREATE TABLE incidents (
    id          text PRIMARY KEY,
    member      text NOT NULL,
    opened_by   text NOT NULL,
    opened_ts   double precision NOT NULL,
    occurred_ts double precision NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    category    text NOT NULL,
    severity    text NOT NULL,
    description text NOT NULL,
    vessels     text NOT NULL,
    status      text NOT NULL,
    release     text NOT NULL,
    events      text NOT NULL,
    assistance  integer NOT NULL DEFAULT 0
);
CREATE INDEX incidents_opened ON incidents (opened_ts);
CREATE TABLE entries (
    incident_id text NOT NULL REFERENCES incidents(id),
    seq         integer NOT NULL,
    kind        text NOT NULL,
    member      text NOT NULL,
    "user"      text NOT NULL,
    ts          double precision NOT NULL,
    text        text NOT NULL,
    data        text NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE TABLE attachment_blobs (
    sha256  text PRIMARY KEY CHECK (length(sha256) = 64),
    content bytea NOT NULL
);
CREATE TABLE attachments (
    incident_id text NOT NULL REFERENCES incidents(id),
    sha256      text NOT NULL REFERENCES attachment_blobs(sha256),
    name        text NOT NULL,
    media_type  text NOT NULL,
    size_bytes  bigint NOT NULL,
    member      text NOT NULL,
    added_ts    double precision NOT NULL,
    PRIMARY KEY (incident_id, sha256)
);
CREATE TABLE assets (
    member   text NOT NULL,
    mmsi     bigint NOT NULL PRIMARY KEY,
    name     text NOT NULL,
    speed_kn double precision
);

-- what each member's watch officers did about its alerts
CREATE TABLE alert_states (
    alert_id        text NOT NULL,
    member          text NOT NULL,
    event_id        text NOT NULL,
    acknowledged_ts double precision,
    acknowledged_by text,
    escalated_ts    double precision,
    escalated_by    text,
    updated_ts      double precision NOT NULL,
    PRIMARY KEY (alert_id, member)
);
CREATE INDEX alert_states_member ON alert_states (member, updated_ts);
