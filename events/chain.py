"""The per-event hash chains of consent records.

record_hash = SHA-256( previous_hash || "\n" || canonical content )

The canonical content is every fact of the record (who, under which link, for
which student, which form version and its hash, the answers, the strokes (and,
in version 2 records, the PNG's hash), the typed name and statement, when, from where) as sorted-key
JSON. Appending (events/services/signup_place.py) takes the event's `ConsentEventChain` row
lock, so concurrent sign-ups to one event queue and its chain never forks, while sign-ups to
other events of the school append to their own chains at the same time. Records from
before per-event chains (version 1) form their school's chain, verified as before. Verifying recomputes every hash from
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

from events.canonical import canonical_json, sha256_hex
from events.consent_forms import form_content_hash
from events.models import GENESIS_HASH, ConsentChain, ConsentEventChain, ConsentRecord
from guardians.models import School

# 1: the school's chain (legacy, no longer appended); 2: the event's chain, with the hash of the
# signature's PNG, rendered while the guardian waited; 3: the event's chain, the strokes alone (the
# PNG is rendered afterwards, into the record's ConsentDocument: events/documents.py). A version 2
# record is the one that holds a PNG hash: the database keeps that column as written, de-identified
# or not (events migration 0003), so the version is read off the record and needs no column.
SCHOOL_CHAIN_VERSION = 1
PNG_IN_RECORD_VERSION = 2
CANONICAL_VERSION = 3


def canonical_version(record: ConsentRecord) -> int:
    if not record.event_chain:
        return SCHOOL_CHAIN_VERSION
    return PNG_IN_RECORD_VERSION if record.signature_png_sha256 else CANONICAL_VERSION


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def record_content(record: ConsentRecord) -> dict:
    version = canonical_version(record)
    content = {
        "v": version,
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
    if version == CANONICAL_VERSION:
        del content["signature_png_sha256"]  # the image is not part of the record; the strokes are
    return content


def record_hash(record: ConsentRecord, previous_hash: str) -> str:
    return sha256_hex(previous_hash.encode() + b"\n" + canonical_json(record_content(record)))


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
    """Recompute every chain of a school: the legacy school chain and each event's. Every mismatch
    is reported, chain by chain, in sequence order. `head_hash` is the school's latest record's hash."""
    report = ChainReport(school_id=school.pk)
    form_hashes: dict[int, str] = {}
    records = ConsentRecord.objects.filter(school=school).select_related("form_version")
    _verify_chain(report, records.filter(event_chain=False).order_by("sequence"), form_hashes)
    legacy = ConsentChain.objects.filter(school=school).first()
    if legacy is not None and (legacy.length, legacy.head_hash) != (report.records, report.head_hash):
        report.problems.append({"sequence": None, "record_id": None, "code": "head_mismatch", "detail": "the chain head does not match the last record"})
    heads = {chain.event_id: chain for chain in ConsentEventChain.objects.filter(event__school=school)}
    event_ids = records.filter(event_chain=True).order_by("event_id").values_list("event_id", flat=True).distinct()
    for event_id in list(event_ids):
        counted = report.records
        head = _verify_chain(report, records.filter(event_chain=True, event_id=event_id).order_by("sequence"), form_hashes)
        chain = heads.get(event_id)
        if chain is not None and (chain.length, chain.head_hash) != (report.records - counted, head):
            report.problems.append({"sequence": None, "record_id": None, "code": "head_mismatch", "detail": f"the head of event {event_id}'s chain does not match its last record"})
    latest = ConsentRecord.objects.filter(school=school).order_by("-signed_at", "-pk").values_list("record_hash", flat=True).first()
    report.head_hash = latest or GENESIS_HASH
    return report


def _verify_chain(report: ChainReport, records, form_hashes: dict[int, str]) -> str:
    """Check one chain's records (in sequence order) into `report`; return the chain's head hash."""
    previous = GENESIS_HASH
    expected_sequence = 1
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
        elif canonical_version(record) != CANONICAL_VERSION and sha256_hex(bytes(record.signature_png)) != record.signature_png_sha256:
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
    return previous
