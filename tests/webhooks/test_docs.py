"""docs/api.md tells integrators the truth about our webhooks."""

import base64
import json
import re
from datetime import UTC, datetime

import time_machine

from core.webhooks.delivery import RETRY_DELAYS
from core.webhooks.event_types import EVENT_TYPES, PING
from core.webhooks.signing import secret_from_legacy, secret_generate, secret_is_standard, signature_headers
from tests.webhooks.receiver import API_GUIDE


def test_the_guide_names_every_event_type():
    guide = API_GUIDE.read_text()
    assert [name for name in [*EVENT_TYPES, PING.name] if f"`{name}`" not in guide] == []


def _example_delivery(guide: str) -> tuple[dict[str, str], bytes]:
    headers = dict(re.findall(r"^(webhook-[a-z]+): (.+)$", guide, re.M))
    body = re.search(r"\n(\{\"api_version\".*\})\n", guide).group(1).encode()
    return headers, body


def test_the_guides_example_delivery_verifies_with_its_recipe(verify_recipe):
    guide = API_GUIDE.read_text()
    headers, body = _example_delivery(guide)
    secret = re.search(r"the secret `(whsec_[A-Za-z0-9+/=]+)` gives", guide).group(1)
    assert sorted(headers) == ["webhook-id", "webhook-signature", "webhook-timestamp"]
    assert headers["webhook-id"] == json.loads(body)["id"]
    with time_machine.travel(int(headers["webhook-timestamp"]) + 60, tick=False):
        assert verify_recipe(headers, body, secret) == json.loads(body)
        assert verify_recipe(headers, body, secret_generate()) is None
        assert verify_recipe(headers, body.replace(b"350", b"351"), secret) is None


def test_the_guides_example_is_what_we_would_send():
    """The test vector is made by our signing, so it proves integrators' libraries and ours agree."""
    headers, body = _example_delivery(API_GUIDE.read_text())
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example secret
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert signature_headers(message_id=headers["webhook-id"], signing_secrets=[secret], timestamp=at, body=body) == headers


def test_a_legacy_secret_converts_to_the_same_key_as_the_guide_says():
    legacy = "whsec_3q2-7w9Kx1YbQ0Zt5VnM8pLr4sD6fHjA2cE0gI9kO1u"
    converted = secret_from_legacy(legacy)
    assert not secret_is_standard(legacy) and secret_is_standard(converted)
    assert converted == "whsec_" + base64.b64encode(legacy.encode()).decode()  # the formula docs/api.md gives
    assert secret_is_standard(secret_generate())


def test_the_guide_states_the_retry_schedule():
    guide = API_GUIDE.read_text()
    hours = sum(delay.total_seconds() for delay in RETRY_DELAYS) / 3600
    assert f"{len(RETRY_DELAYS) + 1} attempts over about three days ({hours:.1f} hours)" in guide
