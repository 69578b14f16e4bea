-- core_webhook_event_record: what core/webhooks/publish.py's webhook_event_publish does, for the
-- database functions that decide and write in one call (wallet/sql/card_charge.pg.sql,
-- events/sql/signup_sign.pg.sql). Loaded by a core migration; a change to this file comes with a new
-- migration that loads it again, and the functions that call it keep working (same signature).
--
-- Records `p_type` for the tenant's active subscriptions that want it (the same rule as
-- publish.py's `_interested`: the school when given, else the program): the event and one pending delivery per subscription. Returns the
-- deliveries' ids in order, for the caller to enqueue after commit; with no interested subscription
-- nothing is written and the array is empty. The caller runs it in the transaction that makes the
-- event true, so a rolled-back write never announces anything.

CREATE OR REPLACE FUNCTION core_webhook_event_record(
    p_type text,
    p_school_id bigint,
    p_program_id bigint,
    p_data jsonb,
    p_now timestamptz
) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v_event_id uuid;
    v_deliveries bigint[];
BEGIN
    IF NOT EXISTS (
           SELECT 1 FROM guardians_webhooksubscription ws
            WHERE ws.is_active AND ws.event_types ? p_type
              AND (ws.school_id = p_school_id OR (p_school_id IS NULL AND ws.program_id = p_program_id))) THEN
        RETURN ARRAY[]::bigint[];
    END IF;
    v_event_id := gen_random_uuid();
    INSERT INTO guardians_webhookevent (id, type, school_id, program_id, data, created_at)
    VALUES (v_event_id, p_type, p_school_id, p_program_id, p_data, p_now);
    WITH inserted AS (
        INSERT INTO guardians_webhookdelivery (event_id, subscription_id, status, attempts, next_attempt_at,
                                               response_body_excerpt, last_error, created_at)
        SELECT v_event_id, ws.id, 'pending', 0, p_now, '', '', p_now
          FROM guardians_webhooksubscription ws
         WHERE ws.is_active AND ws.event_types ? p_type
           AND (ws.school_id = p_school_id OR (p_school_id IS NULL AND ws.program_id = p_program_id))
         ORDER BY ws.id
        RETURNING id)
    SELECT array_agg(inserted.id ORDER BY inserted.id) INTO v_deliveries FROM inserted;
    RETURN v_deliveries;
END;
$$;
