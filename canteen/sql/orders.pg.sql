-- A pre-order's placement and change, each in one call (canteen/order_write.py), and the stock and
-- allergen steps they share with cancelling and refunding (canteen/orders.py).
--
-- Loaded by a canteen migration; a change to this file comes with a new migration that loads it again.
-- What is judged before the call, on an unlocked read (canteen/orders.py): the link's money permission,
-- the period and its cut-off at the instant that dates the order, the service day, a leaver, and each
-- line's item (offered to this child in that period that day, its price, no declared allergen, no ban).
-- What the call judges under its locks, always in this order, the order every writer of these rows
-- takes (canteen/orders.py's module docstring): the child's food profile, the order, the day's stock
-- rows (by primary key), the guardian's wallet (and, for a late order charged at once, the payable,
-- by primary key):
--   * no line carries an allergen declared for the child by now (an allergy declared since the read);
--   * changing: the order is still a placed pre-order whose hold is pending;
--   * every stock-limited item has the units left, after what a change gives back;
--   * placing: the child has no live order for the period and day (the profile's lock serialises a
--     child's orders, so this check cannot miss one committed meanwhile);
--   * the wallet's available balance (balance - held, expired holds voided) covers the total.
-- A refusal comes back as the row's `code` with its facts, never as an error, and nothing is written:
-- the checks run inside a block that a refusal leaves by raising SQLSTATE TB001 (Tuckbox's own class),
-- which undoes the block's writes (a stock row opened at zero, an account opened, expired holds voided)
-- and is caught at once; only the code, held in a variable, leaves the function.
-- Every lock waits at most p_lock_timeout (SET LOCAL; NULL: the session's own): a timeout is SQLSTATE 55P03.
-- canteen_order_place and canteen_order_change plan their statements, and those of the functions they
-- call, once per connection (plan_cache_mode = force_generic_plan), as the card charge does: each is a
-- look-up by key, and a custom plan for every call only cost PostgreSQL CPU (docs/performance.md).
-- Lines are jsonb arrays of {"item_id", "quantity", "name", "unit_price", "category", "allergens"}, in
-- the order they are stored (by item id); stock steps read only item_id and quantity.


-- The conflicts of `p_lines` with the child's declared allergens, judged under the food profile's lock
-- (opened empty on first use): [{"item_id", "name", "allergens"}], empty when there is none.
CREATE OR REPLACE FUNCTION canteen_allergen_conflicts_locked(p_student_id bigint, p_lines jsonb, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_declared jsonb;
BEGIN
    INSERT INTO canteen_foodprofile (student_id, allergens, dietary_needs, banned_item_ids, banned_categories, notes, updated_at)
    VALUES (p_student_id, '[]', '[]', '[]', '[]', '', p_now)
    ON CONFLICT (student_id) DO NOTHING;
    SELECT f.allergens INTO v_declared FROM canteen_foodprofile f WHERE f.student_id = p_student_id FOR NO KEY UPDATE;
    RETURN COALESCE((
        SELECT jsonb_agg(jsonb_build_object('item_id', (line.value->>'item_id')::bigint, 'name', line.value->>'name',
                                            'allergens', conflict.allergens) ORDER BY line.position)
          FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS line(value, position)
          CROSS JOIN LATERAL (
              SELECT jsonb_agg(allergen ORDER BY allergen) AS allergens
                FROM jsonb_array_elements_text(line.value->'allergens') AS allergen
               WHERE v_declared ? allergen) AS conflict
         WHERE conflict.allergens IS NOT NULL), '[]'::jsonb);
END;
$$;


-- Units reserved and released per stock-limited item whose count moves: the rows both stock steps act on.
CREATE OR REPLACE FUNCTION canteen_stock_moves(p_reserve jsonb, p_release jsonb)
RETURNS TABLE (item_id bigint, name text, stock_limit bigint, reserved bigint, released bigint)
LANGUAGE sql STABLE AS $$
    WITH wanted AS (
        SELECT (value->>'item_id')::bigint AS item_id, (value->>'quantity')::bigint AS reserved, 0::bigint AS released
          FROM jsonb_array_elements(p_reserve)
        UNION ALL
        SELECT (value->>'item_id')::bigint, 0, (value->>'quantity')::bigint FROM jsonb_array_elements(p_release)
    )
    SELECT i.id, i.name, i.daily_stock_limit, SUM(w.reserved)::bigint, SUM(w.released)::bigint
      FROM wanted w JOIN canteen_menuitem i ON i.id = w.item_id
     WHERE i.daily_stock_limit IS NOT NULL
     GROUP BY i.id, i.name, i.daily_stock_limit
    HAVING SUM(w.reserved) <> SUM(w.released)
     ORDER BY i.id
$$;


-- Lock the day's stock rows of the items whose count moves (opened at zero for an item taking units)
-- and judge the limit after what `p_release` gives back, so a change that keeps its units never sells
-- out against itself. NULL when every item has the units; else the first short item, by id:
-- {"item_id", "name", "remaining"}. Counts are moved by canteen_stock_apply, in the same transaction.
CREATE OR REPLACE FUNCTION canteen_stock_lock_check(p_day date, p_reserve jsonb, p_release jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_short jsonb;
BEGIN
    INSERT INTO canteen_dailystock (menu_item_id, service_date, ordered)
    SELECT m.item_id, p_day, 0 FROM canteen_stock_moves(p_reserve, p_release) m WHERE m.reserved > m.released
    ON CONFLICT ON CONSTRAINT daily_stock_unique DO NOTHING;
    PERFORM 1 FROM canteen_dailystock s
     WHERE s.service_date = p_day AND s.menu_item_id IN (SELECT m.item_id FROM canteen_stock_moves(p_reserve, p_release) m)
     ORDER BY s.id FOR NO KEY UPDATE;
    SELECT jsonb_build_object('item_id', m.item_id, 'name', m.name,
                              'remaining', greatest(m.stock_limit - greatest(s.ordered - m.released, 0), 0))
      INTO v_short
      FROM canteen_stock_moves(p_reserve, p_release) m
      JOIN canteen_dailystock s ON s.menu_item_id = m.item_id AND s.service_date = p_day
     WHERE m.reserved > m.released AND greatest(s.ordered - m.released, 0) + m.reserved > m.stock_limit
     ORDER BY s.id LIMIT 1;
    RETURN v_short;
END;
$$;


-- Move the day's counts, on rows canteen_stock_lock_check locked and judged.
CREATE OR REPLACE FUNCTION canteen_stock_apply(p_day date, p_reserve jsonb, p_release jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE canteen_dailystock s SET ordered = greatest(s.ordered - m.released, 0) + m.reserved
      FROM canteen_stock_moves(p_reserve, p_release) m
     WHERE s.menu_item_id = m.item_id AND s.service_date = p_day
$$;


-- The order's lines, replacing any it had.
CREATE OR REPLACE FUNCTION canteen_order_lines_write(p_order_id bigint, p_lines jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM canteen_orderline l WHERE l.order_id = p_order_id;
    INSERT INTO canteen_orderline (order_id, menu_item_id, name, unit_price, quantity, category, allergens)
    SELECT p_order_id, (line.value->>'item_id')::bigint, line.value->>'name', (line.value->>'unit_price')::integer,
           (line.value->>'quantity')::smallint, line.value->>'category', line.value->'allergens'
      FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS line(value, position)
     ORDER BY line.position;
END;
$$;


-- Pay for an order whose checks passed, on the locked wallet: a pre-order holds its total on the wallet
-- in favour of the payable until the period's cut-off run posts it; a late order is charged at once (the
-- payable was locked with the wallet). Returns the hold's or the transaction's id, set on the order.
CREATE OR REPLACE FUNCTION canteen_order_pay(
    p_order_id bigint, p_wallet_id bigint, p_payable_id bigint, p_total bigint, p_late boolean,
    p_reference text, p_hold_expires_at timestamptz, p_actor text, p_now timestamptz,
    OUT hold_id bigint, OUT transaction_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_order canteen_order%ROWTYPE;
    v_receipt text;
    v_wallet_balance bigint;
    v_payable_balance bigint;
BEGIN
    SELECT o.* INTO v_order FROM canteen_order o WHERE o.id = p_order_id;
    -- Order.receipt_number: C<school>-<YYYYMMDD>-<id, six digits at least>
    v_receipt := 'C' || v_order.school_id || '-' || to_char(v_order.service_date, 'YYYYMMDD') || '-'
                 || lpad(v_order.id::text, greatest(6, length(v_order.id::text)), '0');
    IF p_late THEN
        INSERT INTO wallet_ledgertransaction (kind, reference, memo, actor, metadata, created_at)
        VALUES ('canteen_order', p_reference, 'Canteen order ' || v_receipt, p_actor, '{}'::jsonb, p_now)
        RETURNING id INTO transaction_id;
        UPDATE wallet_account a SET balance = a.balance - p_total WHERE a.id = p_wallet_id RETURNING a.balance INTO v_wallet_balance;
        UPDATE wallet_account a SET balance = a.balance + p_total WHERE a.id = p_payable_id RETURNING a.balance INTO v_payable_balance;
        INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
        VALUES (transaction_id, p_wallet_id, -p_total, v_wallet_balance, p_now),
               (transaction_id, p_payable_id, p_total, v_payable_balance, p_now);
    ELSE
        INSERT INTO wallet_hold (account_id, counterparty_id, amount, kind, reference, status, expires_at, memo, created_at)
        VALUES (p_wallet_id, p_payable_id, p_total, 'canteen_order', p_reference, 'pending', p_hold_expires_at,
                'Canteen order ' || v_receipt, p_now)
        RETURNING id INTO hold_id;
        UPDATE wallet_account a SET held = a.held + p_total WHERE a.id = p_wallet_id;
    END IF;
    UPDATE canteen_order o SET hold_id = canteen_order_pay.hold_id, payment_id = canteen_order_pay.transaction_id
     WHERE o.id = p_order_id;
END;
$$;


CREATE OR REPLACE FUNCTION canteen_order_place(
    p_student_id bigint,
    p_school_id bigint,
    p_guardian_id bigint,
    p_merchant_id bigint,
    p_period_id bigint,
    p_service_date date,
    p_late boolean,
    p_note text,
    p_lines jsonb,
    p_live_statuses text[],
    p_reference text,
    p_hold_expires_at timestamptz,
    p_actor text,
    p_now timestamptz,
    p_lock_timeout text
) RETURNS TABLE (
    code text,               -- 'placed', 'replayed', or the refusal: allergen_conflict, order_exists,
                             -- out_of_stock, insufficient_funds
    order_id bigint,
    total bigint,
    hold_id bigint,
    transaction_id bigint,
    available bigint,        -- insufficient_funds: what the wallet has available
    conflicts jsonb,         -- allergen_conflict: [{"item_id", "name", "allergens"}]
    out_of_stock jsonb,      -- out_of_stock: {"item_id", "name", "remaining"}
    delivery_ids bigint[],   -- webhook deliveries to enqueue after commit
    line_ids bigint[]        -- placed: the lines' ids, in the order of p_lines (the receipt needs no read)
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_total bigint := (SELECT SUM((value->>'unit_price')::bigint * (value->>'quantity')::bigint) FROM jsonb_array_elements(p_lines));
    v_line_ids bigint[];
    v_code text;
    v_order_id bigint;
    v_available bigint;
    v_conflicts jsonb;
    v_short jsonb;
    v_wallet_id bigint;
    v_payable_id bigint;
    v_wallet wallet_account%ROWTYPE;
    v_hold_id bigint;
    v_transaction_id bigint;
    v_deliveries bigint[] := ARRAY[]::bigint[];
BEGIN
    IF p_lock_timeout IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies (core/locks.py)
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
    END IF;

    -- Placed already under this reference (its hold's, or a late order's payment's): that order.
    SELECT o.id INTO v_order_id FROM canteen_order o
     WHERE o.hold_id = (SELECT h.id FROM wallet_hold h WHERE h.reference = p_reference)
        OR o.payment_id = (SELECT t.id FROM wallet_ledgertransaction t WHERE t.reference = p_reference)
     ORDER BY o.id LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'replayed'::text, v_order_id, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            NULL::jsonb, NULL::jsonb, v_deliveries, NULL::bigint[];
        RETURN;
    END IF;

    BEGIN  -- a refusal (SQLSTATE TB001) undoes what this block wrote: the stock rows it opened, an opened account
        v_conflicts := canteen_allergen_conflicts_locked(p_student_id, p_lines, p_now);
        IF jsonb_array_length(v_conflicts) > 0 THEN
            v_code := 'allergen_conflict';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        v_short := canteen_stock_lock_check(p_service_date, p_lines, '[]'::jsonb);
        IF v_short IS NOT NULL THEN
            v_code := 'out_of_stock';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        IF EXISTS (SELECT 1 FROM canteen_order o WHERE o.student_id = p_student_id AND o.service_date = p_service_date
                      AND o.period_id = p_period_id AND o.status = ANY(p_live_statuses)) THEN
            v_code := 'order_exists';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        -- A pre-order locks the wallet alone: a hold names the payable but moves nothing to it, so a
        -- school's pre-orders never queue on its payable. A late order, charged at once, locks both.
        v_wallet_id := wallet_account_of('guardian_wallet', p_guardian_id, p_now);
        v_payable_id := wallet_account_of('merchant_payable', p_merchant_id, p_now);
        SELECT a.* INTO v_wallet
          FROM wallet_accounts_lock(CASE WHEN p_late THEN ARRAY[v_wallet_id, v_payable_id] ELSE ARRAY[v_wallet_id] END, p_now) a
         WHERE a.id = v_wallet_id;
        IF v_wallet.balance - v_wallet.held < v_total THEN
            v_code := 'insufficient_funds';
            v_available := v_wallet.balance - v_wallet.held;
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;

        -- Every check passed: the writes.
        PERFORM canteen_stock_apply(p_service_date, p_lines, '[]'::jsonb);
        INSERT INTO canteen_order (student_id, school_id, service_date, period_id, placed_by_id, status, total, late, note,
                                   allergen_alerts, cancel_reason, created_at, updated_at)
        VALUES (p_student_id, p_school_id, p_service_date, p_period_id, p_guardian_id, 'placed', v_total, p_late, p_note,
                '[]'::jsonb, '', p_now, p_now)
        RETURNING id INTO v_order_id;
        PERFORM canteen_order_lines_write(v_order_id, p_lines);
        v_line_ids := ARRAY(SELECT l.id FROM canteen_orderline l WHERE l.order_id = v_order_id ORDER BY l.id);
        SELECT paid.hold_id, paid.transaction_id INTO v_hold_id, v_transaction_id
          FROM canteen_order_pay(v_order_id, v_wallet_id, v_payable_id, v_total, p_late, p_reference, p_hold_expires_at,
                                 p_actor, p_now) paid;
        -- `canteen.order_placed` for the school's subscribers (canteen/webhook_events.py registers it).
        v_deliveries := core_webhook_event_record('canteen.order_placed', p_school_id, NULL,
            jsonb_build_object('order_id', v_order_id, 'student_id', p_student_id, 'service_date', p_service_date::text,
                               'period_id', p_period_id, 'total', v_total, 'currency', 'AUD', 'late', p_late,
                               'lines', (SELECT jsonb_agg(jsonb_build_object('item_id', l.menu_item_id, 'quantity', l.quantity,
                                                                             'unit_price', l.unit_price) ORDER BY l.id)
                                           FROM canteen_orderline l WHERE l.order_id = v_order_id)),
            p_now);
        v_code := 'placed';
    EXCEPTION WHEN SQLSTATE 'TB001' THEN
        v_order_id := NULL;  -- v_code and its facts name the refusal
    END;
    RETURN QUERY SELECT v_code, v_order_id, v_total, v_hold_id, v_transaction_id, v_available,
                        v_conflicts, v_short, v_deliveries, v_line_ids;
END;
$$;


CREATE OR REPLACE FUNCTION canteen_order_change(
    p_order_id bigint,
    p_guardian_id bigint,
    p_merchant_id bigint,
    p_lines jsonb,
    p_reference text,
    p_hold_expires_at timestamptz,
    p_now timestamptz,
    p_lock_timeout text
) RETURNS TABLE (
    code text,               -- 'changed', 'replayed', or the refusal: allergen_conflict, order_not_placed (not a
                             -- placed pre-order with a hold), order_charged (its hold is no longer pending),
                             -- out_of_stock, insufficient_funds
    total bigint,
    available bigint,
    conflicts jsonb,
    out_of_stock jsonb
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_total bigint := (SELECT SUM((value->>'unit_price')::bigint * (value->>'quantity')::bigint) FROM jsonb_array_elements(p_lines));
    v_code text;
    v_order canteen_order%ROWTYPE;
    v_hold wallet_hold%ROWTYPE;
    v_conflicts jsonb;
    v_old_lines jsonb;
    v_short jsonb;
    v_wallet_id bigint;
    v_payable_id bigint;
    v_wallet wallet_account%ROWTYPE;
    v_available bigint;
BEGIN
    IF p_lock_timeout IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies (core/locks.py)
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
    END IF;

    BEGIN  -- a refusal (SQLSTATE TB001) undoes what this block wrote: the stock rows it opened, an opened account
        SELECT o.* INTO v_order FROM canteen_order o WHERE o.id = p_order_id;
        v_conflicts := canteen_allergen_conflicts_locked(v_order.student_id, p_lines, p_now);
        IF jsonb_array_length(v_conflicts) > 0 THEN
            v_code := 'allergen_conflict';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;

        SELECT o.* INTO v_order FROM canteen_order o WHERE o.id = p_order_id FOR UPDATE;
        SELECT h.* INTO v_hold FROM wallet_hold h WHERE h.id = v_order.hold_id;
        IF v_hold.reference = p_reference THEN  -- this very change, committed before its answer was stored
            v_code := 'replayed';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        IF v_order.status <> 'placed' OR v_order.late OR v_order.hold_id IS NULL THEN
            v_code := 'order_not_placed';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        -- Only the cut-off run posts a pre-order's hold, and it locks the order first: under the order's
        -- lock the hold's state is settled.
        IF v_hold.status <> 'pending' THEN
            v_code := 'order_charged';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;

        SELECT COALESCE(jsonb_agg(jsonb_build_object('item_id', l.menu_item_id, 'quantity', l.quantity) ORDER BY l.id), '[]'::jsonb)
          INTO v_old_lines FROM canteen_orderline l WHERE l.order_id = p_order_id;
        v_short := canteen_stock_lock_check(v_order.service_date, p_lines, v_old_lines);
        IF v_short IS NOT NULL THEN
            v_code := 'out_of_stock';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;
        -- The wallet paying now and the wallet the old hold is on (another guardian's, when a second
        -- parent changes the order), by primary key.
        v_wallet_id := wallet_account_of('guardian_wallet', p_guardian_id, p_now);
        v_payable_id := wallet_account_of('merchant_payable', p_merchant_id, p_now);
        SELECT a.* INTO v_wallet FROM wallet_accounts_lock(ARRAY[v_wallet_id, v_hold.account_id], p_now) a WHERE a.id = v_wallet_id;
        v_available := v_wallet.balance - v_wallet.held + CASE WHEN v_hold.account_id = v_wallet_id THEN v_hold.amount ELSE 0 END;
        IF v_available < v_total THEN
            v_code := 'insufficient_funds';
            RAISE EXCEPTION USING ERRCODE = 'TB001';
        END IF;

        -- Every check passed: release the old hold and stock, write the new lines, hold the new total.
        PERFORM canteen_stock_apply(v_order.service_date, p_lines, v_old_lines);
        UPDATE wallet_hold h SET status = 'voided', resolved_at = p_now WHERE h.id = v_hold.id;
        UPDATE wallet_account a SET held = a.held - v_hold.amount WHERE a.id = v_hold.account_id;
        PERFORM canteen_order_lines_write(p_order_id, p_lines);
        -- The new lines passed the child's profile as it is now: nothing is flagged any more. Whoever
        -- changes the order pays for it from here on, so the cut-off posts (and a refund returns) their hold.
        UPDATE canteen_order o SET total = v_total, allergen_alerts = '[]'::jsonb, placed_by_id = p_guardian_id, updated_at = p_now
         WHERE o.id = p_order_id;
        PERFORM canteen_order_pay(p_order_id, v_wallet_id, v_payable_id, v_total, false, p_reference, p_hold_expires_at, NULL, p_now);
        v_code := 'changed';
    EXCEPTION WHEN SQLSTATE 'TB001' THEN
        NULL;  -- v_code and its facts name the refusal (or the replay)
    END;
    RETURN QUERY SELECT v_code, v_total, v_available, v_conflicts, v_short;
END;
$$;
