"""Paying merchants: a Stripe Connect transfer through wallet.gateway, to the merchant's account.

The destination is the merchant's own Connect account id if the wallet app keeps one
(`Merchant.stripe_account_id`), else the one a program administrator recorded when
approving the provider (PayoutDestination). The fake gateway (`make run`, tests)
needs none and gets a stand-in.
"""

from wallet import accounts
from wallet.gateway import Transfer, get_gateway, is_fake
from wallet.models import Account, AccountKind, Merchant

VOUCHER_PAYOUTS = "voucher_payouts"


def voucher_payouts_account() -> Account:
    """Clearing for money sent to merchants by Stripe Connect transfer: every settlement credits it."""
    return accounts.system_account(
        code=VOUCHER_PAYOUTS, kind=AccountKind.PROCESSOR_CLEARING, name="Voucher payouts to merchants (Stripe Connect)"
    )


def destination_for(merchant: Merchant) -> str | None:
    own = getattr(merchant, "stripe_account_id", "")
    if own:
        return own
    destination = getattr(merchant, "voucher_payout_destination", None)
    if destination is not None and destination.stripe_account_id:
        return destination.stripe_account_id
    if is_fake():
        return f"acct_fake_merchant_{merchant.pk}"
    return None


def transfer(*, settlement_id: int, merchant_id: int, amount: int, destination: str) -> Transfer:
    """One transfer per settlement, whatever the number of attempts: the idempotency key is the settlement's."""
    return get_gateway().create_transfer(
        amount=amount,
        destination=destination,
        metadata={"voucher_settlement_id": settlement_id, "merchant_id": merchant_id},
        idempotency_key=f"tuckbox-voucher-settlement-{settlement_id}",
    )
