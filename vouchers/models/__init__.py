from vouchers.models.programs import (
    ALL_WEEKDAYS,
    AdultBeneficiary,
    Attestation,
    AttestationKind,
    AttestationSource,
    BeneficiaryKind,
    ExpiryRule,
    IssueWindow,
    Program,
    UseRule,
)
from vouchers.models.providers import ApprovalStatus, PayoutDestination, ProviderApproval
from vouchers.models.redemptions import Redemption, RedemptionLine, Settlement
from vouchers.models.settlement_runs import SettlementRun
from vouchers.models.vouchers import LIVE_STATES, BulkIssueJob, IssueSource, Voucher, VoucherState

__all__ = [
    "ALL_WEEKDAYS",
    "AdultBeneficiary",
    "ApprovalStatus",
    "Attestation",
    "AttestationKind",
    "AttestationSource",
    "BeneficiaryKind",
    "BulkIssueJob",
    "ExpiryRule",
    "IssueSource",
    "IssueWindow",
    "LIVE_STATES",
    "PayoutDestination",
    "Program",
    "ProviderApproval",
    "Redemption",
    "RedemptionLine",
    "Settlement",
    "SettlementRun",
    "UseRule",
    "Voucher",
    "VoucherState",
]
