"""What the stateful property tests share: the ledger's invariants, and their run budget.

`make test` runs each machine for a few seconds to a minute; `HYPOTHESIS_PROFILE=fuzz` (the
profile registered in tests/conftest.py) runs them for as long as that profile says.
"""

import os

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from wallet.models import Account, LedgerTransaction
from wallet.reconciliation import find_balance_mismatches, find_held_mismatches, find_unbalanced_transactions

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def machine_settings(*, max_examples: int, stateful_step_count: int) -> settings:
    """The budget for `make test`; under the fuzz profile, the profile's (much larger) one."""
    budget = {} if FUZZING else {"max_examples": max_examples, "stateful_step_count": stateful_step_count}
    return settings(
        **budget,
        deadline=None,
        database=None,  # nothing written into the working tree
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


class LedgerInvariants:
    """Mixed into a RuleBasedStateMachine: checked after every step, over the whole database."""

    @invariant()
    def every_transaction_balances(self):
        unbalanced = LedgerTransaction.objects.annotate(
            total=Coalesce(Sum("entries__amount"), 0), legs=Count("entries")
        ).filter(Q(legs__lt=2) | ~Q(total=0))
        assert list(unbalanced.values_list("reference", flat=True)) == []
        assert find_unbalanced_transactions() == []

    @invariant()
    def every_balance_is_the_sum_of_its_entries(self):
        drifted = Account.objects.annotate(total=Coalesce(Sum("entries__amount"), 0)).exclude(balance=F("total"))
        assert list(drifted.values_list("name", "balance", "total")) == []
        assert find_balance_mismatches() == []
        assert find_held_mismatches() == []

    @invariant()
    def money_is_neither_created_nor_lost(self):
        assert Account.objects.aggregate(total=Coalesce(Sum("balance"), 0))["total"] == 0

    @invariant()
    def no_account_that_forbids_it_is_below_zero(self):
        below = Account.objects.filter(allow_negative=False).filter(Q(balance__lt=0) | Q(balance__lt=F("held")))
        assert list(below.values_list("name", "balance", "held")) == []
