from wallet.models.cards import CardCharge, CardChargeRefund, CardStatus, SpendingControls, StudentCard
from wallet.models.ledger import Account, AccountKind, Entry, Hold, HoldStatus, LedgerTransaction, ReconciliationIssue
from wallet.models.merchants import CardAcceptance, Merchant, MerchantAdministrator, MerchantCategory, Terminal
from wallet.models.payments import PaymentMethod, StripeEvent, TopUp, TopUpRefund

__all__ = [
    "Account",
    "AccountKind",
    "CardAcceptance",
    "CardCharge",
    "CardChargeRefund",
    "CardStatus",
    "Entry",
    "Hold",
    "HoldStatus",
    "LedgerTransaction",
    "Merchant",
    "MerchantAdministrator",
    "MerchantCategory",
    "PaymentMethod",
    "ReconciliationIssue",
    "SpendingControls",
    "StripeEvent",
    "StudentCard",
    "Terminal",
    "TopUp",
    "TopUpRefund",
]
