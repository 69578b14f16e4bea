"""The baseline: the framework's floor, measured in the same run as the scenarios.

One DRF view, no authentication, one transaction doing exactly what the cheapest
money path must do at least: SELECT ... FOR UPDATE a row, UPDATE it, INSERT a
log row, through the ORM as the application's code does. Served by the same
gunicorn, middleware and database as the real endpoints, so
`scenario rps / baseline rps` is what the domain code costs on top.
Routed only when settings.BENCH_ENABLED (config/settings_bench.py).
"""

import random

from django.db import transaction
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.models import BenchCounter, BenchLog
from core import clock

# Created by bench.datagen; many rows so that concurrent requests do not queue on one lock.
COUNTER_ROWS = 1024


class BaselineView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        with transaction.atomic():
            counter = BenchCounter.objects.select_for_update().get(pk=random.randrange(COUNTER_ROWS))
            counter.value += 1
            BenchCounter.objects.filter(pk=counter.pk).update(value=counter.value)
            BenchLog.objects.create(counter_id=counter.pk, value=counter.value, created_at=clock.now())
        return Response({"counter": counter.pk, "value": counter.value}, status=201)
