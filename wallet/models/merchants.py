"""Merchants and their terminals."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core import clock
from guardians.models import School, User


class MerchantCategory(models.TextChoices):
    CANTEEN = "canteen"
    UNIFORM_SHOP = "uniform_shop"
    SPORT = "sport"
    CREATIVE = "creative"
    MUSIC = "music"
    DINING = "dining"
    ENTERTAINMENT = "entertainment"
    OTHER = "other"


def validate_merchant_categories(value) -> None:
    """What a merchant is registered to trade: one or more known categories, each once."""
    if not isinstance(value, list) or not value or len(set(value)) != len(value) or set(value) - set(MerchantCategory.values):
        raise ValidationError(f"Categories must be a non-empty list of distinct values from {MerchantCategory.values}.")


class Merchant(models.Model):
    """Anyone paid through Tuckbox: a school canteen, a sports club, a music teacher, a café."""

    name = models.CharField(max_length=200)
    abn = models.CharField(max_length=11, blank=True, help_text="Australian Business Number, 11 digits.")
    # What the merchant is registered to trade. A card charge's categories come from here (a terminal may
    # only narrow them), so a guardian's category ban is decided on the server's data (wallet/charge_categories.py).
    categories = models.JSONField(validators=[validate_merchant_categories])
    # A school's own canteen or uniform shop; null for outside providers.
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="merchants")
    contact_email = models.EmailField(blank=True)
    payout_account_name = models.CharField(max_length=120, blank=True)
    payout_bsb = models.CharField(max_length=6, blank=True)
    payout_account_number = models.CharField(max_length=9, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(categories=[]), name="merchant_has_categories")]

    def __str__(self):
        return self.name


class Terminal(models.Model):
    """A point of sale that authenticates with an API key scoped to one merchant.

    The key is `tbx_term_<prefix>_<secret>`; we keep the prefix (to find the row)
    and a SHA-256 of the whole key. The secret has 256 random bits, so a fast hash
    is enough: there is nothing to brute-force.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="terminals")
    label = models.CharField(max_length=80)
    key_prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute per terminal (wallet/terminal_keys.py), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    key_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["merchant_id", "id"]
        indexes = [models.Index(fields=["merchant"], condition=Q(revoked_at__isnull=True), name="terminal_active_idx")]

    def __str__(self):
        return f"{self.merchant.name} / {self.label}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MerchantAdministrator(models.Model):
    """A person who manages one merchant's terminals (the canteen manager, the club's treasurer)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="merchant_admin")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="administrators")
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self):
        return f"{self.user} @ {self.merchant}"


class CardAcceptance(models.Model):
    """A school's decision that a merchant may charge its students' cards (its canteen, its uniform shop).

    Only a live row (not disabled) lets the merchant's terminals see the school's cards; to any other
    merchant they are unknown cards. Disabling stamps the row and enabling again adds a new one, so who
    allowed whom, and when, stays on record.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="card_acceptances")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="card_acceptances")
    enabled_at = models.DateTimeField(default=clock.now)
    enabled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["school_id", "merchant_id", "-enabled_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "merchant"], condition=Q(disabled_at__isnull=True), name="one_live_card_acceptance")
        ]

    def __str__(self):
        return f"{self.school} accepts {self.merchant}"

    @property
    def is_live(self) -> bool:
        return self.disabled_at is None
