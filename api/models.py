from django.db import models

from core import clock


class IdempotencyRecord(models.Model):
    """The first response to a (caller, Idempotency-Key) pair, kept so retries replay it.

    While `status_code` is null the first request is still running (or died:
    `locked_at` older than the lease lets a retry take over).
    """

    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_headers = models.JSONField(default=dict)
    locked_at = models.DateTimeField(default=clock.now)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_unique_per_caller")]
