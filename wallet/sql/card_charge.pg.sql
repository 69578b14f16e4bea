-- wallet_card_charge: the whole decision of a card sale at a terminal, in one call (wallet/card_charge.py).
--
-- Loaded by a wallet migration; a change to this file comes with a new migration that loads it again.
-- Invariants (docs/api.md, "Card charges"):
--   * a card whose school has not enabled the merchant is answered as an unknown card;
--   * under the student's card-account lock, in this order: the card is active, no category is banned,
--     the school-local day and week stay within the caps, the available balance covers the amount;
--   * a decline writes nothing and comes back as a row whose `code` names it (never as an exception);
--   * an approval appends one balanced ledger transaction (card account -> merchant payable), the
--     charge row and the `card.charged` webhook outbox rows, and returns the deliveries to enqueue;
--   * the merchant's payable is never read or locked for the decision: it is credited by the last
--     statement, so its row is held only from there to the commit, not for the whole sale;
--   * the same ledger reference posts once: a repeat returns the first charge with `replayed`;
--   * an approval also answers the automatic top-up's threshold, so the sale starts the top-up check
--     after its commit only when the balance fell below it, without a read of its own.
-- Every lock this takes waits at most p_lock_timeout (SET LOCAL): a timeout is SQLSTATE 55P03.
-- Its statements are planned once per connection (plan_cache_mode = force_generic_plan), as in
-- vouchers_redeem: every one is a look-up by key, and a custom plan for every call cost PostgreSQL a
-- quarter of a sale's CPU (4.9 to 3.7 ms a charge in the bench: docs/performance.md).

CREATE OR REPLACE FUNCTION wallet_card_charge(
    p_terminal_id bigint,
    p_merchant_id bigint,
    p_identifier_hash text,
    p_amount bigint,
    p_categories jsonb,
    p_description text,
    p_memo text,
    p_reference text,
    p_now timestamptz,
    p_now_json text,
    p_lock_timeout text
) RETURNS TABLE (
    code text,                -- 'approved', or the decline: unknown_card, card_frozen, category_banned,
                              -- daily_cap_exceeded, weekly_cap_exceeded, insufficient_funds
    replayed boolean,         -- approved earlier under the same reference; nothing was written now
    charge_id bigint,
    card_id bigint,
    transaction_id bigint,
    student_id bigint,
    school_id bigint,
    first_name text,
    last_name text,
    year_level integer,
    amount bigint,
    refunded_amount bigint,
    categories jsonb,
    description text,
    created_at timestamptz,
    balance_before bigint,    -- available before the charge (approved now) or what is available (declined)
    remaining_balance bigint,
    low_balance_threshold bigint,
    auto_topup_threshold bigint,  -- approved now: the threshold of the card an automatic top-up would use
                              -- (wallet/sql/auto_topup.pg.sql); NULL: nobody has automatic top-up on
    card_status text,         -- card_frozen: the card's status
    cap bigint,               -- *_cap_exceeded: the cap and what was spent in its window
    spent bigint,
    banned jsonb,             -- category_banned: the banned categories of the charge
    delivery_ids bigint[]     -- webhook deliveries to enqueue after commit
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_card wallet_studentcard%ROWTYPE;
    v_student guardians_student%ROWTYPE;
    v_school guardians_school%ROWTYPE;
    v_account wallet_account%ROWTYPE;
    v_controls wallet_spendingcontrols%ROWTYPE;
    v_local_day date;
    v_week_first date;
    v_spent_day bigint;
    v_spent_week bigint;
    v_banned jsonb;
    v_transaction_id bigint;
    v_payable_id bigint;
    v_charge wallet_cardcharge%ROWTYPE;
    v_deliveries bigint[];
BEGIN
    IF p_lock_timeout IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies (core/locks.py)
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
    END IF;

    -- A retry of a sale already made (same terminal and key): its charge, and the balance now.
    SELECT c.* INTO v_charge FROM wallet_cardcharge c
      JOIN wallet_ledgertransaction t ON t.id = c.transaction_id WHERE t.reference = p_reference;
    IF FOUND THEN
        SELECT s.* INTO v_student FROM guardians_student s WHERE s.id = v_charge.student_id;
        SELECT a.* INTO v_account FROM wallet_account a WHERE a.kind = 'student_card' AND a.student_id = v_charge.student_id;
        code := 'approved'; replayed := true;
        charge_id := v_charge.id; card_id := v_charge.card_id; transaction_id := v_charge.transaction_id;
        student_id := v_student.id; school_id := v_student.school_id; first_name := v_student.first_name;
        last_name := v_student.last_name; year_level := v_student.year_level; amount := v_charge.amount;
        refunded_amount := v_charge.refunded_amount; categories := v_charge.categories;
        description := v_charge.description; created_at := v_charge.created_at;
        remaining_balance := v_account.balance - v_account.held; delivery_ids := ARRAY[]::bigint[];
        RETURN NEXT;
        RETURN;
    END IF;

    -- The card, if the school lets this merchant charge it.
    SELECT c.* INTO v_card FROM wallet_studentcard c
     WHERE c.identifier_hash = p_identifier_hash
       AND EXISTS (SELECT 1 FROM wallet_cardacceptance a JOIN guardians_student s ON s.school_id = a.school_id
                    WHERE s.id = c.student_id AND a.merchant_id = p_merchant_id AND a.disabled_at IS NULL);
    IF NOT FOUND THEN
        code := 'unknown_card'; replayed := false;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT s.* INTO v_student FROM guardians_student s WHERE s.id = v_card.student_id;
    SELECT sc.* INTO v_school FROM guardians_school sc WHERE sc.id = v_student.school_id;

    -- The one lock of a sale: the student's card account (opened on the first sale), with its expired
    -- holds voided (wallet/sql/accounts.pg.sql). Status changes, cap changes and charges of one student
    -- all take it, so they are serialised per student.
    SELECT a.* INTO v_account
      FROM wallet_accounts_lock(ARRAY[wallet_account_of('student_card', v_student.id, p_now)], p_now) a;

    -- Read under the lock: the card's status now, and the controls (no row: no caps, no bans).
    SELECT c.status INTO v_card.status FROM wallet_studentcard c WHERE c.id = v_card.id;
    SELECT sc.* INTO v_controls FROM wallet_spendingcontrols sc WHERE sc.student_id = v_student.id;

    IF v_card.status <> 'active' THEN
        code := 'card_frozen'; replayed := false; card_status := v_card.status;
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT COALESCE(jsonb_agg(requested ORDER BY requested), '[]'::jsonb) INTO v_banned
      FROM jsonb_array_elements_text(p_categories) AS requested
     WHERE COALESCE(v_controls.banned_categories, '[]'::jsonb) ? requested;
    IF jsonb_array_length(v_banned) > 0 THEN
        code := 'category_banned'; replayed := false; banned := v_banned;
        RETURN NEXT;
        RETURN;
    END IF;

    -- The school's local day and week (guardians/school_time.py): half-open, from local midnights.
    v_local_day := (p_now AT TIME ZONE v_school.time_zone)::date;
    v_week_first := v_local_day - ((extract(isodow FROM v_local_day)::integer - 1 - v_school.week_starts_on + 7) % 7);
    SELECT COALESCE(SUM(c.amount - c.refunded_amount) FILTER (
               WHERE c.created_at >= v_local_day::timestamp AT TIME ZONE v_school.time_zone
                 AND c.created_at < (v_local_day + 1)::timestamp AT TIME ZONE v_school.time_zone), 0),
           COALESCE(SUM(c.amount - c.refunded_amount), 0)
      INTO v_spent_day, v_spent_week
      FROM wallet_cardcharge c
     WHERE c.student_id = v_student.id
       AND c.created_at >= v_week_first::timestamp AT TIME ZONE v_school.time_zone
       AND c.created_at < (v_week_first + 7)::timestamp AT TIME ZONE v_school.time_zone;
    IF v_controls.daily_cap IS NOT NULL AND v_spent_day + p_amount > v_controls.daily_cap THEN
        code := 'daily_cap_exceeded'; replayed := false; cap := v_controls.daily_cap; spent := v_spent_day;
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_controls.weekly_cap IS NOT NULL AND v_spent_week + p_amount > v_controls.weekly_cap THEN
        code := 'weekly_cap_exceeded'; replayed := false; cap := v_controls.weekly_cap; spent := v_spent_week;
        RETURN NEXT;
        RETURN;
    END IF;

    IF v_account.balance - v_account.held < p_amount THEN
        code := 'insufficient_funds'; replayed := false; balance_before := v_account.balance - v_account.held;
        RETURN NEXT;
        RETURN;
    END IF;

    -- Approved: the balanced transaction, the charge, the outbox.
    INSERT INTO wallet_ledgertransaction (kind, reference, memo, actor, metadata, created_at)
    VALUES ('card_charge', p_reference, left(p_memo, 300), 'terminal:' || p_terminal_id,
            jsonb_build_object('merchant_id', p_merchant_id, 'categories', p_categories), p_now)
    RETURNING id INTO v_transaction_id;
    UPDATE wallet_account a SET balance = a.balance - p_amount WHERE a.id = v_account.id;
    INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
    VALUES (v_transaction_id, v_account.id, -p_amount, v_account.balance - p_amount, p_now);
    INSERT INTO wallet_cardcharge (terminal_id, merchant_id, student_id, card_id, amount, refunded_amount, categories,
                                   description, transaction_id, created_at)
    VALUES (p_terminal_id, p_merchant_id, v_student.id, v_card.id, p_amount, 0, p_categories, left(p_description, 200),
            v_transaction_id, p_now)
    RETURNING * INTO v_charge;

    -- The `card.charged` event for the school's subscribers (core/sql/webhook_event_record.pg.sql).
    v_deliveries := core_webhook_event_record('card.charged', v_school.id, NULL,
        jsonb_build_object('charge_id', v_charge.id, 'student_id', v_student.id, 'merchant_id', p_merchant_id,
                           'terminal_id', p_terminal_id, 'amount', p_amount, 'currency', 'AUD',
                           'categories', p_categories, 'created_at', p_now_json),
        p_now);

    -- Last: credit the payable (opened on the first sale; finding its id locks nothing). Not locked
    -- before, never checked (it may go negative after a payout).
    v_payable_id := wallet_account_of('merchant_payable', p_merchant_id, p_now);
    WITH credited AS (
        UPDATE wallet_account a SET balance = a.balance + p_amount WHERE a.id = v_payable_id RETURNING a.id, a.balance)
    INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
    SELECT v_transaction_id, credited.id, p_amount, credited.balance, p_now FROM credited;

    code := 'approved'; replayed := false;
    charge_id := v_charge.id; card_id := v_card.id; transaction_id := v_transaction_id;
    student_id := v_student.id; school_id := v_student.school_id; first_name := v_student.first_name;
    last_name := v_student.last_name; year_level := v_student.year_level; amount := p_amount;
    refunded_amount := 0; categories := p_categories; description := v_charge.description; created_at := p_now;
    balance_before := v_account.balance - v_account.held; remaining_balance := v_account.balance - v_account.held - p_amount;
    low_balance_threshold := v_controls.low_balance_threshold; delivery_ids := v_deliveries;
    auto_topup_threshold := (SELECT pm.auto_topup_threshold FROM wallet_paymentmethod pm
                              WHERE pm.id = wallet_auto_topup_method_id(v_student.id));
    RETURN NEXT;
END;
$$;
