-- core_outbox_notify: wake the outbox relay (core/relay.py, `manage.py relay_outbox`) when jobs are written.
--
-- Loaded by a core migration; a change to this file comes with a new migration that loads it again.
-- A trigger, so every writer of core_outboxjob wakes it: core.jobs through the ORM and the database
-- functions that write their outbox rows themselves (a sign-up, a redemption, a card sale's webhooks).
-- NOTIFY is transactional: the relay hears it when the writing transaction commits, never before,
-- and not at all if it rolls back. One per statement, and PostgreSQL folds a transaction's identical
-- notifications into one, so a statement writing many rows costs one notification.

CREATE OR REPLACE FUNCTION core_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('core_outbox', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS core_outboxjob_notify ON core_outboxjob;
CREATE TRIGGER core_outboxjob_notify AFTER INSERT ON core_outboxjob
    FOR EACH STATEMENT EXECUTE FUNCTION core_outbox_notify();
