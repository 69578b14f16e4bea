"""factory-boy factories for every model the tests build."""

from datetime import date, time

import factory
from factory.django import DjangoModelFactory

from guardians.models import Guardian, GuardianLink, ProgramAdministrator, School, StaffMember, Student, User
from wallet.models import Merchant

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

    name = factory.Sequence(lambda n: f"Merchant {n}")
    abn = "51824753556"
    categories = ["canteen"]
