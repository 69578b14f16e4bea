-- wallet_card_transfer: a guardian moving money between their wallet and a child's card balance, in one
-- call (wallet/card_transfer.py). Loaded by a wallet migration; a change comes with a new migration.
-- Invariants:
--   * both accounts (opened on first use) are locked in primary-key order, as ledger.lock_accounts does,
--     and their pending holds past their time voided under the lock: they reserve nothing any more
--     (both rules are wallet/sql/accounts.pg.sql's);
--   * the source's available balance (balance - held) covers the amount, else the row's `code` is
--     `insufficient_funds` with what is available, and nothing is written;
--   * one balanced transaction of two entries, legs in the order source, destination;
--   * the same reference posts once: a repeat returns the first transaction with `replayed`;
--   * money goes onto no card of a student who has left (a closed card and no live one: its balance went
--     back to the family, wallet/leavers.py): `card_closed`, judged under the card account's lock, the
--     lock the leaver's card closing also takes.
-- Who may move the money (the guardian's link and its money permission) is checked before the call.

CREATE OR REPLACE FUNCTION wallet_card_transfer(
    p_kind text,
    p_reference text,
    p_guardian_id bigint,
    p_student_id bigint,
    p_amount bigint,
    p_to_card boolean,
    p_actor text,
    p_memo text,
    p_metadata jsonb,
    p_now timestamptz,
    p_lock_timeout text
) RETURNS TABLE (
    code text,
    transaction_id bigint,
    replayed boolean,
    amount bigint,
    wallet_balance bigint,
    card_balance bigint,
    available bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_wallet_id bigint;
    v_card_id bigint;
    v_source_id bigint;
    v_target_id bigint;
    v_source wallet_account%ROWTYPE;
    v_target wallet_account%ROWTYPE;
    v_transaction_id bigint;
BEGIN
    IF p_lock_timeout IS NOT NULL THEN  -- NULL: the session's own lock_timeout applies (core/locks.py)
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
    END IF;

    v_wallet_id := wallet_account_of('guardian_wallet', p_guardian_id, p_now);
    v_card_id := wallet_account_of('student_card', p_student_id, p_now);

    SELECT t.id INTO v_transaction_id FROM wallet_ledgertransaction t WHERE t.reference = p_reference;
    IF FOUND THEN
        RETURN QUERY SELECT 'approved'::text, v_transaction_id, true,
            (SELECT abs(e.amount) FROM wallet_entry e WHERE e.transaction_id = v_transaction_id ORDER BY e.id LIMIT 1),
            (SELECT a.balance FROM wallet_account a WHERE a.id = v_wallet_id),
            (SELECT a.balance FROM wallet_account a WHERE a.id = v_card_id), NULL::bigint;
        RETURN;
    END IF;

    IF p_to_card THEN
        v_source_id := v_wallet_id; v_target_id := v_card_id;
    ELSE
        v_source_id := v_card_id; v_target_id := v_wallet_id;
    END IF;
    -- Both locked (primary-key order) and their expired holds voided; the source as it is under the lock.
    SELECT a.* INTO v_source FROM wallet_accounts_lock(ARRAY[v_wallet_id, v_card_id], p_now) a WHERE a.id = v_source_id;
    IF p_to_card
       AND EXISTS (SELECT 1 FROM wallet_studentcard c WHERE c.student_id = p_student_id AND c.status = 'closed')
       AND NOT EXISTS (SELECT 1 FROM wallet_studentcard c WHERE c.student_id = p_student_id AND c.status IN ('active', 'frozen')) THEN
        RETURN QUERY SELECT 'card_closed'::text, NULL::bigint, false, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    IF NOT v_source.allow_negative AND v_source.balance - v_source.held < p_amount THEN
        RETURN QUERY SELECT 'insufficient_funds'::text, NULL::bigint, false, NULL::bigint, NULL::bigint, NULL::bigint,
            v_source.balance - v_source.held;
        RETURN;
    END IF;

    INSERT INTO wallet_ledgertransaction (kind, reference, memo, actor, metadata, created_at)
    VALUES (p_kind, p_reference, left(p_memo, 300), p_actor, p_metadata, p_now)
    RETURNING id INTO v_transaction_id;
    UPDATE wallet_account a SET balance = a.balance - p_amount WHERE a.id = v_source_id RETURNING a.* INTO v_source;
    UPDATE wallet_account a SET balance = a.balance + p_amount WHERE a.id = v_target_id RETURNING a.* INTO v_target;
    INSERT INTO wallet_entry (transaction_id, account_id, amount, balance_after, created_at)
    VALUES (v_transaction_id, v_source_id, -p_amount, v_source.balance, p_now),
           (v_transaction_id, v_target_id, p_amount, v_target.balance, p_now);

    RETURN QUERY SELECT 'approved'::text, v_transaction_id, false, p_amount,
        CASE WHEN p_to_card THEN v_source.balance ELSE v_target.balance END,
        CASE WHEN p_to_card THEN v_target.balance ELSE v_source.balance END, NULL::bigint;
END;
$$;
