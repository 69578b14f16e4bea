"""Event rosters for staff: JSON, CSV and PDF, with medical answers only for the roles allowed them."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsSchoolStaff
from api.schema import problems
from api.serializers.events import RosterOutput
from api.views.events_common import TAG_STAFF, staff_event
from core import clock
from core.money import format_dollars
from events import selectors
from events.pdf import roster_pdf

ROSTER_EXAMPLE = {
    "event_id": 5,
    "title": "Year 4 museum excursion",
    "medical_visible": False,
    "counts": {
        "confirmed": 40, "awaiting_payment": 1, "offered": 0, "waitlisted": 0, "declined": 3, "withdrawn": 1,
        "lapsed": 0, "cancelled": 0, "not_responded": 12, "places_taken": 41, "places_left": 19,
    },
    "questions": [{"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "required": False, "choices": []}],
    "rows": [
        {
            "signup_id": 31,
            "student": {"id": 7, "first_name": "Mia", "last_name": "Nguyen", "year_level": 4, "roll_class": "4B"},
            "status": "confirmed",
            "consent": {"record_id": 12, "typed_name": "Olivia Nguyen", "signed_by": "Olivia Nguyen", "signed_at": "2026-11-28T03:00:00Z"},
            "payment": {"amount_due": 2500, "amount_paid": 2500, "refunded_amount": 0, "method": "wallet", "payment_due_at": None},
            "answers": [{"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "answer": None, "withheld": True}],
            "attendance": "",
        }
    ],
    "not_responded": [{"id": 9, "first_name": "Leo", "last_name": "Park", "year_level": 4, "roll_class": "4A"}],
}


def _roster(request, event_id: int) -> dict:
    event = staff_event(request, event_id)
    return selectors.event_roster(event=event, include_medical=selectors.can_see_medical(request.user))


ROSTER_DESCRIPTION = (
    "Every eligible student: the latest sign-up's status, the consent (who signed, when), payment, answers and "
    "attendance, then those who have not answered. Medical answers are shown only to the roles in "
    "EVENTS_MEDICAL_ROLES (admin and teacher by default); others see `withheld: true`. Any staff of the school."
)


class EventRosterView(APIView):
    permission_classes = [IsSchoolStaff]

    @extend_schema(
        operation_id="event_roster",
        tags=[TAG_STAFF],
        summary="Roster (JSON)",
        description=ROSTER_DESCRIPTION,
        responses={200: RosterOutput, **problems(403, 404)},
        examples=[OpenApiExample("Roster", value=ROSTER_EXAMPLE, response_only=True)],
    )
    def get(self, request, event_id: int):
        return Response(RosterOutput(_roster(request, event_id)).data)


class _FileView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # The body is a file whatever the Accept header says; errors stay problem+json.
        return super().perform_content_negotiation(request, force=True)


# A cell starting with one of these is a formula to a spreadsheet; answers are typed by families.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


ROSTER_CSV_COLUMNS = [
    "signup_id", "student_number", "last_name", "first_name", "year_level", "roll_class", "status", "consent_signed_by",
    "consent_signed_at", "amount_due_cents", "amount_paid_cents", "refunded_cents", "amount_paid_dollars", "attendance",
]


def roster_csv(roster: dict) -> str:
    questions = roster["questions"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_CSV_COLUMNS + [f"q:{q['key']}" for q in questions])
    for row in roster["rows"]:
        signup, student, record = row["signup"], row["student"], row["consent"]
        answers = {answer["key"]: answer for answer in row["answers"]}
        cells = [
            signup.pk, student.student_number, student.last_name, student.first_name, student.year_level, student.roll_class,
            signup.status, record.typed_name if record else "", record.signed_at.isoformat() if record else "",
            signup.amount_due, signup.amount_paid, signup.refunded_amount, format_dollars(signup.amount_paid - signup.refunded_amount),
            signup.attendance,
        ]
        for question in questions:
            answer = answers.get(question["key"])
            cells.append("(withheld)" if answer and answer["withheld"] else (answer["answer"] if answer else None))
        writer.writerow([_cell(cell) for cell in cells])
    for student in roster["not_responded"]:
        writer.writerow([_cell(cell) for cell in ["", student.student_number, student.last_name, student.first_name, student.year_level, student.roll_class, "not_responded"]])
    return out.getvalue()


class EventRosterCsvView(_FileView):
    permission_classes = [IsSchoolStaff]

    @extend_schema(
        operation_id="event_roster_csv",
        tags=[TAG_STAFF],
        summary="Roster (CSV)",
        description=ROSTER_DESCRIPTION + " One column per question, named `q:<key>`.",
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="Columns: " + ", ".join(f"`{c}`" for c in ROSTER_CSV_COLUMNS) + ", then `q:<key>` per question.",
                examples=[
                    OpenApiExample(
                        "Roster CSV",
                        value=",".join(ROSTER_CSV_COLUMNS) + ",q:allergies\r\n31,HPS-0001,Nguyen,Mia,4,4B,confirmed,Olivia Nguyen,2026-11-28T03:00:00+00:00,2500,2500,0,25.00,,(withheld)\r\n",
                        media_type="text/csv",
                        response_only=True,
                    )
                ],
            ),
            **problems(403, 404),
        },
    )
    def get(self, request, event_id: int):
        response = HttpResponse(roster_csv(_roster(request, event_id)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="roster-{event_id}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class EventRosterPdfView(_FileView):
    permission_classes = [IsSchoolStaff]

    @extend_schema(
        operation_id="event_roster_pdf",
        tags=[TAG_STAFF],
        summary="Roster (PDF)",
        description=ROSTER_DESCRIPTION + " Landscape A4, for printing on the day.",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="A PDF document.",
                examples=[OpenApiExample("PDF", value="%PDF-1.4 ...", media_type="application/pdf", response_only=True)],
            ),
            **problems(403, 404),
        },
    )
    def get(self, request, event_id: int):
        response = HttpResponse(roster_pdf(_roster(request, event_id), generated_at=clock.now()), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="roster-{event_id}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
