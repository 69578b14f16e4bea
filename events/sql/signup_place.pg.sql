-- events_signup_place and events_consent_append: a guardian's sign-up to an event in two calls, so
-- that the event's row lock, which queues every sign-up to that event, is held for the time of two
-- round trips and not for a dozen ORM statements (events/services/signups.py, docs/performance.md).
-- Loaded by an events migration; a change to this file comes with a new migration that loads it again.
--
-- events_signup_place(...) takes the event's row lock, then the guardian link's, then the event's
-- consent chain's, and answers one row whose `code` is:
--   * 'placed': the sign-up is written (confirmed for a free event, awaiting payment until the sign-up
--     deadline for a paid one, or waitlisted when full) and the chain is locked; `sequence` and
--     `previous_hash` are the consent record's place in the chain, for events_consent_append.
--   * 'stale': something the caller checked before the lock (the event's status, deadline, start,
--     eligibility or form; the link's consent permission; a leaving decision) is no longer what it
--     read. Nothing is written; the caller reads again and checks again (the rules live in Python:
--     events/rules.py, guardians/leavers.py).
--   * 'places_to_release': an unpaid place is past its payment deadline, or a free place is owed to
--     the waitlist. Nothing is written; the caller runs events.services.places.event_places_refresh
--     (the one place the lapse and offer rules live) and calls again, so a newcomer never takes a
--     place ahead of the waitlist.
--   * 'already_signed_up', 'waitlist_full': the refusal; nothing is written.
-- Every lock waits at most p_lock_timeout: a timeout is SQLSTATE 55P03 (409 `lock_timeout`).

CREATE OR REPLACE FUNCTION events_signup_place(
    p_event_id bigint,
    p_school_id bigint,
    p_link_id bigint,
    p_status text,
    p_signup_deadline timestamptz,
    p_starts_at timestamptz,
    p_eligible_year_levels jsonb,
    p_eligible_classes jsonb,
    p_consent_form_id bigint,
    p_leaving_day date,
    p_holds_place text[],
    p_unpaid_place text[],
    p_live text[],
    p_now timestamptz,
    p_lock_timeout text
) RETURNS TABLE (
    code text,
    signup_id bigint,
    status text,
    amount_due bigint,
    payment_due_at timestamptz,
    waitlisted_at timestamptz,
    sequence bigint,
    previous_hash text
) LANGUAGE plpgsql AS $$
DECLARE
    v_event events_event%ROWTYPE;
    v_link guardians_guardianlink%ROWTYPE;
    v_taken bigint;
    v_status text;
    v_payment_due timestamptz;
    v_waitlisted timestamptz;
    v_signup_id bigint;
    v_length bigint;
    v_head text;
BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);

    SELECT e.* INTO v_event FROM events_event e WHERE e.id = p_event_id AND e.school_id = p_school_id FOR UPDATE;
    IF NOT FOUND
       OR v_event.status IS DISTINCT FROM p_status
       OR v_event.signup_deadline IS DISTINCT FROM p_signup_deadline
       OR v_event.starts_at IS DISTINCT FROM p_starts_at
       OR v_event.eligible_year_levels IS DISTINCT FROM p_eligible_year_levels
       OR v_event.eligible_classes IS DISTINCT FROM p_eligible_classes
       OR v_event.consent_form_id IS DISTINCT FROM p_consent_form_id THEN
        RETURN QUERY SELECT 'stale'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    SELECT l.* INTO v_link FROM guardians_guardianlink l WHERE l.id = p_link_id FOR UPDATE;
    IF NOT FOUND OR v_link.revoked_at IS NOT NULL OR NOT v_link.can_give_consent
       OR EXISTS (
           SELECT 1 FROM guardians_studentleaver s
           WHERE s.student_id = v_link.student_id AND s.undone_at IS NULL AND s.leaving_on <= p_leaving_day
       ) THEN
        RETURN QUERY SELECT 'stale'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    SELECT count(*) INTO v_taken FROM events_signup s WHERE s.event_id = p_event_id AND s.status = ANY (p_holds_place);
    IF EXISTS (
           SELECT 1 FROM events_signup s
           WHERE s.event_id = p_event_id AND s.status = ANY (p_unpaid_place) AND s.payment_due_at <= p_now
       )
       OR (v_taken < v_event.capacity AND p_now < v_event.starts_at
           AND EXISTS (SELECT 1 FROM events_signup s WHERE s.event_id = p_event_id AND s.status = 'waitlisted')) THEN
        RETURN QUERY SELECT 'places_to_release'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    IF EXISTS (SELECT 1 FROM events_signup s WHERE s.event_id = p_event_id AND s.student_id = v_link.student_id AND s.status = ANY (p_live)) THEN
        RETURN QUERY SELECT 'already_signed_up'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    IF v_taken < v_event.capacity THEN
        IF v_event.cost = 0 THEN
            v_status := 'confirmed';
        ELSE
            v_status := 'awaiting_payment';
            v_payment_due := v_event.signup_deadline;
        END IF;
    ELSE
        IF v_event.waitlist_capacity IS NOT NULL
           AND (SELECT count(*) FROM events_signup s WHERE s.event_id = p_event_id AND s.status = 'waitlisted') >= v_event.waitlist_capacity THEN
            RETURN QUERY SELECT 'waitlist_full'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text;
            RETURN;
        END IF;
        v_status := 'waitlisted';
        v_waitlisted := p_now;
    END IF;

    INSERT INTO events_signup (
        event_id, student_id, guardian_id, link_id, status, created_at, status_changed_at, waitlisted_at,
        offered_at, payment_due_at, amount_due, amount_paid, paid_at, paid_by_id, payment_method,
        payment_transaction_id, card_topup_id, refunded_amount, refund_transaction_id, ended_at,
        attendance, attendance_marked_at, attendance_marked_by_id
    ) VALUES (
        p_event_id, v_link.student_id, v_link.guardian_id, v_link.id, v_status, p_now, p_now, v_waitlisted,
        NULL, v_payment_due, v_event.cost, 0, NULL, NULL, 'none',
        NULL, NULL, 0, NULL, NULL,
        '', NULL, NULL
    ) RETURNING id INTO v_signup_id;

    INSERT INTO events_consenteventchain (event_id, length, head_hash, updated_at)
    VALUES (p_event_id, 0, repeat('0', 64), p_now)
    ON CONFLICT DO NOTHING;
    SELECT c.length, c.head_hash INTO v_length, v_head FROM events_consenteventchain c WHERE c.event_id = p_event_id FOR UPDATE;

    RETURN QUERY SELECT 'placed'::text, v_signup_id, v_status, v_event.cost::bigint, v_payment_due, v_waitlisted, v_length + 1, v_head;
END;
$$;

-- events_consent_append: the consent record at the place events_signup_place gave it, and the chain's
-- new head, in one statement. The caller computed `p_record_hash` over the record's canonical content
-- (events/chain.py) and holds the chain's lock; the head moves only if it is still where the record
-- follows (a 'moved' answer is a bug, and the caller's transaction is rolled back).
CREATE OR REPLACE FUNCTION events_consent_append(
    p_record jsonb,
    p_signature_png bytea,
    p_now timestamptz
) RETURNS TABLE (code text, record_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    v_record_id bigint;
BEGIN
    UPDATE events_consenteventchain c
    SET length = (p_record->>'sequence')::bigint, head_hash = p_record->>'record_hash', updated_at = p_now
    WHERE c.event_id = (p_record->>'event_id')::bigint
      AND c.length = (p_record->>'sequence')::bigint - 1
      AND c.head_hash = p_record->>'previous_hash';
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'moved'::text, NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO events_consentrecord (
        school_id, sequence, event_chain, event_id, signup_id, guardian_id, link_id, student_id,
        form_version_id, form_hash, answers, signature_strokes, signature_png, signature_png_sha256,
        typed_name, statement, signed_at, ip_address, user_agent, previous_hash, record_hash, created_at,
        deidentified_at
    ) VALUES (
        (p_record->>'school_id')::bigint, (p_record->>'sequence')::bigint, true, (p_record->>'event_id')::bigint,
        (p_record->>'signup_id')::bigint, (p_record->>'guardian_id')::bigint, (p_record->>'link_id')::bigint,
        (p_record->>'student_id')::bigint, (p_record->>'form_version_id')::bigint, p_record->>'form_hash',
        p_record->'answers', p_record->'signature_strokes', p_signature_png, p_record->>'signature_png_sha256',
        p_record->>'typed_name', p_record->>'statement', (p_record->>'signed_at')::timestamptz,
        p_record->>'ip_address', p_record->>'user_agent', p_record->>'previous_hash', p_record->>'record_hash', p_now,
        NULL
    ) RETURNING id INTO v_record_id;
    RETURN QUERY SELECT 'appended'::text, v_record_id;
END;
$$;
