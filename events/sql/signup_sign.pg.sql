-- events_signup_sign: a guardian's sign-up to an event, decided and written by one statement.
--
-- Every sign-up to an event queues on the event's row lock, so a burst of families is as fast as the
-- time that lock is held. Called in autocommit (events/services/signups.py), this statement is the
-- whole transaction: the locks are taken, the sign-up and its consent evidence written and committed
-- in one round trip, with no client round trip while the lock is held (docs/performance.md).
-- Loaded by an events migration; a change to this file comes with a new migration that loads it again.
--
-- It takes the event's row lock, then the guardian link's, then the event's consent chain's (the order
-- every writer of an event takes them), each waiting at most p_lock_timeout (SQLSTATE 55P03: 409
-- `lock_timeout`), and answers one row whose `code` is:
--   * 'placed': the sign-up is written (confirmed for a free event, awaiting payment until the sign-up
--     deadline for a paid one, waitlisted when full), with its consent record at the head of the
--     event's chain, the outbox row of its notice, and for a confirmed place the
--     `event.signup_confirmed` webhook event and its deliveries (core_webhook_event_record) with
--     their outbox rows.
--   * 'stale': something the caller judged before the lock (the event's status, deadline, start,
--     eligibility or form; the link's consent permission; a leaving decision) is no longer what it
--     read. Nothing is written; the caller reads and judges again (the rules live in Python:
--     events/rules.py, guardians/leavers.py).
--   * 'places_to_release': an unpaid place is past its payment deadline, or a free place is owed to the
--     waitlist. Nothing is written; the caller runs events.services.places.event_places_refresh (the
--     one place the lapse and offer rules live) and calls again, so a newcomer never takes a place
--     ahead of the waitlist.
--   * 'already_signed_up', 'waitlist_full': the refusal; nothing is written.
--
-- Its statements are planned once per connection (plan_cache_mode = force_generic_plan), as the money
-- functions' are: each is a look-up by key, and a custom plan for every call only cost CPU.
--
-- The record's hash is events/chain.py's: SHA-256(previous_hash || "\n" || canonical JSON of the
-- record). The caller sends that JSON in three pieces, cut where the sequence and the sign-up's id go
-- (only known here, under the lock): p_canonical = [before the sequence, between, after the id].

CREATE OR REPLACE FUNCTION events_signup_sign(
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
    p_record jsonb,
    p_signature_png bytea,
    p_canonical text[],
    p_notice_task text,
    p_delivery_task text,
    p_now timestamptz,
    p_now_json text,
    p_lock_timeout text
) RETURNS TABLE (
    code text,
    signup_id bigint,
    status text,
    amount_due bigint,
    payment_due_at timestamptz,
    waitlisted_at timestamptz,
    record_id bigint,
    record_hash text,
    notice_job_id bigint,
    delivery_ids bigint[],
    delivery_job_ids bigint[]
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_event events_event%ROWTYPE;
    v_link guardians_guardianlink%ROWTYPE;
    v_taken bigint;
    v_status text;
    v_payment_due timestamptz;
    v_waitlisted timestamptz;
    v_signup_id bigint;
    v_sequence bigint;
    v_previous text;
    v_hash text;
    v_record_id bigint;
    v_notice_job bigint;
    v_deliveries bigint[] := ARRAY[]::bigint[];
    v_delivery_jobs bigint[] := ARRAY[]::bigint[];
BEGIN
    IF p_lock_timeout IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies (core/locks.py)
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
    END IF;

    SELECT e.* INTO v_event FROM events_event e WHERE e.id = p_event_id AND e.school_id = p_school_id FOR UPDATE;
    IF NOT FOUND
       OR v_event.status IS DISTINCT FROM p_status
       OR v_event.signup_deadline IS DISTINCT FROM p_signup_deadline
       OR v_event.starts_at IS DISTINCT FROM p_starts_at
       OR v_event.eligible_year_levels IS DISTINCT FROM p_eligible_year_levels
       OR v_event.eligible_classes IS DISTINCT FROM p_eligible_classes
       OR v_event.consent_form_id IS DISTINCT FROM p_consent_form_id THEN
        RETURN QUERY SELECT 'stale'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz,
            NULL::bigint, NULL::text, NULL::bigint, NULL::bigint[], NULL::bigint[];
        RETURN;
    END IF;

    SELECT l.* INTO v_link FROM guardians_guardianlink l WHERE l.id = p_link_id FOR UPDATE;
    IF NOT FOUND OR v_link.revoked_at IS NOT NULL OR NOT v_link.can_give_consent
       OR EXISTS (
           SELECT 1 FROM guardians_studentleaver s
            WHERE s.student_id = v_link.student_id AND s.undone_at IS NULL AND s.leaving_on <= p_leaving_day
       ) THEN
        RETURN QUERY SELECT 'stale'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz,
            NULL::bigint, NULL::text, NULL::bigint, NULL::bigint[], NULL::bigint[];
        RETURN;
    END IF;

    SELECT count(*) INTO v_taken FROM events_signup s WHERE s.event_id = p_event_id AND s.status = ANY (p_holds_place);
    IF EXISTS (
           SELECT 1 FROM events_signup s
            WHERE s.event_id = p_event_id AND s.status = ANY (p_unpaid_place) AND s.payment_due_at <= p_now
       )
       OR (v_taken < v_event.capacity AND p_now < v_event.starts_at
           AND EXISTS (SELECT 1 FROM events_signup s WHERE s.event_id = p_event_id AND s.status = 'waitlisted')) THEN
        RETURN QUERY SELECT 'places_to_release'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz,
            NULL::bigint, NULL::text, NULL::bigint, NULL::bigint[], NULL::bigint[];
        RETURN;
    END IF;

    IF EXISTS (SELECT 1 FROM events_signup s
                WHERE s.event_id = p_event_id AND s.student_id = v_link.student_id AND s.status = ANY (p_live)) THEN
        RETURN QUERY SELECT 'already_signed_up'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz,
            NULL::bigint, NULL::text, NULL::bigint, NULL::bigint[], NULL::bigint[];
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
            RETURN QUERY SELECT 'waitlist_full'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz,
                NULL::bigint, NULL::text, NULL::bigint, NULL::bigint[], NULL::bigint[];
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

    -- The consent record at the head of the event's chain.
    INSERT INTO events_consenteventchain (event_id, length, head_hash, updated_at)
    VALUES (p_event_id, 0, repeat('0', 64), p_now)
    ON CONFLICT DO NOTHING;
    SELECT c.length + 1, c.head_hash INTO v_sequence, v_previous
      FROM events_consenteventchain c WHERE c.event_id = p_event_id FOR UPDATE;
    v_hash := encode(sha256(convert_to(
        v_previous || E'\n' || p_canonical[1] || v_sequence::text || p_canonical[2] || v_signup_id::text || p_canonical[3],
        'UTF8')), 'hex');
    INSERT INTO events_consentrecord (
        school_id, sequence, event_chain, event_id, signup_id, guardian_id, link_id, student_id,
        form_version_id, form_hash, answers, signature_strokes, signature_png, signature_png_sha256,
        typed_name, statement, signed_at, ip_address, user_agent, previous_hash, record_hash, created_at,
        deidentified_at
    ) VALUES (
        p_school_id, v_sequence, true, p_event_id, v_signup_id, v_link.guardian_id, v_link.id, v_link.student_id,
        v_event.consent_form_id, p_record->>'form_hash', p_record->'answers', p_record->'signature_strokes',
        p_signature_png, p_record->>'signature_png_sha256', p_record->>'typed_name', p_record->>'statement',
        p_now, p_record->>'ip_address', p_record->>'user_agent', v_previous, v_hash, p_now,
        NULL
    ) RETURNING id INTO v_record_id;
    UPDATE events_consenteventchain c SET length = v_sequence, head_hash = v_hash, updated_at = p_now
     WHERE c.event_id = p_event_id;

    -- The guardian's notice, rendered by the job (events/tasks.py) for the status the place got here.
    INSERT INTO core_outboxjob (task, args, created_at, sent_at, attempts, last_error)
    VALUES (p_notice_task, jsonb_build_array(v_signup_id, v_status), p_now, NULL, 0, '')
    RETURNING id INTO v_notice_job;

    -- A free event's place is confirmed as it is signed: the school's subscribers hear of it
    -- (core/sql/webhook_event_record.pg.sql; events/webhook_events.py for the paths that confirm in
    -- Python), and each delivery gets its outbox row here, in this one transaction.
    IF v_status = 'confirmed' THEN
        v_deliveries := core_webhook_event_record('event.signup_confirmed', p_school_id, NULL,
            jsonb_build_object('signup_id', v_signup_id, 'event_id', p_event_id, 'student_id', v_link.student_id,
                               'amount_paid', 0, 'currency', 'AUD', 'confirmed_at', p_now_json),
            p_now);
        WITH jobs AS (
            INSERT INTO core_outboxjob (task, args, created_at, sent_at, attempts, last_error)
            SELECT p_delivery_task, jsonb_build_array(d.id), p_now, NULL, 0, ''
              FROM unnest(v_deliveries) WITH ORDINALITY AS d(id, n)
             ORDER BY d.n
            RETURNING id)
        SELECT coalesce(array_agg(jobs.id ORDER BY jobs.id), ARRAY[]::bigint[]) INTO v_delivery_jobs FROM jobs;
    END IF;

    RETURN QUERY SELECT 'placed'::text, v_signup_id, v_status, v_event.cost::bigint, v_payment_due, v_waitlisted,
        v_record_id, v_hash, v_notice_job, v_deliveries, v_delivery_jobs;
END;
$$;
