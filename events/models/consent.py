"""Consent evidence: append-only records, hash-chained per event.

Each record's `record_hash` is SHA-256 over the previous record's hash and the
record's canonical content (see `events.chain`). PostgreSQL refuses UPDATE and
DELETE of records (migration 0002); `ConsentEventChain` is the per-event row whose
lock serialises appends, so two sign-ups can never both follow the same record,
and sign-ups to different events of one school never wait for each other.

Records signed before per-event chains (`event_chain` false) stay in their
school's chain (`ConsentChain`), which is verified as it was and no longer grows.

A record holds what the guardian gave: the strokes they drew, not a picture of them. Its documents
(the signature's PNG and the consent PDF) are rendered from it once, after the sign-up has answered,
and kept with their hashes in `ConsentDocument` (events/documents.py). Records signed before that
(canonical version 2, events/chain.py) also hold the PNG and its hash themselves.
"""

from django.db import models

from core import clock
from guardians.models import Guardian, GuardianLink, School, Student

GENESIS_HASH = "0" * 64


class ConsentChain(models.Model):
    """The head of a school's chain. Only a lock and a cache: verification trusts the records, not this row."""

    school = models.OneToOneField(School, on_delete=models.PROTECT, primary_key=True, related_name="consent_chain")
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(default=clock.now)


class ConsentEventChain(models.Model):
    """The head of an event's chain. Only a lock and a cache: verification trusts the records, not this row."""

    event = models.OneToOneField("events.Event", on_delete=models.PROTECT, primary_key=True, related_name="consent_chain")
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(default=clock.now)


class ConsentRecord(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField(help_text="1, 2, 3... within the event's chain (the school's, for legacy records).")
    event_chain = models.BooleanField(default=True, help_text="Chained per event; false: in the school's legacy chain.")
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="consents")
    signup = models.OneToOneField("events.Signup", on_delete=models.PROTECT, related_name="consent")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(GuardianLink, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    form_version = models.ForeignKey("events.ConsentFormVersion", on_delete=models.PROTECT, related_name="consents")
    form_hash = models.CharField(max_length=64)
    answers = models.JSONField()
    signature_strokes = models.JSONField()
    signature_png = models.BinaryField()
    signature_png_sha256 = models.CharField(max_length=64)
    typed_name = models.CharField(max_length=160)
    statement = models.TextField(help_text="The exact consent statement the guardian ticked.")
    signed_at = models.DateTimeField()
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    # Set when the retention job de-identified the record (guardians/retention.py): the personal facts
    # are blanked, the hashes and links stay, so the chain still verifies (events/chain.py).
    deidentified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["school", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "sequence"], condition=models.Q(event_chain=False), name="consent_sequence_unique_per_school"
            ),
            models.UniqueConstraint(fields=["event", "sequence"], condition=models.Q(event_chain=True), name="consent_sequence_unique_per_event"),
        ]

    def __str__(self):
        return f"consent #{self.sequence} ({self.school_id})"


class ConsentDocument(models.Model):
    """A consent record's documents, rendered once from it (events/documents.py) and served as stored,
    so every download is the same bytes. PostgreSQL refuses UPDATE (migration 0007); the one DELETE is
    a leaver's de-identification, which takes the personal facts these documents show with it."""

    record = models.OneToOneField(ConsentRecord, on_delete=models.PROTECT, primary_key=True, related_name="document")
    signature_png = models.BinaryField()
    signature_png_sha256 = models.CharField(max_length=64)
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    rendered_at = models.DateTimeField()

    def __str__(self):
        return f"documents of consent {self.record_id}"
