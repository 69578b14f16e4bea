"""Who may call each operation of openapi/openapi.yaml, keyed by operationId.

The authorization matrix (test_authorization_matrix.py) calls every operation as every kind of
caller and holds the answers to this table; an operation missing here fails the matrix, so no
endpoint ships without saying who may use it.

`allowed` are the kinds of caller that get past the door: anyone else gets 401 when anonymous and
403 otherwise. `tenant` says whose objects the operation reaches:
- OWN: the objects named in the path belong to a tenant (a family, a school, a merchant, a
  program). An allowed caller of another tenant gets 404, never 403 and never the object.
- BODY: no object in the path, but the request names one (an id, a card number, a voucher
  code, a link code) in its body or query. Another tenant's caller gets a 4xx.
- SELF: the caller acts on their own things (their wallet, their school's list, their terminal);
  what they get back must not show another tenant's private data.
- PUBLIC: the same for everybody (sign-in, public keys, the Stripe webhook, signed event links).
"""

from dataclasses import dataclass

ANONYMOUS = "anonymous"
GUARDIAN = "guardian"
ADMIN, CANTEEN, TEACHER, FINANCE = "staff:admin", "staff:canteen", "staff:teacher", "staff:finance"
TERMINAL = "terminal"
PROGRAM_ADMIN = "program_admin"
MERCHANT_ADMIN = "merchant_admin"

STAFF = frozenset({ADMIN, CANTEEN, TEACHER, FINANCE})
# Staff who may read medical answers (EVENTS_MEDICAL_ROLES, by default).
MEDICAL_STAFF = frozenset({ADMIN, TEACHER})
PEOPLE = STAFF | {GUARDIAN, PROGRAM_ADMIN, MERCHANT_ADMIN}
SIGNED_IN = PEOPLE | {TERMINAL}
EVERYONE = SIGNED_IN | {ANONYMOUS}
KINDS = EVERYONE

OWN, BODY, SELF, PUBLIC = "own", "body", "self", "public"


@dataclass(frozen=True)
class Rule:
    allowed: frozenset
    tenant: str


def rule(tenant: str, *kinds) -> Rule:
    allowed = frozenset().union(*(k if isinstance(k, frozenset) else {k} for k in kinds))
    assert allowed <= KINDS and tenant in {OWN, BODY, SELF, PUBLIC}
    return Rule(allowed, tenant)


ACCESS: dict[str, Rule] = {
    # Sign-in and accounts
    "auth_token_create": rule(PUBLIC, EVERYONE),
    "auth_token_refresh": rule(PUBLIC, EVERYONE),
    "auth_logout": rule(SELF, PEOPLE),
    "auth_password_change": rule(SELF, PEOPLE),
    "guardian_register": rule(PUBLIC, EVERYONE),
    "me_retrieve": rule(SELF, PEOPLE),
    "me_update": rule(SELF, PEOPLE),
    "terminal_me": rule(SELF, TERMINAL),
    # A merchant administrator's terminals
    "merchant_terminal_list": rule(SELF, MERCHANT_ADMIN),
    "merchant_terminal_register": rule(SELF, MERCHANT_ADMIN),
    "merchant_terminal_retrieve": rule(OWN, MERCHANT_ADMIN),
    "merchant_terminal_update": rule(OWN, MERCHANT_ADMIN),
    "merchant_terminal_rotate_key": rule(OWN, MERCHANT_ADMIN),
    "merchant_terminal_revoke": rule(OWN, MERCHANT_ADMIN),
    # Schools, students, links
    "school_retrieve": rule(OWN, GUARDIAN, STAFF),
    "student_list": rule(SELF, GUARDIAN, STAFF),
    "student_retrieve": rule(OWN, GUARDIAN, STAFF),
    "link_code_issue": rule(OWN, ADMIN, TEACHER),
    "guardian_invite_create": rule(OWN, GUARDIAN),
    "student_guardian_list": rule(OWN, GUARDIAN, STAFF),
    "link_list": rule(SELF, GUARDIAN),
    "link_redeem": rule(SELF, GUARDIAN),  # a link code is the credential: whoever the school gives it to
    "link_revoke": rule(OWN, GUARDIAN, STAFF),
    # Leavers
    "student_leaver_mark": rule(OWN, ADMIN),
    "student_leaver_retrieve": rule(OWN, ADMIN),
    "student_leaver_undo": rule(OWN, ADMIN),
    # Student cards
    "card_issue": rule(OWN, ADMIN, CANTEEN),
    "card_fund": rule(OWN, GUARDIAN),
    "card_withdraw": rule(OWN, GUARDIAN),
    "card_controls_update": rule(OWN, GUARDIAN),
    "card_freeze": rule(OWN, GUARDIAN),
    "card_unfreeze": rule(OWN, GUARDIAN),
    "card_report_lost": rule(OWN, GUARDIAN),
    "student_card_retrieve": rule(OWN, GUARDIAN, ADMIN, FINANCE),
    "student_card_statement_list": rule(OWN, GUARDIAN, ADMIN, FINANCE),
    "student_card_statement_csv": rule(OWN, GUARDIAN, ADMIN, FINANCE),
    "terminal_charge_list": rule(SELF, TERMINAL),
    "terminal_charge_create": rule(BODY, TERMINAL),
    "terminal_charge_refund": rule(OWN, TERMINAL),
    "terminal_balance_retrieve": rule(SELF, TERMINAL),
    # Wallet and card payments
    "topup_quote": rule(SELF, GUARDIAN),
    "topup_list": rule(SELF, GUARDIAN),
    "topup_create": rule(SELF, GUARDIAN),
    "topup_retrieve": rule(OWN, GUARDIAN),
    "topup_simulate": rule(OWN, GUARDIAN),
    "wallet_refund_create": rule(SELF, GUARDIAN),
    "payment_method_retrieve": rule(SELF, GUARDIAN),
    "payment_method_setup": rule(SELF, GUARDIAN),
    "payment_method_remove": rule(SELF, GUARDIAN),
    "auto_topup_update": rule(SELF, GUARDIAN),
    "stripe_webhook_receive": rule(PUBLIC, EVERYONE),
    "wallet_retrieve": rule(SELF, GUARDIAN),
    "wallet_statement_list": rule(SELF, GUARDIAN),
    "wallet_statement_csv": rule(SELF, GUARDIAN),
    "reconciliation_issue_list": rule(SELF, ADMIN, FINANCE),
    # The audit log: a school's admins read their school's rows (platform staff, all of them).
    "audit_log_list": rule(SELF, ADMIN),
    "audit_log_retrieve": rule(OWN, ADMIN),
    # Which merchants may charge the school's student cards: the school's admins decide.
    "card_merchant_list": rule(SELF, ADMIN),
    "card_merchant_enable": rule(OWN, ADMIN),  # another school's canteen is not offered: 404
    "card_merchant_disable": rule(SELF, ADMIN),
    # Platform staff (Django's is_staff) only: its summary counts every school's issues. No caller
    # of the matrix is platform staff, so every one is turned away.
    "reconciliation_run_create": rule(SELF),
    # Voucher programs (administration)
    "voucher_program_list": rule(PUBLIC, SIGNED_IN),
    "voucher_program_create": rule(SELF, PROGRAM_ADMIN),
    "voucher_program_retrieve": rule(PUBLIC, SIGNED_IN),
    "voucher_program_update": rule(OWN, PROGRAM_ADMIN),
    "voucher_apply": rule(BODY, PEOPLE),
    "voucher_program_voucher_list": rule(OWN, PROGRAM_ADMIN),
    "voucher_revoke": rule(OWN, PROGRAM_ADMIN),
    "voucher_cancel": rule(OWN, PROGRAM_ADMIN),
    "voucher_bulk_issue_create": rule(OWN, PROGRAM_ADMIN),
    "voucher_bulk_issue_retrieve": rule(OWN, PROGRAM_ADMIN),
    "voucher_attestation_create": rule(SELF, PROGRAM_ADMIN),  # evidence about a family, for every program
    "voucher_program_provider_list": rule(OWN, PROGRAM_ADMIN),
    "voucher_provider_approve": rule(OWN, PROGRAM_ADMIN),
    "voucher_provider_reject": rule(OWN, PROGRAM_ADMIN),
    "voucher_provider_suspend": rule(OWN, PROGRAM_ADMIN),
    "voucher_provider_reinstate": rule(OWN, PROGRAM_ADMIN),
    "voucher_uptake_retrieve": rule(BODY, PROGRAM_ADMIN),
    "voucher_uptake_csv": rule(BODY, PROGRAM_ADMIN),
    "voucher_settlement_preview": rule(OWN, PROGRAM_ADMIN),
    "voucher_settlement_run_list": rule(OWN, PROGRAM_ADMIN),
    "voucher_settlement_run_create": rule(OWN, PROGRAM_ADMIN),
    "voucher_settlement_run_retrieve": rule(OWN, PROGRAM_ADMIN),
    "voucher_settlement_run_csv": rule(OWN, PROGRAM_ADMIN),
    "voucher_settlement_remittance_pdf": rule(OWN, PROGRAM_ADMIN),
    # Vouchers (holders)
    "voucher_list": rule(SELF, PEOPLE),
    "voucher_retrieve": rule(OWN, PEOPLE),
    "voucher_code_retrieve": rule(OWN, PEOPLE),
    "voucher_qr_png": rule(OWN, PEOPLE),
    "voucher_qr_svg": rule(OWN, PEOPLE),
    "voucher_keys_retrieve": rule(PUBLIC, EVERYONE),
    # Vouchers (providers' terminals)
    "terminal_voucher_preview": rule(SELF, TERMINAL),  # the code the holder shows is the credential
    "terminal_voucher_redemption_list": rule(SELF, TERMINAL),
    "terminal_voucher_redeem": rule(BODY, TERMINAL),
    "terminal_voucher_redemption_void": rule(OWN, TERMINAL),
    "terminal_voucher_provider_application_list": rule(SELF, TERMINAL),
    "terminal_voucher_provider_apply": rule(SELF, TERMINAL),  # any merchant may apply to any program
    "terminal_voucher_settlement_list": rule(SELF, TERMINAL),
    "terminal_voucher_settlement_retrieve": rule(OWN, TERMINAL),
    "terminal_voucher_settlement_statement_csv": rule(OWN, TERMINAL),
    "terminal_voucher_settlement_remittance_pdf": rule(OWN, TERMINAL),
    "terminal_voucher_balance_retrieve": rule(SELF, TERMINAL),
    # Canteen
    "canteen_settings_retrieve": rule(SELF, ADMIN, CANTEEN),
    "canteen_settings_update": rule(SELF, ADMIN, CANTEEN),
    "canteen_period_list": rule(SELF, ADMIN, CANTEEN),
    "canteen_period_create": rule(SELF, ADMIN, CANTEEN),
    "canteen_period_update": rule(OWN, ADMIN, CANTEEN),
    "menu_item_list": rule(SELF, ADMIN, CANTEEN),
    "menu_item_create": rule(SELF, ADMIN, CANTEEN),
    "menu_item_update": rule(OWN, ADMIN, CANTEEN),
    "canteen_reminder_update": rule(SELF, GUARDIAN),
    "canteen_order_retrieve": rule(OWN, GUARDIAN, STAFF),
    "canteen_order_change": rule(OWN, GUARDIAN, STAFF),
    "canteen_order_cancel": rule(OWN, GUARDIAN),
    "canteen_order_refund": rule(OWN, ADMIN, CANTEEN),
    "canteen_order_collect": rule(OWN, ADMIN, CANTEEN),
    "canteen_prep_list": rule(SELF, ADMIN, CANTEEN),
    "canteen_prep_list_csv": rule(SELF, ADMIN, CANTEEN),
    "canteen_labels_pdf": rule(SELF, ADMIN, CANTEEN),
    "canteen_day_close": rule(SELF, ADMIN, CANTEEN),
    "food_profile_retrieve": rule(OWN, GUARDIAN),
    "food_profile_update": rule(OWN, GUARDIAN),
    "student_menu_retrieve": rule(OWN, GUARDIAN),
    "canteen_order_list": rule(OWN, GUARDIAN),
    "canteen_order_place": rule(OWN, GUARDIAN),
    "terminal_canteen_sale": rule(BODY, TERMINAL),
    # Events, consent, payments for places
    "event_list": rule(SELF, GUARDIAN, STAFF),
    "event_create": rule(SELF, ADMIN, TEACHER),
    "event_retrieve": rule(OWN, GUARDIAN, STAFF),
    "event_update": rule(OWN, ADMIN, TEACHER),
    "event_publish": rule(OWN, ADMIN, TEACHER),
    "event_cancel": rule(OWN, ADMIN),
    "event_remind": rule(OWN, ADMIN, TEACHER),
    "event_roster": rule(OWN, STAFF),
    "event_roster_csv": rule(OWN, STAFF),
    "event_roster_pdf": rule(OWN, STAFF),
    "event_attendance_mark": rule(OWN, ADMIN, TEACHER),
    "signup_create": rule(OWN, GUARDIAN),
    "signup_decline": rule(OWN, GUARDIAN),
    "signup_list": rule(SELF, GUARDIAN, STAFF),
    "signup_pay": rule(OWN, GUARDIAN),
    "signup_card_payment": rule(OWN, GUARDIAN),
    "signup_withdraw": rule(OWN, GUARDIAN),
    "consent_retrieve": rule(OWN, GUARDIAN, MEDICAL_STAFF),
    "consent_pdf": rule(OWN, GUARDIAN, MEDICAL_STAFF),
    "consent_signature_png": rule(OWN, GUARDIAN, MEDICAL_STAFF),
    "consent_chain_verify": rule(SELF, ADMIN),
    # A signed event link is the credential: whoever holds it acts for the guardian it names.
    "event_link_retrieve": rule(PUBLIC, EVERYONE),
    "event_link_pay": rule(PUBLIC, EVERYONE),
    "event_link_card_payment": rule(PUBLIC, EVERYONE),
    # Notices
    "notification_list": rule(SELF, PEOPLE),
    "notification_unread_count": rule(SELF, PEOPLE),
    "notification_mark_read": rule(SELF, PEOPLE),
    "notification_preferences_list": rule(SELF, PEOPLE),
    "notification_preferences_update": rule(SELF, PEOPLE),
    "announcement_list": rule(SELF, STAFF),
    "announcement_post": rule(SELF, ADMIN, TEACHER),
    "absence_report": rule(OWN, GUARDIAN),
    "absence_list": rule(SELF, GUARDIAN, STAFF),
    "absence_acknowledge": rule(OWN, ADMIN, TEACHER),
    # Outbound webhooks: school admins for their school, program administrators for their programs.
    "webhook_event_type_list": rule(PUBLIC, EVERYONE),
    "webhook_subscription_list": rule(SELF, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_create": rule(BODY, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_retrieve": rule(OWN, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_update": rule(OWN, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_delete": rule(OWN, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_rotate_secret": rule(OWN, ADMIN, PROGRAM_ADMIN),
    "webhook_delivery_list": rule(OWN, ADMIN, PROGRAM_ADMIN),
    "webhook_subscription_ping": rule(OWN, ADMIN, PROGRAM_ADMIN),
}
