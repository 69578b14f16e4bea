-- The account helpers the database functions share (canteen/sql/orders.pg.sql, card_charge.pg.sql,
-- card_transfer.pg.sql and, to open a payable, vouchers/sql/voucher_redeem.pg.sql call them), so the
-- SQL copy of "open on first use" and "a pending hold past its time reserves nothing" is written once.
-- Python's copies are wallet/accounts.py (_get_or_open: same kinds, names and allow_negative) and
-- wallet/ledger.py (_expire_stale_holds_locked). Loaded by a wallet migration; a change to this file
-- comes with a new migration that loads it again.

-- The id of a party's account of `p_kind`, opened on first use: a guardian's wallet, a student's card
-- balance or a merchant's payable (which may go negative: a refund after a payout).
CREATE OR REPLACE FUNCTION wallet_account_of(p_kind text, p_owner_id bigint, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_kind = 'guardian_wallet' THEN
        SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.guardian_id = p_owner_id;
        IF NOT FOUND THEN
            INSERT INTO wallet_account (kind, name, currency, guardian_id, allow_negative, balance, held, created_at)
            VALUES (p_kind, 'Wallet of guardian ' || p_owner_id, 'AUD', p_owner_id, false, 0, 0, p_now)
            ON CONFLICT DO NOTHING;
            SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.guardian_id = p_owner_id;
        END IF;
    ELSIF p_kind = 'student_card' THEN
        SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.student_id = p_owner_id;
        IF NOT FOUND THEN
            INSERT INTO wallet_account (kind, name, currency, student_id, allow_negative, balance, held, created_at)
            VALUES (p_kind, 'Card balance of student ' || p_owner_id, 'AUD', p_owner_id, false, 0, 0, p_now)
            ON CONFLICT DO NOTHING;
            SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.student_id = p_owner_id;
        END IF;
    ELSIF p_kind = 'merchant_payable' THEN
        SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.merchant_id = p_owner_id;
        IF NOT FOUND THEN
            INSERT INTO wallet_account (kind, name, currency, merchant_id, allow_negative, balance, held, created_at)
            VALUES (p_kind, 'Payable to merchant ' || p_owner_id, 'AUD', p_owner_id, true, 0, 0, p_now)
            ON CONFLICT DO NOTHING;
            SELECT a.id INTO v_id FROM wallet_account a WHERE a.kind = p_kind AND a.merchant_id = p_owner_id;
        END IF;
    ELSE
        RAISE EXCEPTION 'wallet_account_of: no party account of kind %', p_kind;
    END IF;
    RETURN v_id;
END;
$$;

-- Lock accounts (in primary-key order, as core/locks.py does, so writers never deadlock) and void their
-- pending holds whose time has passed: from here on, balance - held is what each can spend.
-- force_generic_plan: PL/pgSQL kept re-planning `a.id = ANY(p_account_ids)` on every call (a custom
-- plan for each array looked cheaper than the generic one), about 0.1 ms of PostgreSQL's CPU on every
-- sale, order and funding (docs/performance.md, "Planning the account lock once").
CREATE OR REPLACE FUNCTION wallet_accounts_lock(p_account_ids bigint[], p_now timestamptz)
RETURNS SETOF wallet_account LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_account wallet_account%ROWTYPE;
    v_released bigint;
BEGIN
    FOR v_account IN
        SELECT a.* FROM wallet_account a WHERE a.id = ANY(p_account_ids) ORDER BY a.id FOR NO KEY UPDATE
    LOOP
        IF v_account.held > 0 THEN
            WITH voided AS (
                UPDATE wallet_hold h SET status = 'voided', resolved_at = p_now
                 WHERE h.account_id = v_account.id AND h.status = 'pending' AND h.expires_at <= p_now RETURNING h.amount)
            SELECT COALESCE(SUM(voided.amount), 0) INTO v_released FROM voided;
            IF v_released > 0 THEN
                UPDATE wallet_account a SET held = a.held - v_released WHERE a.id = v_account.id RETURNING a.* INTO v_account;
            END IF;
        END IF;
        RETURN NEXT v_account;
    END LOOP;
END;
$$;
