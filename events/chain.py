"""The per-school hash chain of consent records.

record_hash = SHA-256( previous_hash || "\n" || canonical content )

The canonical content is every fact of the record (who, under which link, for
which student, which form version and its hash, the answers, the strokes and
the PNG's hash, the typed name and statement, when, from where) as sorted-key
JSON. Appending takes the school's `ConsentChain` row lock, so concurrent
sign-ups queue and the chain never forks. Verifying recomputes every hash from
the stored facts: any edit made behind the application's back (the table
refuses UPDATE, but a superuser can disable that) breaks the chain from that
record on.

A de-identified record (a leaver's, after the retention period: guardians/retention.py) keeps its
sequence, links and stored `record_hash`, the hash of the original facts; the facts themselves are
gone, so verification checks its place in the chain (sequence, previous hash, the form it names)
and counts it, and the records after it still verify in full against its stored hash.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection

from events.canonical import canonical_json, sha256_hex
from events.consent_forms import form_content_hash
from events.models import GENESIS_HASH, ConsentChain, ConsentRecord
from guardians import clock
from guardians.models import School

CANONICAL_VERSION = 1


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def record_content(record: ConsentRecord) -> dict:
    return {
        "v": CANONICAL_VERSION,
        "school_id": record.school_id,
        "sequence": record.sequence,
        "event_id": record.event_id,
        "signup_id": record.signup_id,
        "guardian_id": record.guardian_id,
        "link_id": record.link_id,
        "student_id": record.student_id,
        "form_version_id": record.form_version_id,
        "form_hash": record.form_hash,
        "answers": record.answers,
        "signature_strokes": record.signature_strokes,
        "signature_png_sha256": record.signature_png_sha256,
        "typed_name": record.typed_name,
        "statement": record.statement,
        "signed_at": _instant(record.signed_at),
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
    }


def record_hash(record: ConsentRecord, previous_hash: str) -> str:
    return sha256_hex(previous_hash.encode() + b"\n" + canonical_json(record_content(record)))


def _lock_chain(school: School) -> ConsentChain:
    if not connection.in_atomic_block:
        raise RuntimeError("the consent chain is appended inside transaction.atomic()")
    ConsentChain.objects.get_or_create(school=school)
    return ConsentChain.objects.select_for_update().get(school=school)


def consent_append_locked(record: ConsentRecord) -> ConsentRecord:
    """Give `record` (unsaved, all facts set) its place in the school's chain and save it.

    Takes the chain lock; the caller's transaction holds it until commit.
    """
    chain = _lock_chain(record.school)
    record.sequence = chain.length + 1
    record.previous_hash = chain.head_hash
    record.signature_png_sha256 = sha256_hex(bytes(record.signature_png))
    # What the database will give back: microseconds, UTC.
    record.signed_at = record.signed_at.astimezone(UTC)
    record.record_hash = record_hash(record, record.previous_hash)
    record.save(force_insert=True)
    ConsentChain.objects.filter(pk=chain.pk).update(length=record.sequence, head_hash=record.record_hash, updated_at=clock.now())
    return record


@dataclass
class ChainReport:
    school_id: int
    records: int = 0
    head_hash: str = GENESIS_HASH
    deidentified: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def consent_chain_verify(*, school: School) -> ChainReport:
    """Recompute the whole chain of a school. Every mismatch is reported, in sequence order."""
    report = ChainReport(school_id=school.pk)
    previous = GENESIS_HASH
    expected_sequence = 1
    form_hashes: dict[int, str] = {}
    records = ConsentRecord.objects.filter(school=school).select_related("form_version").order_by("sequence")
    for record in records.iterator(chunk_size=200):
        report.records += 1

        def problem(code: str, detail: str, record=record):
            report.problems.append({"sequence": record.sequence, "record_id": record.pk, "code": code, "detail": detail})

        if record.sequence != expected_sequence:
            problem("sequence_gap", f"expected sequence {expected_sequence}")
        if record.previous_hash != previous:
            problem("previous_hash_mismatch", "the record does not follow the one before it")
        if record.deidentified_at is not None:
            report.deidentified += 1
        elif sha256_hex(bytes(record.signature_png)) != record.signature_png_sha256:
            problem("signature_image_changed", "the signature image does not match its hash")
        version = record.form_version
        if version.pk not in form_hashes:
            form_hashes[version.pk] = form_content_hash(version.content)
        if form_hashes[version.pk] != version.content_hash or record.form_hash != version.content_hash:
            problem("form_changed", "the consent form no longer matches the hash that was signed")
        if record.deidentified_at is None and record_hash(record, record.previous_hash) != record.record_hash:
            problem("record_changed", "the record's content does not match its hash")
        previous = record.record_hash
        expected_sequence = record.sequence + 1
    report.head_hash = previous
    chain = ConsentChain.objects.filter(school=school).first()
    if chain is not None and (chain.length != report.records or chain.head_hash != previous):
        report.problems.append({"sequence": None, "record_id": None, "code": "head_mismatch", "detail": "the chain head does not match the last record"})
    return report
