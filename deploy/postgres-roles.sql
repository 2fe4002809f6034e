-- PostgreSQL roles for the decision aid (docs/operations.md, "PostgreSQL roles").
--
-- Run once, as a superuser, connected to the application database, AFTER the first
-- `flask db upgrade` has created the tables:
--     psql -v ON_ERROR_STOP=1 -d decision_aid_db -f deploy/postgres-roles.sql
-- Then set passwords:  ALTER ROLE decision_aid_app LOGIN PASSWORD '...';
--
-- decision_aid_owner owns the schema and runs migrations (`flask db upgrade`) and the
--   retention job's VACUUM FULL of case_key. The web service never uses it.
-- decision_aid_app is what gunicorn connects as: SELECT and INSERT on the append-only tables
--   (no UPDATE, DELETE or TRUNCATE: the triggers are a second line of defence), and
--   UPDATE/DELETE only where rows legitimately change.

CREATE ROLE decision_aid_owner NOLOGIN;
CREATE ROLE decision_aid_app NOLOGIN;

GRANT CONNECT ON DATABASE decision_aid_db TO decision_aid_app;
GRANT USAGE ON SCHEMA public TO decision_aid_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM decision_aid_app;

-- Append-only: audit log, decisions, reviews, complaints, rule-set sign-offs.
GRANT SELECT, INSERT ON audit_event, decision, review, review_selection, complaint, ruleset_sign_off
    TO decision_aid_app;

-- Mutable by design: sessions, drafts, users and settings, counters, review state, case keys
-- (disposal overwrites a case's wrapped key; rotation re-wraps them).
GRANT SELECT, INSERT, UPDATE, DELETE ON web_session, sign_in_failure, draft, app_user, team,
    team_membership, organisation, mfa_credential, recovery_code, review_state
    TO decision_aid_app;
GRANT SELECT, INSERT, UPDATE ON decision_reference_counter, case_key TO decision_aid_app;
GRANT SELECT ON alembic_version TO decision_aid_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO decision_aid_app;

-- The daily verification (`flask audit verify --indexes`, deploy/decision-aid-verify.timer)
-- checks every audit index against its rows with amcheck, which only reads.
CREATE EXTENSION IF NOT EXISTS amcheck;
GRANT EXECUTE ON FUNCTION bt_index_check(regclass, boolean) TO decision_aid_app;
