"""The baseline's two tables. Unmanaged: bench.datagen creates them, and only config.settings_bench installs this app."""

from django.db import models


class BenchCounter(models.Model):
    id = models.IntegerField(primary_key=True)
    value = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "bench_counter"


class BenchLog(models.Model):
    id = models.BigAutoField(primary_key=True)
    counter_id = models.IntegerField()
    value = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bench_log"
