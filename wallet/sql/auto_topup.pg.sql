-- Whose saved card an automatic top-up of a student's card uses: the card of the student's first money
-- guardian (oldest live link) who turned automatic top-up on and has a card saved. One definition for
-- wallet_card_charge (card_charge.pg.sql), which returns that card's threshold so that a sale starts
-- the top-up check only when the balance fell below it, and for wallet.queries.auto_topup_method,
-- which reads the card for the check (wallet/topups.py). Loaded by a wallet migration; a change to
-- this file comes with a new migration that loads it again.

CREATE OR REPLACE FUNCTION wallet_auto_topup_method_id(p_student_id bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pm.id
      FROM guardians_guardianlink l
      JOIN wallet_paymentmethod pm ON pm.guardian_id = l.guardian_id
     WHERE l.student_id = p_student_id AND l.revoked_at IS NULL AND l.can_manage_money
       AND pm.auto_topup_enabled AND pm.stripe_payment_method_id <> ''
     ORDER BY l.created_at, l.id
     LIMIT 1
$$;
