"""Events, consent, announcements, notifications and absence notes: validate input, render output.

Business rules (eligibility, deadlines, places, signature limits) live in events/;
these serializers check shapes and types only.
"""

from django.conf import settings
from rest_framework import serializers

from api.serializers.fields import CentsField, StrokesField
from events.consent_forms import QUESTION_TYPES
from events.models import Attendance, Audience, EventKind, EventStatus, PaymentMethod, SignupStatus
from guardians.models import AbsenceReason

# --- Events -------------------------------------------------------------------


class SchoolLocalDateTimeField(serializers.DateTimeField):
    """A time without an offset is the school's wall clock (staff type "09:30" and mean 09:30 at school);
    the service places it in the school's zone. With an offset it is that instant."""

    def enforce_timezone(self, value):
        return value if value.tzinfo is None else super().enforce_timezone(value)



class ConsentQuestionInput(serializers.Serializer):
    key = serializers.RegexField(r"^[a-z][a-z0-9_]{0,39}$", help_text="Stable id of the question, e.g. `allergies`.")
    label = serializers.CharField(max_length=300)
    type = serializers.ChoiceField(choices=QUESTION_TYPES, help_text="`medical` answers are shown only to staff roles allowed to see them.")
    required = serializers.BooleanField(default=False)
    choices = serializers.ListField(child=serializers.CharField(max_length=100), max_length=20, required=False, default=list)


class ConsentFormInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000, help_text="The form's wording, exactly as guardians will read it.")
    statement = serializers.CharField(max_length=1_000, help_text="The statement a guardian ticks to consent.")
    questions = ConsentQuestionInput(many=True, required=False, default=list, max_length=40)


def _event_fields(required: bool) -> dict:
    optional = {} if required else {"required": False}
    return {
        "title": serializers.CharField(max_length=200, **optional),
        "description": serializers.CharField(max_length=10_000, allow_blank=True, required=False),
        "kind": serializers.ChoiceField(choices=EventKind.choices, **optional),
        "location": serializers.CharField(max_length=200, **optional),
        "starts_at": SchoolLocalDateTimeField(help_text="ISO 8601; without an offset, the school's local time.", **optional),
        "ends_at": SchoolLocalDateTimeField(**optional),
        "signup_deadline": SchoolLocalDateTimeField(help_text="Sign-ups, and withdrawals with a refund, close at this instant.", **optional),
        "cost": CentsField(min_value=0, max_value=1_000_000, help_text="Cents per student; 0 is free.", **optional),
        "capacity": serializers.IntegerField(min_value=1, max_value=5000, **optional),
        "waitlist_capacity": serializers.IntegerField(min_value=0, max_value=5000, allow_null=True, required=False, help_text="Null (default): no limit."),
        "refund_percent": serializers.IntegerField(min_value=0, max_value=100, required=False, help_text="Refunded on withdrawal before the deadline (default 100)."),
        "offer_window_hours": serializers.IntegerField(min_value=1, max_value=336, required=False, help_text="How long a waitlisted family has to pay for a freed place (default 48)."),
        "reminder_hours_before_deadline": serializers.IntegerField(min_value=0, max_value=720, required=False, help_text="Automatic reminder this long before the deadline; 0 for none (default 48)."),
        "eligible_year_levels": serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=12), max_length=13, required=False),
        "eligible_classes": serializers.ListField(child=serializers.CharField(max_length=20), max_length=100, required=False),
        "consent_form": ConsentFormInput(**optional),
    }


EventCreateInput = type("EventCreateInput", (serializers.Serializer,), {**_event_fields(True), "__doc__": "Both eligibility lists empty: the whole school."})
EventUpdateInput = type("EventUpdateInput", (serializers.Serializer,), {**_event_fields(False), "__doc__": "Send only what changes. A changed consent form becomes a new version."})


class ConsentQuestionOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=QUESTION_TYPES)
    required = serializers.BooleanField()
    choices = serializers.ListField(child=serializers.CharField())


class ConsentFormOutput(serializers.Serializer):
    version = serializers.IntegerField(source="number")
    hash = serializers.CharField(source="content_hash", help_text="SHA-256 of the form's canonical content; send it back when signing.")
    body = serializers.CharField(source="content.body")
    statement = serializers.CharField(source="content.statement")
    questions = ConsentQuestionOutput(source="content.questions", many=True)


class EventPlacesOutput(serializers.Serializer):
    capacity = serializers.IntegerField()
    taken = serializers.IntegerField()
    left = serializers.IntegerField()
    waitlisted = serializers.IntegerField()


class SignupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    student_first_name = serializers.CharField(source="student.first_name")
    status = serializers.ChoiceField(choices=SignupStatus.choices)
    created_at = serializers.DateTimeField()
    payment_due_at = serializers.DateTimeField(allow_null=True, help_text="Pay by then to keep the place (awaiting_payment, offered).")
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    paid_at = serializers.DateTimeField(allow_null=True)
    consent_id = serializers.SerializerMethodField()
    attendance = serializers.CharField(allow_blank=True)

    def get_consent_id(self, signup) -> int | None:
        consent = getattr(signup, "consent", None)
        return consent.pk if consent else None


class EventChildOutput(serializers.Serializer):
    student_id = serializers.IntegerField(source="student.pk")
    first_name = serializers.CharField(source="student.first_name")
    eligible = serializers.BooleanField()
    can_give_consent = serializers.BooleanField(help_text="Whether you may sign for this child.")
    signup = SignupOutput(allow_null=True)


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    school_id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    location = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    signup_deadline = serializers.DateTimeField()
    time_zone = serializers.CharField(source="school.time_zone", help_text="The school's zone, for showing times.")
    cost = serializers.IntegerField(help_text="Cents per student.")
    currency = serializers.SerializerMethodField()
    capacity = serializers.IntegerField()
    waitlist_capacity = serializers.IntegerField(allow_null=True)
    refund_percent = serializers.IntegerField()
    offer_window_hours = serializers.IntegerField()
    reminder_hours_before_deadline = serializers.IntegerField()
    eligible_year_levels = serializers.ListField(child=serializers.IntegerField())
    eligible_classes = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=EventStatus.choices)
    published_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    consent_form = ConsentFormOutput()
    places = EventPlacesOutput()
    children = EventChildOutput(many=True, required=False, help_text="Guardians: your children at this school who may go or are signed up.")

    def get_currency(self, event) -> str:
        return "AUD"


class EventPublishOutput(EventOutput):
    guardians_notified = serializers.IntegerField()


class EventCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EventReminderOutput(serializers.Serializer):
    guardians_reminded = serializers.IntegerField()


# --- Sign-ups and consent -------------------------------------------------------


class SignatureInput(serializers.Serializer):
    width = serializers.IntegerField(help_text="The drawing canvas width, in the points' units.")
    height = serializers.IntegerField()
    strokes = StrokesField(
        help_text=f"Pen-down to pen-up strokes, each a list of [x, y] points inside the canvas; at most "
        f"{settings.EVENTS_SIGNATURE_MAX_STROKES} strokes and {settings.EVENTS_SIGNATURE_MAX_POINTS} points.",
    )


class SignupCreateInput(serializers.Serializer):
    student_id = serializers.IntegerField()
    form_hash = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="`consent_form.hash` of the version you showed the guardian.")
    answers = serializers.DictField(child=serializers.JSONField(), required=False, default=dict, help_text="By question key: text, true/false, or one of the choices.")
    signature = SignatureInput()
    typed_name = serializers.CharField(max_length=160, help_text="The guardian's full name, typed.")
    consent_statement_accepted = serializers.BooleanField(help_text="The guardian ticked the form's consent statement; must be true.")


class SignupDeclineInput(serializers.Serializer):
    student_id = serializers.IntegerField()


class SignupPaymentOutput(serializers.Serializer):
    signup = SignupOutput()
    transaction_id = serializers.IntegerField()
    wallet_balance = serializers.IntegerField(help_text="The payer's wallet after paying, cents.")


class SignupWithdrawOutput(serializers.Serializer):
    signup = SignupOutput()
    refunded = serializers.IntegerField(help_text="Cents returned to the wallet that paid.")


class AnswerOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    answer = serializers.JSONField(allow_null=True, help_text="Text, true/false, a choice, or null (unanswered or withheld).")
    withheld = serializers.BooleanField(help_text="A medical answer your role may not see.")


class ConsentRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField(help_text="Position in the event's consent chain.")
    event_id = serializers.IntegerField()
    signup_id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    guardian_name = serializers.CharField(source="guardian.user.full_name")
    link_id = serializers.IntegerField(help_text="The guardian link that gave the authority to sign.")
    form_version = serializers.IntegerField(source="form_version.number")
    form_hash = serializers.CharField()
    answers = AnswerOutput(many=True, source="answers_display")
    typed_name = serializers.CharField()
    statement = serializers.CharField()
    signed_at = serializers.DateTimeField()
    ip_address = serializers.CharField()
    user_agent = serializers.CharField()
    signature_png_sha256 = serializers.CharField(source="signature_image_sha256", help_text="SHA-256 of the signature's PNG, as the PDF shows it.")
    previous_hash = serializers.CharField()
    record_hash = serializers.CharField()
    document_sha256 = serializers.CharField(help_text="SHA-256 of the consent PDF; the same every time it is downloaded.")


class ChainProblemOutput(serializers.Serializer):
    sequence = serializers.IntegerField(allow_null=True)
    record_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    detail = serializers.CharField()


class ConsentChainVerifyOutput(serializers.Serializer):
    school_id = serializers.IntegerField()
    valid = serializers.BooleanField()
    records = serializers.IntegerField()
    head_hash = serializers.CharField()
    problems = ChainProblemOutput(many=True)


# --- Roster and attendance --------------------------------------------------------


class RosterStudentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    year_level = serializers.IntegerField()
    roll_class = serializers.CharField()


class RosterConsentOutput(serializers.Serializer):
    record_id = serializers.IntegerField(source="pk")
    typed_name = serializers.CharField()
    signed_by = serializers.CharField(source="guardian.user.full_name")
    signed_at = serializers.DateTimeField()


class RosterPaymentOutput(serializers.Serializer):
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    method = serializers.CharField(source="payment_method")
    payment_due_at = serializers.DateTimeField(allow_null=True)


class RosterRowOutput(serializers.Serializer):
    signup_id = serializers.IntegerField(source="signup.pk")
    student = RosterStudentOutput()
    status = serializers.CharField(source="signup.status")
    consent = RosterConsentOutput(allow_null=True)
    payment = RosterPaymentOutput(source="signup")
    answers = AnswerOutput(many=True)
    attendance = serializers.CharField(source="signup.attendance", allow_blank=True)


class RosterCountsOutput(serializers.Serializer):
    confirmed = serializers.IntegerField()
    awaiting_payment = serializers.IntegerField()
    offered = serializers.IntegerField()
    waitlisted = serializers.IntegerField()
    declined = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    lapsed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    not_responded = serializers.IntegerField()
    places_taken = serializers.IntegerField()
    places_left = serializers.IntegerField()


class RosterOutput(serializers.Serializer):
    event_id = serializers.IntegerField(source="event.pk")
    title = serializers.CharField(source="event.title")
    medical_visible = serializers.BooleanField(source="include_medical")
    counts = RosterCountsOutput()
    questions = ConsentQuestionOutput(many=True)
    rows = RosterRowOutput(many=True)
    not_responded = RosterStudentOutput(many=True)


class AttendanceMarkInput(serializers.Serializer):
    signup_id = serializers.IntegerField()
    attendance = serializers.ChoiceField(choices=Attendance.choices)


class AttendanceInput(serializers.Serializer):
    marks = AttendanceMarkInput(many=True, min_length=1, max_length=1000)


class AttendanceOutput(serializers.Serializer):
    signup_id = serializers.IntegerField(source="pk")
    student_id = serializers.IntegerField()
    attendance = serializers.CharField()
    attendance_marked_at = serializers.DateTimeField()


# --- Email links (no sign-in) -----------------------------------------------------


class EventLinkSignupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SignupStatus.choices)
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    payment_due_at = serializers.DateTimeField(allow_null=True)


class EventLinkChildOutput(serializers.Serializer):
    student_id = serializers.IntegerField(source="student.pk")
    first_name = serializers.CharField(source="student.first_name")
    eligible = serializers.BooleanField()
    signup = EventLinkSignupOutput(allow_null=True)


class EventLinkEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    school_name = serializers.CharField(source="school.name")
    title = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    location = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    signup_deadline = serializers.DateTimeField()
    time_zone = serializers.CharField(source="school.time_zone")
    cost = serializers.IntegerField()
    status = serializers.ChoiceField(choices=EventStatus.choices)


class EventLinkOutput(serializers.Serializer):
    event = EventLinkEventOutput()
    guardian_first_name = serializers.CharField()
    children = EventLinkChildOutput(many=True)


# --- Announcements and notifications ------------------------------------------------


class AnnouncementInput(serializers.Serializer):
    audience = serializers.ChoiceField(choices=Audience.choices)
    year_level = serializers.IntegerField(min_value=0, max_value=12, required=False, allow_null=True, help_text="For `year_level`.")
    roll_class = serializers.CharField(max_length=20, required=False, allow_blank=True, default="", help_text="For `class`.")
    event_id = serializers.IntegerField(required=False, allow_null=True, help_text="For `event`: families with a place or on the waitlist.")
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)


class AnnouncementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    audience = serializers.ChoiceField(choices=Audience.choices)
    year_level = serializers.IntegerField(allow_null=True)
    roll_class = serializers.CharField()
    event_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    body = serializers.CharField()
    posted_at = serializers.DateTimeField()
    posted_by_name = serializers.CharField(source="posted_by.full_name")
    recipient_count = serializers.IntegerField(help_text="Guardians it was sent to.")


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    data = serializers.DictField(help_text="Ids to open in the app, by kind (e.g. event_id, signup_id).")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationUnreadOutput(serializers.Serializer):
    unread = serializers.IntegerField()


class NotificationReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), max_length=500, required=False, allow_null=True, help_text="Omit to mark everything read.")


class NotificationReadOutput(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class NotificationPreferenceOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    by_email = serializers.BooleanField()


class NotificationPreferenceChoiceInput(serializers.Serializer):
    kind = serializers.CharField(max_length=40)
    by_email = serializers.BooleanField()


class NotificationPreferencesInput(serializers.Serializer):
    preferences = NotificationPreferenceChoiceInput(many=True, max_length=50)

    def validate_preferences(self, value):
        from core.notification_kinds import KINDS

        unknown = [choice["kind"] for choice in value if choice["kind"] not in KINDS]
        if unknown:
            raise serializers.ValidationError(f"Unknown kinds: {', '.join(unknown)}.", code="unknown_kind")
        return value


# --- Absence notes ---------------------------------------------------------------


class AbsenceReportInput(serializers.Serializer):
    first_day = serializers.DateField()
    last_day = serializers.DateField(required=False, help_text="Defaults to first_day.")
    reason = serializers.ChoiceField(choices=AbsenceReason.choices)
    details = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AbsenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    student_name = serializers.SerializerMethodField()
    roll_class = serializers.CharField(source="student.roll_class")
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    reason = serializers.ChoiceField(choices=AbsenceReason.choices)
    details = serializers.CharField()
    reported_by_name = serializers.CharField(source="reported_by.user.full_name")
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)

    def get_student_name(self, note) -> str:
        return f"{note.student.first_name} {note.student.last_name}"


class AbsenceQueryInput(serializers.Serializer):
    day = serializers.DateField(required=False, help_text="Only notes covering this day.")
    unacknowledged = serializers.BooleanField(required=False, default=False)


class SignupCardPaymentOutput(serializers.Serializer):
    signup_id = serializers.IntegerField(source="signup.pk")
    topup_id = serializers.IntegerField(source="topup.pk")
    amount = serializers.IntegerField(source="topup.amount", help_text="The fee, cents.")
    card_fee = serializers.IntegerField(source="topup.fee", help_text="Charged on top by the card payment, cents (shown before paying).")
    total = serializers.IntegerField(source="topup.total_charged", help_text="What the card is charged, cents.")
    currency = serializers.SerializerMethodField()
    client_secret = serializers.CharField(help_text="Confirm the PaymentIntent with Stripe.js using this.")
    publishable_key = serializers.CharField()

    def get_currency(self, started) -> str:
        return "AUD"
