"""Demo events for `make run`: a paid excursion Mia is signed up and paid for, and a free sports day
with places open. Idempotent: an event is found by school and title, a sign-up by student."""

from datetime import timedelta

from core import clock
from events import services
from events.models import Announcement, Event, EventStatus, Signup, SignupStatus
from guardians.models import GuardianLink, StaffMember, Student

SIGNATURE = {"width": 600, "height": 200, "strokes": [[[40, 150], [60, 90], [95, 140], [130, 70], [150, 130]], [[170, 120], [260, 116]]]}
MUSEUM_FORM = {
    "body": "Year 4 will visit the Australian Museum by bus, leaving at 9:15 and returning by 3:00. Students need "
    "their hat, a water bottle and a packed lunch. Staff ratio 1:10.",
    "statement": "I give permission for my child to attend this excursion, and for staff to seek medical help for them if needed.",
    "questions": [
        {"key": "allergies", "label": "Allergies or medical conditions staff should know about", "type": "medical", "required": False},
        {"key": "photo_ok", "label": "May the school publish photos of your child from the day?", "type": "yes_no", "required": True},
        {"key": "travel", "label": "How will your child get home?", "type": "choice", "required": True, "choices": ["School bus", "Picked up"]},
    ],
}
CARNIVAL_FORM = {
    "body": "The school athletics carnival at Moore Park. Students wear their house colours and bring sunscreen.",
    "statement": "I give permission for my child to take part in the athletics carnival.",
    "questions": [{"key": "events", "label": "Events your child would like to enter", "type": "text", "required": False}],
}


def _event(staff: StaffMember, *, form: dict, **fields) -> Event:
    event = Event.objects.filter(school=staff.school, title=fields["title"]).first()
    if event is None:
        event = services.event_create(staff=staff, form=form, **fields)
    if event.status == EventStatus.DRAFT:
        event, _ = services.event_publish(event_id=event.pk, staff=staff)
    return event


def seed() -> None:
    staff = StaffMember.objects.filter(user__email="admin@harbourside.example").select_related("school", "user").first()
    if staff is None:
        return
    now = clock.now().replace(microsecond=0)
    museum = _event(
        staff,
        form=MUSEUM_FORM,
        title="Year 4 Australian Museum excursion",
        description="A day at the Australian Museum: the dinosaur gallery and a First Nations workshop.",
        kind="excursion",
        location="Australian Museum, 1 William St, Sydney",
        starts_at=now + timedelta(days=21),
        ends_at=now + timedelta(days=21, hours=6),
        signup_deadline=now + timedelta(days=14),
        cost=2500,
        capacity=40,
        eligible_year_levels=[4],
    )
    _event(
        staff,
        form=CARNIVAL_FORM,
        title="Athletics carnival",
        description="Whole-school athletics carnival for Years 1 to 6.",
        kind="sport",
        location="Moore Park, Sydney",
        starts_at=now + timedelta(days=28),
        ends_at=now + timedelta(days=28, hours=5),
        signup_deadline=now + timedelta(days=20),
        cost=0,
        capacity=300,
        eligible_year_levels=[1, 2, 3, 4, 5, 6],
    )
    mia = Student.objects.filter(school=staff.school, student_number="HPS-0001").first()
    link = GuardianLink.objects.filter(student=mia, guardian__user__email="olivia.parent@example.com", revoked_at__isnull=True).first()
    if mia is not None and link is not None and museum.status == EventStatus.PUBLISHED:
        signup = Signup.objects.filter(event=museum, student=mia).exclude(status=SignupStatus.DECLINED).first()
        if signup is None and clock.now() < museum.signup_deadline:
            signup = services.signup_sign(
                event_id=museum.pk,
                link=link,
                form_hash=museum.consent_form.content_hash,
                answers={"allergies": "Mild peanut allergy; antihistamine in her bag.", "photo_ok": True, "travel": "School bus"},
                signature=SIGNATURE,
                typed_name="Olivia Nguyen",
                statement_accepted=True,
                evidence=services.Evidence(ip_address="127.0.0.1", user_agent="Tuckbox demo seed"),
            )
        if signup is not None and signup.status == SignupStatus.AWAITING_PAYMENT:
            services.signup_pay_wallet(signup_id=signup.pk, payer=link.guardian, actor="system:demo")
    if not Announcement.objects.filter(school=staff.school, title="Welcome to Tuckbox").exists():
        services.announcement_post(
            staff=staff,
            audience="school",
            title="Welcome to Tuckbox",
            body="Excursion consent, payments and absence notes now all live in the Tuckbox app.",
        )
