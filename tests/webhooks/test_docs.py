"""docs/api.md tells integrators the truth about our webhooks."""

import re

import time_machine

from core.webhooks.delivery import RETRY_DELAYS
from core.webhooks.event_types import EVENT_TYPES, PING
from tests.webhooks.receiver import API_GUIDE


def test_the_guide_names_every_event_type():
    guide = API_GUIDE.read_text()
    assert [name for name in [*EVENT_TYPES, PING.name] if f"`{name}`" not in guide] == []


def test_the_guides_example_delivery_verifies_with_its_recipe(verify_recipe):
    guide = API_GUIDE.read_text()
    signature = re.search(r"Tuckbox-Signature: (t=(\d+),v1=[0-9a-f]{64})", guide)
    body = re.search(r"\n(\{\"api_version\".*\})\n", guide).group(1).encode()
    with time_machine.travel(int(signature.group(2)) + 60, tick=False):
        assert verify_recipe({"Tuckbox-Signature": signature.group(1)}, body, "whsec_example")
        assert not verify_recipe({"Tuckbox-Signature": signature.group(1)}, body, "whsec_other")


def test_the_guide_states_the_retry_schedule():
    guide = API_GUIDE.read_text()
    hours = sum(delay.total_seconds() for delay in RETRY_DELAYS) / 3600
    assert f"{len(RETRY_DELAYS) + 1} attempts over about three days ({hours:.1f} hours)" in guide
