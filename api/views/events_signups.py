"""Guardians sign up (consent with a drawn signature), pay (wallet or card), decline and withdraw; consent documents."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.pagination import CursorPage
from api.permissions import IsGuardian, IsGuardianOrStaff, IsSchoolStaff
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.events import (
    ConsentRecordOutput,
    SignupCardPaymentOutput,
    SignupCreateInput,
    SignupDeclineInput,
    SignupOutput,
    SignupPaymentOutput,
    SignupWithdrawOutput,
)
from api.views.events_common import FORM_HASH, SIGNUP_EXAMPLE, TAG_SIGNUPS, client_ip
from events import selectors, services
from events.documents import consent_document
from events.errors import SignatureRemoved
from events.models import Signup
from guardians.models import GuardianLink
from guardians.selectors import active_link, guardian_for_user
from wallet import accounts

SIGN_CODES = {
    403: ["permission_missing"],
    404: ["event_not_found"],
    409: ["event_not_open", "form_version_stale", "already_signed_up", "waitlist_full", "lock_timeout"],
    422: [
        "signup_deadline_passed",
        "student_not_eligible",
        "student_left",
        "answers_invalid",
        "signature_empty",
        "signature_too_large",
        "signature_invalid",
        "consent_statement_required",
        "typed_name_invalid",
    ],
}
PAY_CODES = {
    402: ["insufficient_funds"],
    404: ["signup_not_found"],
    409: ["signup_not_payable", "signup_already_paid"],
    422: ["payment_deadline_passed"],
}
SIGNATURE_EXAMPLE = {"width": 600, "height": 200, "strokes": [[[40, 150], [60, 90], [95, 140], [130, 70]], [[160, 120], [240, 118]]]}
PAYMENT_EXAMPLE = {"signup": {**SIGNUP_EXAMPLE, "status": "confirmed", "amount_paid": 2500, "payment_method": "wallet", "paid_at": "2026-11-28T03:05:00Z", "payment_due_at": "2026-12-04T06:00:00Z"}, "transaction_id": 812, "wallet_balance": 1750}
CONSENT_EXAMPLE = {
    "id": 12,
    "sequence": 17,
    "event_id": 5,
    "signup_id": 31,
    "student_id": 7,
    "guardian_name": "Olivia Nguyen",
    "link_id": 3,
    "form_version": 1,
    "form_hash": FORM_HASH,
    "answers": [{"key": "photo_ok", "label": "May the school publish photos of your child?", "type": "yes_no", "answer": True, "withheld": False}],
    "typed_name": "Olivia Nguyen",
    "statement": "I give permission for my child to attend, and for staff to seek medical help if needed.",
    "signed_at": "2026-11-28T03:00:00.123456Z",
    "ip_address": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (iPhone)",
    "signature_png_sha256": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
    "previous_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "record_hash": "5be0c1f3a6d8e2b4c7f9a1d3e5b7c9f1a3d5e7b9c1f3a5d7e9b1c3f5a7d9e1b3",
    "document_sha256": "0c1f3a6d8e2b4c7f9a1d3e5b7c9f1a3d5e7b9c1f3a5d7e9b1c3f5a7d9e1b35be",
}


def _guardian_signup(request, signup_id: int) -> Signup:
    """A sign-up of one of the caller's linked children, or 404."""
    guardian = guardian_for_user(request.user)
    return get_object_or_404(
        Signup.objects.filter(student__guardian_links__guardian=guardian, student__guardian_links__revoked_at__isnull=True).distinct(),
        pk=signup_id,
    )


def _link_or_404(request, student_id: int) -> GuardianLink:
    link = active_link(guardian=guardian_for_user(request.user), student_id=student_id)
    if link is None:
        raise Http404
    return link


class SignupCreateView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="signup_create",
        tags=[TAG_SIGNUPS],
        summary="Sign the consent form and sign a child up",
        description="Needs the consent permission on the link to the child. Send the hash of the form version "
        "shown (`consent_form.hash`), the answers by question key, the signature as drawn (vector strokes; the "
        "server renders the PNG), the typed full name, and `consent_statement_accepted: true`. The consent record "
        "(with IP address, user agent and time) is appended to the event's hash chain. With a place free the "
        "child is `confirmed` (free event) or `awaiting_payment` until the sign-up deadline; when full the child "
        "goes on the `waitlisted` list (not an error), unless the waitlist is capped and full.",
        request=SignupCreateInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={201: SignupOutput, **problems(400, 404, SIGN_CODES, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample(
                "Sign",
                value={
                    "student_id": 7,
                    "form_hash": FORM_HASH,
                    "answers": {"allergies": "Peanuts (EpiPen in bag)", "photo_ok": True},
                    "signature": SIGNATURE_EXAMPLE,
                    "typed_name": "Olivia Nguyen",
                    "consent_statement_accepted": True,
                },
                request_only=True,
            ),
            OpenApiExample("Place held", value=SIGNUP_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, event_id: int):
        data = SignupCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        link = _link_or_404(request, values["student_id"])
        signup = services.signup_sign(
            event_id=event_id,
            link=link,
            form_hash=values["form_hash"],
            answers=values["answers"],
            signature=dict(values["signature"]),
            typed_name=values["typed_name"],
            statement_accepted=values["consent_statement_accepted"],
            evidence=services.Evidence(ip_address=client_ip(request), user_agent=request.headers.get("User-Agent", "")),
        )
        return Response(SignupOutput(signup).data, status=status.HTTP_201_CREATED)


class SignupDeclineView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="signup_decline",
        tags=[TAG_SIGNUPS],
        summary="Say a child is not going",
        description="Records the answer so the school stops reminding you. You can still sign up later, before the deadline.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=SignupDeclineInput,
        responses={201: SignupOutput, **problems(400, 404, {403: ["permission_missing"], 404: ["event_not_found"], 409: ["event_not_open", "already_signed_up"], 422: ["student_not_eligible"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Decline", value={"student_id": 7}, request_only=True),
            OpenApiExample("Declined", value={**SIGNUP_EXAMPLE, "status": "declined", "payment_due_at": None, "amount_due": 0, "consent_id": None}, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, event_id: int):
        data = SignupDeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        signup = services.signup_decline(event_id=event_id, link=_link_or_404(request, data.validated_data["student_id"]))
        return Response(SignupOutput(signup).data, status=status.HTTP_201_CREATED)


class SignupListView(GenericAPIView):
    permission_classes = [IsGuardianOrStaff]
    pagination_class = CursorPage
    queryset = Signup.objects.none()
    filter_backends = []

    @extend_schema(
        operation_id="signup_list",
        tags=[TAG_SIGNUPS],
        summary="Sign-ups I can see",
        description="Guardians: their linked children's sign-ups; staff: their school's. Newest first.",
        responses={200: SignupOutput(many=True), **problems(403)},
        examples=[OpenApiExample("A sign-up", value=SIGNUP_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.signups_visible_to(request.user).select_related("consent").order_by("-id"))
        return self.get_paginated_response(SignupOutput(page, many=True).data)


def payment_response(signup: Signup, payer) -> Response:
    payload = {"signup": signup, "transaction_id": signup.payment_transaction_id, "wallet_balance": accounts.guardian_wallet(payer).balance}
    return Response(SignupPaymentOutput(payload).data, status=status.HTTP_201_CREATED)


PAY_DESCRIPTION = (
    "Pays the held place's fee from the guardian's wallet (one ledger transaction, wallet to the event's fees "
    "account) and confirms the place. Any guardian linked to the child may pay. Refused after the payment "
    "deadline (`payment_due_at`, checked at request time): the place then goes to the next family."
)


class SignupPayView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="signup_pay",
        tags=[TAG_SIGNUPS],
        summary="Pay an event fee from my wallet",
        description=PAY_DESCRIPTION,
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={201: SignupPaymentOutput, **problems(404, PAY_CODES, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[OpenApiExample("Paid", value=PAYMENT_EXAMPLE, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, signup_id: int):
        signup = _guardian_signup(request, signup_id)
        payer = guardian_for_user(request.user)
        signup = services.signup_pay_wallet(signup_id=signup.pk, payer=payer, actor=f"user:{request.user.pk}")
        return payment_response(signup, payer)


class SignupWithdrawView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="signup_withdraw",
        tags=[TAG_SIGNUPS],
        summary="Withdraw a child",
        description="Needs the consent permission. Before the sign-up deadline a paid fee is refunded to the wallet "
        "that paid, at the event's `refund_percent`; after it, a paid place cannot be withdrawn here (the school "
        "decides). Waitlist spots and unpaid places can be given up until the event starts. A freed place is offered "
        "to the next family on the waitlist.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            200: SignupWithdrawOutput,
            **problems(404, {403: ["permission_missing"], 404: ["signup_not_found"], 409: ["withdrawal_closed", "signup_state_invalid"]}, IDEMPOTENCY_REQUIRED_PROBLEMS),
        },
        examples=[OpenApiExample("Withdrawn", value={"signup": {**PAYMENT_EXAMPLE["signup"], "status": "withdrawn", "refunded_amount": 2500}, "refunded": 2500}, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, signup_id: int):
        signup = _guardian_signup(request, signup_id)
        link = _link_or_404(request, signup.student_id)
        signup, refund = services.signup_withdraw(signup_id=signup.pk, link=link, actor=f"user:{request.user.pk}")
        return Response(SignupWithdrawOutput({"signup": signup, "refunded": refund}).data)


CARD_CODES = {
    404: ["signup_not_found"],
    409: ["signup_not_payable", "topup_not_pending"],
    422: ["payment_deadline_passed", "amount_out_of_range", "payment_gateway_unavailable"],
}
CARD_DESCRIPTION = (
    "Starts a Stripe PaymentIntent for the fee (plus any card fee, shown here before paying); confirm it with "
    "Stripe.js using `client_secret`. When Stripe's verified webhook reports the payment, the money lands in the "
    "payer's wallet and pays the fee at once, confirming the place. If the place has gone by then (deadline "
    "passed, event cancelled), the money stays in the wallet. The same Idempotency-Key returns the same PaymentIntent."
)
CARD_EXAMPLE = {
    "signup_id": 31,
    "topup_id": 88,
    "amount": 2500,
    "card_fee": 0,
    "total": 2500,
    "currency": "AUD",
    "client_secret": "pi_3Q..._secret_...",
    "publishable_key": "pk_test_...",
}


class SignupCardPaymentView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="signup_card_payment",
        tags=[TAG_SIGNUPS],
        summary="Pay an event fee by card",
        description=CARD_DESCRIPTION,
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={201: SignupCardPaymentOutput, **problems(404, CARD_CODES, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[OpenApiExample("PaymentIntent", value=CARD_EXAMPLE, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, signup_id: int):
        signup = _guardian_signup(request, signup_id)
        started = services.signup_card_payment_start(
            signup_id=signup.pk, payer=guardian_for_user(request.user), request_key=request.headers["Idempotency-Key"]
        )
        return Response(SignupCardPaymentOutput(started).data, status=status.HTTP_201_CREATED)


# --- Consent documents ---------------------------------------------------------


class GuardianOrMedicalStaff(BasePermission):
    """Signed consents carry medical answers: staff outside EVENTS_MEDICAL_ROLES are turned away at
    the door (403) rather than told their own school's consent does not exist."""

    message = "Only guardians and staff who may see medical answers can read signed consents."

    def has_permission(self, request, view):
        return IsGuardian().has_permission(request, view) or (
            IsSchoolStaff().has_permission(request, view) and selectors.can_see_medical(request.user)
        )


def _consent(request, consent_id: int):
    return get_object_or_404(selectors.consents_visible_to(request.user), pk=consent_id)


class ConsentDetailView(APIView):
    permission_classes = [GuardianOrMedicalStaff]

    @extend_schema(
        operation_id="consent_retrieve",
        tags=[TAG_SIGNUPS],
        summary="A signed consent and its evidence",
        description="For the child's guardians, and the school's staff in the roles that may see medical answers.",
        responses={200: ConsentRecordOutput, **problems(403, 404)},
        examples=[OpenApiExample("Consent", value=CONSENT_EXAMPLE, response_only=True)],
    )
    def get(self, request, consent_id: int):
        record = _consent(request, consent_id)
        document = consent_document(record)
        record.answers_display = selectors.answers_for_display(record, include_medical=True)
        # A de-identified record has no image left; one signed before version 3 still holds its hash.
        record.signature_image_sha256 = document.signature_png_sha256 or record.signature_png_sha256
        record.document_sha256 = document.pdf_sha256
        return Response(ConsentRecordOutput(record).data)


class _FileView(APIView):
    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class ConsentPdfView(_FileView):
    permission_classes = [GuardianOrMedicalStaff]

    @extend_schema(
        operation_id="consent_pdf",
        tags=[TAG_SIGNUPS],
        summary="Download the signed consent (PDF)",
        description="The exact form, the answers, the signature and the evidence. Rendered once from the record, "
        "shortly after signing, and stored: every download is the same bytes, and their SHA-256 is in the `ETag` "
        "and in `document_sha256`.",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="A PDF document.",
                examples=[OpenApiExample("PDF", value="%PDF-1.4 ...", media_type="application/pdf", response_only=True)],
            ),
            **problems(403, 404),
        },
    )
    def get(self, request, consent_id: int):
        record = _consent(request, consent_id)
        document = consent_document(record)
        response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="consent-{record.pk}.pdf"'
        response["ETag"] = f'"{document.pdf_sha256}"'
        response["Cache-Control"] = "private, no-store"
        return response


class ConsentSignatureView(_FileView):
    permission_classes = [GuardianOrMedicalStaff]

    @extend_schema(
        operation_id="consent_signature_png",
        tags=[TAG_SIGNUPS],
        summary="The drawn signature (PNG)",
        description="As rendered by the server from the strokes the guardian drew, once, and stored. A consent "
        "de-identified after the retention period has no signature left: 404 `signature_removed`.",
        responses={
            (200, "image/png"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="A PNG image.",
                examples=[OpenApiExample("PNG", value="(binary PNG)", media_type="image/png", response_only=True)],
            ),
            **problems(403, 404, {404: ["signature_removed"]}),
        },
    )
    def get(self, request, consent_id: int):
        document = consent_document(_consent(request, consent_id))
        if not document.signature_png:
            raise SignatureRemoved()
        response = HttpResponse(bytes(document.signature_png), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response
