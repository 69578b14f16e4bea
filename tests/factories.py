"""factory-boy factories for every model the tests build."""

import uuid
from datetime import date, time

import factory
from factory.django import DjangoModelFactory

from guardians.models import Guardian, GuardianLink, ProgramAdministrator, School, StaffMember, Student, User
from wallet import accounts, ledger
from wallet.cards import card_identifier_hash
from wallet.models import CardAcceptance, Merchant, MerchantAdministrator, StudentCard

TEST_PASSWORD = "correct horse battery staple"


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"School {n}")
    code = factory.Sequence(lambda n: f"school{n}")
    time_zone = "Australia/Sydney"
    canteen_cutoff = time(8, 30)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    user = factory.SubFactory(UserFactory)


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    school = factory.SubFactory(SchoolFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(2016, 5, 1)
    year_level = 4
    roll_class = "4A"
    student_number = factory.Sequence(lambda n: f"S{n:05d}")


class GuardianLinkFactory(DjangoModelFactory):
    class Meta:
        model = GuardianLink

    guardian = factory.SubFactory(GuardianFactory)
    student = factory.SubFactory(StudentFactory)
    origin = GuardianLink.Origin.STAFF


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    roles = ["admin"]


class ProgramAdministratorFactory(DjangoModelFactory):
    class Meta:
        model = ProgramAdministrator

    user = factory.SubFactory(UserFactory)


class MerchantFactory(DjangoModelFactory):
    class Meta:
        model = Merchant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Merchant {n}")
    abn = "51824753556"
    categories = ["canteen"]

    @factory.post_generation
    def accepts_school_cards(merchant, create, extracted, **kwargs):
        """A school's own merchant takes that school's cards, as the migration set up for existing ones.
        `accepts_school_cards=False` builds one the school has not enabled."""
        if create and merchant.school_id is not None and extracted is not False:
            CardAcceptance.objects.create(school_id=merchant.school_id, merchant=merchant)


class MerchantAdministratorFactory(DjangoModelFactory):
    class Meta:
        model = MerchantAdministrator

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)


class CardAcceptanceFactory(DjangoModelFactory):
    class Meta:
        model = CardAcceptance

    school = factory.SubFactory(SchoolFactory)
    merchant = factory.SubFactory(MerchantFactory)


# --- Wallet -------------------------------------------------------------------


class StudentCardFactory(DjangoModelFactory):
    """Pass `identifier="..."` to know the card number a terminal presents."""

    class Meta:
        model = StudentCard
        exclude = ["identifier"]

    student = factory.SubFactory(StudentFactory)
    identifier = factory.Sequence(lambda n: f"CARD{n:08d}")
    identifier_hash = factory.LazyAttribute(lambda o: card_identifier_hash(o.identifier))
    identifier_last4 = factory.LazyAttribute(lambda o: o.identifier[-4:])


def give_wallet_money(guardian, amount: int):
    """Credit a guardian's wallet as a settled card top-up would (processor clearing -> wallet)."""
    wallet = accounts.guardian_wallet(guardian)
    ledger.transfer(
        kind="test_topup",
        reference=f"test_topup:{uuid.uuid4().hex}",
        legs=[ledger.Leg(accounts.processor_clearing().pk, -amount), ledger.Leg(wallet.pk, amount)],
        actor="test",
    )
    wallet.refresh_from_db()
    return wallet


def give_card_money(student, amount: int):
    """Put money on a student's card balance, as a guardian's transfer would."""
    card_account = accounts.student_card_account(student)
    ledger.transfer(
        kind="test_card_fund",
        reference=f"test_card_fund:{uuid.uuid4().hex}",
        legs=[ledger.Leg(accounts.processor_clearing().pk, -amount), ledger.Leg(card_account.pk, amount)],
        actor="test",
    )
    card_account.refresh_from_db()
    return card_account
