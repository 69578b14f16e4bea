-- vouchers_redeem: one voucher redemption decided and written in one round trip.
--
-- Loaded by vouchers/migrations/0004_voucher_redeem_function.py; a change to this file ships
-- as a new migration that loads it again (CREATE OR REPLACE).
--
-- Under the vouchers' row locks (primary-key order) every rule of vouchers/rules.py is checked
-- in the same order, then one balanced ledger transaction moves the amount from each voucher's
-- own reserve account to the merchant's payable, and the redemption, its lines and the vouchers'
-- new values are written. The program's funding account is not touched: its money was moved
-- into the reserves when the vouchers were issued, so concurrent redemptions of one program
-- share no row.
--
-- A refusal is a value, not an exception: out_code is 'ok', 'replayed' or the domain error's
-- code, out_details its details (jsonb). Nothing is written unless out_code is 'ok'.
-- A lock not granted within p_lock_timeout_ms (NULL: the session's lock_timeout) answers 'lock_timeout'.
--
-- Its statements are planned once per connection (plan_cache_mode = force_generic_plan): custom plans
-- for each call's arrays cost PostgreSQL about a quarter of a redemption's CPU (docs/performance.md).
--
-- Time is the caller's (p_now): the application's clock, which tests move.
-- The redemption's `voucher.redeemed` webhook event and its deliveries are recorded with it
-- (core/sql/webhook_event_record.pg.sql); out_delivery_ids are enqueued by the caller after commit.
--
-- The receipt comes back with the decision, so nothing is read after it: out_transaction_id, and
-- out_lines, each line as written (in the order it was applied) with its voucher's new values.

-- The signature before the webhook event moved in (a new OUT column cannot be added in place).
DROP FUNCTION IF EXISTS vouchers_redeem(bigint[], bigint, bigint, bigint, text, text, text, text, timestamptz, timestamptz,
                                        timestamptz, integer);

CREATE OR REPLACE FUNCTION vouchers_redeem(
    p_voucher_ids bigint[],
    p_terminal_id bigint,
    p_merchant_id bigint,
    p_amount bigint,
    p_category text,
    p_description text,
    p_memo text,
    p_reference text,
    p_now timestamptz,
    p_now_json text,           -- p_now as the webhook payload shows times (DjangoJSONEncoder)
    p_term_since timestamptz,  -- the once-per-term window, NULL unless the program has the rule
    p_term_until timestamptz,
    p_lock_timeout_ms integer,
    OUT out_code text,
    OUT out_details jsonb,
    OUT out_redemption_id bigint,
    OUT out_category text,
    OUT out_voucher_ids bigint[],
    OUT out_forfeited bigint,
    OUT out_delivery_ids bigint[],
    OUT out_transaction_id bigint,
    OUT out_lines jsonb
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v record;
    first_voucher record;
    found_any boolean := false;
    prog record;
    approval record;
    local_today date;
    lapsed text[] := '{}';
    allowed text[];
    voucher_allowed text[];
    weekday integer;
    available bigint := 0;
    amount_left bigint;
    applied bigint;
    forfeit bigint;
    new_remaining bigint;
    payable_id bigint;
    balance_after bigint;
    transaction_id bigint;
    line_id bigint;
    new_state text;
BEGIN
    out_forfeited := 0;
    out_voucher_ids := '{}';
    out_delivery_ids := '{}';
    out_lines := '[]';
    SELECT r.id INTO out_redemption_id FROM vouchers_redemption r WHERE r.reference = p_reference;
    IF FOUND THEN
        out_code := 'replayed';
        RETURN;
    END IF;

    IF p_lock_timeout_ms IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies
        PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    END IF;
    PERFORM 1 FROM vouchers_voucher WHERE id = ANY (p_voucher_ids) ORDER BY id FOR UPDATE;

    -- 1. State (revoked, cancelled, used up, expired), each voucher in turn.
    FOR v IN SELECT * FROM vouchers_voucher WHERE id = ANY (p_voucher_ids) ORDER BY id LOOP
        IF NOT found_any THEN
            first_voucher := v;
            found_any := true;
        END IF;
        IF v.state = 'revoked' THEN
            out_code := 'voucher_revoked'; RETURN;
        ELSIF v.state = 'cancelled' THEN
            out_code := 'voucher_cancelled'; RETURN;
        ELSIF v.state = 'redeemed' OR v.remaining_value = 0 THEN
            out_code := 'voucher_already_redeemed'; RETURN;
        ELSIF p_now >= v.expires_at THEN
            out_code := 'voucher_expired';
            out_details := jsonb_build_object('expired_on', v.expires_on);
            RETURN;
        END IF;
        available := available + v.remaining_value;
    END LOOP;
    IF NOT found_any THEN
        out_code := 'voucher_not_found'; RETURN;
    END IF;
    SELECT * INTO prog FROM vouchers_program WHERE id = first_voucher.program_id;

    -- 2. The merchant's approval: the latest application that was not rejected.
    SELECT * INTO approval FROM vouchers_providerapproval a
     WHERE a.program_id = prog.id AND a.merchant_id = p_merchant_id AND a.status <> 'rejected'
     ORDER BY a.id DESC LIMIT 1;
    IF NOT FOUND OR approval.status = 'pending' THEN
        out_code := 'merchant_not_approved'; RETURN;
    ELSIF approval.status = 'suspended' THEN
        out_code := 'merchant_approval_suspended';
        out_details := jsonb_build_object('reason', approval.reason);
        RETURN;
    END IF;
    local_today := (p_now AT TIME ZONE prog.time_zone)::date;
    IF approval.expires_on IS NOT NULL AND local_today > approval.expires_on THEN
        lapsed := lapsed || 'approval'::text;
    END IF;
    IF approval.insurance_expires_on IS NULL OR local_today > approval.insurance_expires_on THEN
        lapsed := lapsed || 'insurance'::text;
    END IF;
    IF prog.beneficiary_kind = 'child' AND (approval.wwcc_expires_on IS NULL OR local_today > approval.wwcc_expires_on) THEN
        lapsed := lapsed || 'working_with_children_check'::text;
    END IF;
    IF cardinality(lapsed) > 0 THEN
        out_code := 'merchant_approval_expired';
        out_details := jsonb_build_object('lapsed', to_jsonb(lapsed));
        RETURN;
    END IF;

    -- 3. The category: what every voucher's window allows and the merchant is approved for.
    FOR v IN
        SELECT CASE WHEN jsonb_array_length(w.categories) > 0 THEN w.categories ELSE prog.categories END AS categories
          FROM vouchers_voucher vv JOIN vouchers_issuewindow w ON w.id = vv.issue_window_id
         WHERE vv.id = ANY (p_voucher_ids) ORDER BY vv.id
    LOOP
        voucher_allowed := ARRAY(
            SELECT jsonb_array_elements_text(v.categories)
            INTERSECT SELECT jsonb_array_elements_text(approval.categories)
        );
        allowed := CASE WHEN allowed IS NULL THEN voucher_allowed
                        ELSE ARRAY(SELECT unnest(allowed) INTERSECT SELECT unnest(voucher_allowed)) END;
    END LOOP;
    allowed := ARRAY(SELECT c FROM unnest(allowed) c ORDER BY c COLLATE "C");
    IF p_category IS NOT NULL THEN
        IF NOT (p_category = ANY (allowed)) THEN
            out_code := 'category_not_allowed';
            out_details := jsonb_build_object('category', p_category, 'allowed', to_jsonb(allowed));
            RETURN;
        END IF;
        out_category := p_category;
    ELSIF cardinality(allowed) = 0 THEN
        out_code := 'category_not_allowed';
        out_details := jsonb_build_object('allowed', '[]'::jsonb);
        RETURN;
    ELSIF cardinality(allowed) > 1 THEN
        out_code := 'category_required';
        out_details := jsonb_build_object('allowed', to_jsonb(allowed));
        RETURN;
    ELSE
        out_category := allowed[1];
    END IF;

    -- 4. The weekday in each voucher's zone; 5. one provider per voucher.
    FOR v IN SELECT * FROM vouchers_voucher WHERE id = ANY (p_voucher_ids) ORDER BY id LOOP
        weekday := extract(isodow FROM p_now AT TIME ZONE v.time_zone)::integer - 1;
        IF NOT (prog.allowed_weekdays @> to_jsonb(weekday)) THEN
            out_code := 'weekday_not_allowed';
            out_details := jsonb_build_object(
                'weekday', weekday,
                'allowed_weekdays', (SELECT jsonb_agg(d ORDER BY d::integer) FROM jsonb_array_elements(prog.allowed_weekdays) d)
            );
            RETURN;
        END IF;
        IF prog.one_provider AND EXISTS (
            SELECT 1 FROM vouchers_redemptionline l JOIN vouchers_redemption r ON r.id = l.redemption_id
             WHERE l.voucher_id = v.id AND r.voided_at IS NULL AND r.merchant_id <> p_merchant_id
        ) THEN
            out_code := 'voucher_tied_to_other_provider'; RETURN;
        END IF;
    END LOOP;

    -- 6. Once per term: no other voucher of the program paid this provider for this beneficiary.
    IF prog.once_per_term AND EXISTS (
        SELECT 1 FROM vouchers_redemptionline l
          JOIN vouchers_redemption r ON r.id = l.redemption_id
          JOIN vouchers_voucher other ON other.id = l.voucher_id
         WHERE r.voided_at IS NULL AND r.merchant_id = p_merchant_id
           AND other.program_id = prog.id AND other.beneficiary_key = first_voucher.beneficiary_key
           AND r.created_at >= p_term_since AND r.created_at < p_term_until
           AND NOT (l.voucher_id = ANY (p_voucher_ids))
    ) THEN
        out_code := 'provider_already_used_this_term'; RETURN;
    END IF;

    IF p_amount > available THEN
        out_code := 'amount_exceeds_remaining';
        out_details := jsonb_build_object('remaining', available, 'amount', p_amount);
        RETURN;
    END IF;

    -- The writes. The merchant's payable is opened on its first redemption (wallet/sql/accounts.pg.sql).
    payable_id := wallet_account_of('merchant_payable', p_merchant_id, p_now);

    INSERT INTO wallet_ledgertransaction (kind, reference, memo, actor, reverses_id, metadata, created_at)
    VALUES (
        'voucher_redemption', p_reference, left(p_memo, 300), 'terminal:' || p_terminal_id, NULL,
        jsonb_build_object('program_id', prog.id, 'merchant_id', p_merchant_id, 'category', out_category), p_now
    ) RETURNING id INTO transaction_id;
    out_transaction_id := transaction_id;

    INSERT INTO vouchers_redemption (
        program_id, merchant_id, terminal_id, beneficiary_key, category, amount, description, reference,
        transaction_id, created_at, voided_at, voided_by_id, void_transaction_id, settlement_id, void_settlement_id
    ) VALUES (
        prog.id, p_merchant_id, p_terminal_id, first_voucher.beneficiary_key, out_category, p_amount,
        left(p_description, 200), p_reference, transaction_id, p_now, NULL, NULL, NULL, NULL, NULL
    ) RETURNING id INTO out_redemption_id;

    -- Soonest expiry first; a single-use voucher forfeits what the payment leaves on it (its
    -- reserve keeps the forfeit until the release job returns it to the program's funding).
    amount_left := p_amount;
    FOR v IN SELECT * FROM vouchers_voucher WHERE id = ANY (p_voucher_ids) ORDER BY expires_at, id LOOP
        EXIT WHEN amount_left = 0;
        applied := least(amount_left, v.remaining_value);
        amount_left := amount_left - applied;
        new_remaining := v.remaining_value - applied;
        forfeit := 0;
        IF prog.use_rule = 'single_use' THEN
            forfeit := new_remaining;
            new_remaining := 0;
        END IF;
        out_forfeited := out_forfeited + forfeit;
        out_voucher_ids := out_voucher_ids || v.id;
        new_state := CASE WHEN new_remaining = 0 THEN 'redeemed' ELSE 'partly_redeemed' END;
        UPDATE vouchers_voucher
           SET remaining_value = new_remaining, forfeited_value = forfeited_value + forfeit, state = new_state
         WHERE id = v.id;
        INSERT INTO vouchers_redemptionline (redemption_id, voucher_id, amount, forfeited_amount)
        VALUES (out_redemption_id, v.id, applied, forfeit) RETURNING id INTO line_id;
        out_lines := out_lines || jsonb_build_object(
            'id', line_id, 'voucher_id', v.id, 'amount', applied, 'forfeited_amount', forfeit,
            'remaining_value', new_remaining, 'forfeited_value', v.forfeited_value + forfeit,
            'state', new_state);
        UPDATE wallet_account SET balance = balance - applied WHERE id = v.reserve_account_id RETURNING balance INTO balance_after;
        INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
        VALUES (transaction_id, v.reserve_account_id, -applied, balance_after, p_now);
    END LOOP;

    UPDATE wallet_account SET balance = balance + p_amount WHERE id = payable_id RETURNING balance INTO balance_after;
    INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
    VALUES (transaction_id, payable_id, p_amount, balance_after, p_now);

    -- `voucher.redeemed` for the program's subscribers (vouchers/webhook_events.py registers it).
    out_delivery_ids := core_webhook_event_record('voucher.redeemed', NULL, prog.id,
        jsonb_build_object('redemption_id', out_redemption_id, 'merchant_id', p_merchant_id, 'amount', p_amount,
                           'currency', 'AUD', 'category', out_category,
                           'voucher_ids', (SELECT jsonb_agg(u.voucher_id ORDER BY u.voucher_id) FROM unnest(out_voucher_ids) AS u(voucher_id)),
                           'created_at', p_now_json),
        p_now);
    out_code := 'ok';
EXCEPTION WHEN lock_not_available THEN
    -- A voucher, a reserve or the payable held by another writer for longer than the lock timeout.
    out_code := 'lock_timeout';
    out_redemption_id := NULL;
    out_transaction_id := NULL;
    out_lines := '[]';
END;
$$;
