"""The ledger's invariants, enforced by PostgreSQL itself (code enforces them on every backend).

- A deferred constraint trigger checks, at commit, that each transaction touched
  has two or more entries summing to zero.
- Entries and transactions refuse UPDATE and DELETE: corrections are reversals.
(The non-negative balance CHECKs are ordinary model constraints.)
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION wallet_check_transaction_balanced() RETURNS trigger AS $$
DECLARE
    total bigint;
    legs integer;
BEGIN
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, legs
      FROM wallet_entry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 OR legs < 2 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced (sum %, % entries)', NEW.transaction_id, total, legs
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER wallet_entry_balanced
    AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_check_transaction_balanced();

CREATE OR REPLACE FUNCTION wallet_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_entry_append_only
    BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_ledger_change();

CREATE TRIGGER wallet_transaction_append_only
    BEFORE UPDATE OR DELETE ON wallet_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_ledger_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_ledgertransaction;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_refuse_ledger_change();
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_check_transaction_balanced();
"""


def _run(sql):
    def apply(apps, schema_editor):
        schema_editor.execute(sql, params=None)  # None: no placeholder parsing of the % in RAISE

    return apply


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
