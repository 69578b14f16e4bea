"""Which merchants may charge a school's student cards: the school's decision, not the merchant's.

A merchant the school has not enabled cannot tell the school's cards from unknown ones
(wallet.queries.CARD_ACCEPTED_BY_MERCHANT); refunds of a merchant's own earlier charges stay possible after
the school disables it, since they only give the child's money back.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q

from core import clock
from core.errors import NotFoundError
from guardians.models import School, User
from wallet.errors import CardAcceptanceNotFound
from wallet.models import CardAcceptance, Merchant


def card_acceptances_for(school: School):
    """The merchants that may charge this school's cards now, the latest enabled first."""
    return CardAcceptance.objects.filter(school=school, disabled_at__isnull=True).select_related("merchant").order_by("-pk")


def merchants_a_school_may_enable(school: School):
    """Independent merchants (a uniform shop, a café) and the school's own. Another school's canteen
    serves that school: it is not offered, and to the school asking it does not exist."""
    return Merchant.objects.filter(is_active=True).filter(Q(school__isnull=True) | Q(school=school))


def card_acceptance_enable(*, school: School, merchant: Merchant, enabled_by: User | None) -> CardAcceptance:
    """Let the merchant's terminals charge the school's cards. Enabling an enabled merchant changes nothing.
    The merchant must be one the school may enable (merchants_a_school_may_enable)."""
    if not merchants_a_school_may_enable(school).filter(pk=merchant.pk).exists():
        raise NotFoundError()  # as for a merchant that does not exist
    live = CardAcceptance.objects.filter(school=school, merchant=merchant, disabled_at__isnull=True).first()
    if live is not None:
        return live
    try:
        with transaction.atomic():
            return CardAcceptance.objects.create(school=school, merchant=merchant, enabled_by=enabled_by)
    except IntegrityError:
        # Two staff enabled it at once; the one live row (one_live_card_acceptance) is the answer.
        return CardAcceptance.objects.get(school=school, merchant=merchant, disabled_at__isnull=True)


def card_acceptance_disable(*, school: School, merchant: Merchant, disabled_by: User | None) -> CardAcceptance:
    """Stop the merchant charging the school's cards from the next tap. The row stays, stamped, as history."""
    updated = CardAcceptance.objects.filter(school=school, merchant=merchant, disabled_at__isnull=True).update(
        disabled_at=clock.now(), disabled_by=disabled_by
    )
    if not updated:
        raise CardAcceptanceNotFound()
    return CardAcceptance.objects.filter(school=school, merchant=merchant).order_by("-disabled_at", "-pk").first()
