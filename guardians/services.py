"""Writes for people and links. Functions are `<entity>_<verb>` with keyword-only arguments."""

import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import audit_record
from core import clock
from guardians.contact_details import phone_to_e164, postcode_check
from guardians.errors import (
    AlreadyLinked,
    EmailTaken,
    LinkCodeExpired,
    LinkCodeInvalid,
    LinkCodeUsed,
    PermissionMissing,
    RelationshipInvalid,
)
from guardians.models import Guardian, GuardianLink, LinkCode, Relationship, Student, User

# Crockford base32 without I, L, O, U: nothing a parent can misread on a note home.
LINK_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LINK_CODE_LENGTH = 12  # 60 bits; guesses are throttled and codes expire.


def normalise_link_code(raw: str) -> str:
    cleaned = raw.upper().replace("-", "").replace(" ", "")
    return cleaned.replace("O", "0").replace("I", "1").replace("L", "1")


def _hash_link_code(raw: str) -> str:
    return hashlib.sha256(normalise_link_code(raw).encode()).hexdigest()


def _new_link_code() -> str:
    body = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    return "-".join(body[i : i + 4] for i in range(0, LINK_CODE_LENGTH, 4))


def guardian_register(
    *, email: str, password: str, first_name: str, last_name: str, phone: str = "", postcode: str = ""
) -> Guardian:
    """Create a user with a guardian profile. The caller has validated the password.
    The phone is stored as E.164 and the postcode as an Australian one (guardians/contact_details.py)."""
    phone, postcode = phone_to_e164(phone), postcode_check(postcode)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name, phone=phone
            )
            return Guardian.objects.create(user=user, postcode=postcode)
    except IntegrityError:  # the same address registered a moment ago
        raise EmailTaken() from None


def link_code_issue(*, student: Student, issued_by: User) -> tuple[LinkCode, str]:
    """School staff issue a code for a student; earlier unused school codes stop working."""
    raw = _new_link_code()
    now = clock.now()
    with transaction.atomic():
        revoked = LinkCode.objects.filter(
            student=student, kind=LinkCode.Kind.SCHOOL, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        code = LinkCode.objects.create(
            student=student,
            kind=LinkCode.Kind.SCHOOL,
            code_hash=_hash_link_code(raw),
            issued_by=issued_by,
            expires_at=now + settings.LINK_CODE_TTL,
        )
        # The code itself is shown once to the issuer and never stored, here or anywhere.
        audit_record(
            action="link_code.issue",
            object_type="guardians.link_code",
            object_id=code.pk,
            school_id=student.school_id,
            after={"student_id": student.pk, "kind": code.kind, "expires_at": code.expires_at},
            details={"revoked_earlier_codes": revoked},
            actor=issued_by,
        )
    return code, raw


def guardian_invite_issue(
    *, inviter_link: GuardianLink, grants_money: bool, grants_consent: bool
) -> tuple[LinkCode, str]:
    """A linked guardian invites another guardian; the invitee gets no more than the inviter has."""
    if not inviter_link.is_active:
        raise PermissionMissing("Your link to this student has been revoked.")
    if (grants_money and not inviter_link.can_manage_money) or (grants_consent and not inviter_link.can_give_consent):
        raise PermissionMissing("You cannot grant a permission that you do not hold.")
    raw = _new_link_code()
    now = clock.now()
    code = LinkCode.objects.create(
        student=inviter_link.student,
        kind=LinkCode.Kind.INVITE,
        code_hash=_hash_link_code(raw),
        issued_by=inviter_link.guardian.user,
        grants_money=grants_money,
        grants_consent=grants_consent,
        expires_at=now + settings.GUARDIAN_INVITE_TTL,
    )
    return code, raw


def link_code_redeem(*, guardian: Guardian, school_code: str, code: str, relationship: str) -> GuardianLink:
    """Claim a link with a code. The code must belong to a student of `school_code`.

    Single use is enforced by a guarded UPDATE, so two guardians racing for one code
    cannot both win.
    """
    code_hash = _hash_link_code(code)
    link_code = (
        LinkCode.objects.select_related("student__school").filter(code_hash=code_hash).first()
    )
    # A code from another school looks exactly like a wrong code: nothing to probe.
    if link_code is None or link_code.student.school.code != school_code.lower() or link_code.revoked_at:
        raise LinkCodeInvalid()
    now = clock.now()
    if link_code.used_at is not None:
        raise LinkCodeUsed()
    if link_code.expires_at <= now:
        raise LinkCodeExpired()
    if relationship not in Relationship.values:
        raise RelationshipInvalid()
    try:
        with transaction.atomic():
            claimed = LinkCode.objects.filter(pk=link_code.pk, used_at__isnull=True).update(used_at=now, used_by=guardian)
            if claimed != 1:
                raise LinkCodeUsed()
            return GuardianLink.objects.create(
                guardian=guardian,
                student=link_code.student,
                relationship=relationship,
                can_manage_money=link_code.grants_money,
                can_give_consent=link_code.grants_consent,
                origin=GuardianLink.Origin.SCHOOL_CODE
                if link_code.kind == LinkCode.Kind.SCHOOL
                else GuardianLink.Origin.INVITE,
            )
    except IntegrityError:
        raise AlreadyLinked() from None


def guardian_link_revoke(*, link: GuardianLink, revoked_by: User) -> GuardianLink:
    """End a link, and with it the unused invitations issued under it: otherwise the removed
    guardian (or whoever holds their code) could redeem one and be linked again."""
    now = clock.now()
    with transaction.atomic():
        ended = GuardianLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=revoked_by)
        LinkCode.objects.filter(
            student_id=link.student_id,
            kind=LinkCode.Kind.INVITE,
            issued_by_id=link.guardian.user_id,
            used_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now)
        if ended:  # a guardian dropping their own link is not a staff action: audit_record skips it
            audit_record(
                action="guardian_link.revoke",
                object_type="guardians.guardian_link",
                object_id=link.pk,
                school_id=link.student.school_id,
                before={"revoked_at": None},
                after={"revoked_at": now, "revoked_by_user_id": revoked_by.pk},
                details={"guardian_id": link.guardian_id, "student_id": link.student_id},
                actor=revoked_by,
            )
    link.refresh_from_db()
    return link


def user_profile_update(*, user: User, **fields) -> User:
    """Update a user's own details; postcode and notification choices live on the guardian profile."""
    user_fields = {k: fields.pop(k) for k in ("first_name", "last_name", "phone") if k in fields}
    if "phone" in user_fields:
        user_fields["phone"] = phone_to_e164(user_fields["phone"])
    if "postcode" in fields:
        fields["postcode"] = postcode_check(fields["postcode"])
    with transaction.atomic():
        for name, value in user_fields.items():
            setattr(user, name, value)
        if user_fields:
            user.save(update_fields=list(user_fields))
        if fields:
            Guardian.objects.filter(user=user).update(**fields)
    return user
