"""A guardian and a merchant terminal, in Chromium, against a live server on the test PostgreSQL
serving the committed build (tests/browser/driver.mjs drives them; see its header).

Each journey asserts what the screens showed and the server's own state: balances, holds, the
ledger, orders, consent records, redemption rows and card charges. Every main screen passes
axe-core (WCAG 2.1 A/AA and best practice) and no page logs a CSP violation or an error.
TUCKBOX_SCREENSHOTS=1 writes the screens to docs/screenshots/ (docs/apps.md shows them).
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import qrcode

from canteen.models import Order
from core import clock
from events.documents import consent_document
from events.models import ConsentRecord, Signup
from tests.browser import tools
from tests.browser.conftest import CARD
from tests.factories import give_card_money
from tests.integration.toolchain import ROOT, run
from vouchers.models import Redemption
from wallet import accounts
from wallet.models import CardCharge, SpendingControls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

DRIVER = Path(__file__).with_name("driver.mjs")


def drive(world, journey: str, work: Path, **extra) -> dict:
    shots = ROOT / "docs" / "screenshots" if os.environ.get("TUCKBOX_SCREENSHOTS") else work
    shots.mkdir(parents=True, exist_ok=True)
    config = {
        "journey": journey, "modules": str(tools.web_modules()), "chromium": str(tools.chromium()), "base_url": world.base_url,
        "email": world.email, "password": world.password, "work": str(work), "shots": str(shots), **extra,
    }
    done = run(["node", DRIVER, json.dumps(config)], timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "failed" not in seen, seen.get("failed", "")[-2000:] + "\n" + json.dumps(seen.get("at_failure"))[-3000:]
    assert seen["problems"] == [], seen["problems"]
    assert {name: v for name, v in seen["axe"].items() if v} == {}, json.dumps(seen["axe"], indent=1)[:4000]
    return seen


def test_a_guardian_tops_up_funds_caps_orders_signs_and_shows_a_voucher(world, eager_tasks, tmp_path):
    tomorrow = (clock.now().astimezone(ZoneInfo(world.school.time_zone)) + timedelta(days=1)).date()
    seen = drive(world, "guardian", tmp_path, order_day=tomorrow.isoformat())

    screens = seen["screens"]
    assert screens["wallet"] == "Available: $50.00"
    assert "Card balance: $10.00" in screens["card"] and "Weekly cap: $5.00" in screens["card"]
    assert "Contains peanut: Mia is allergic" in screens["satay_warning"]
    assert screens["allergen_refusal"].startswith("The order contains an allergen declared for this child.")
    assert "$6.50" in screens["order"]
    assert "1 × Chicken wrap" in screens["order_shown"] and "Cancel this order" in screens["order_shown"]
    assert "Signed up: confirmed" in screens["signup"]
    assert "Active Kids" in screens["voucher"] and "$100.00 left" in screens["voucher"]
    assert world.voucher.number in screens["voucher"].replace("-", "")  # shown in groups of five, as printed
    assert set(seen["axe"]) >= {"app-sign-in", "app-wallet", "app-card", "app-canteen", "app-event-consent", "app-vouchers", "app-announcements"}

    # The server's state: $50 in, $10 to the card, $25 to the excursion, $6.50 held for the wrap.
    wallet = accounts.guardian_wallet(world.link.guardian)
    wallet.refresh_from_db()
    card = accounts.student_card_account(world.student)
    assert (wallet.balance, wallet.held, card.balance) == (5000 - 1000 - 2500, 650, 1000)
    assert "Available: $8.50" in screens["wallet_after"] and "Held for pre-orders: $6.50" in screens["wallet_after"]
    assert SpendingControls.objects.get(student=world.student).weekly_cap == 500
    [order] = Order.objects.filter(student=world.student)
    assert (order.service_date, order.total, [line.menu_item_id for line in order.lines.all()]) == (tomorrow, 650, [world.wrap.pk])
    signup = Signup.objects.get(event=world.event, student=world.student)
    assert (signup.status, signup.amount_paid) == ("confirmed", 2500)
    consent = ConsentRecord.objects.get(signup=signup)
    assert consent.typed_name == "Olivia Nguyen" and consent.answers == {"photo_ok": True}
    assert consent.signature_strokes["width"] == 600 and sum(len(s) for s in consent.signature_strokes["strokes"]) > 10
    assert consent_document(consent).signature_png.startswith(b"\x89PNG")  # rendered from the strokes drawn


def test_a_terminal_redeems_the_apps_qr_voids_refuses_a_fake_and_charges_a_card(world, eager_tasks, tmp_path):
    give_card_money(world.student, 1000)
    fake = tmp_path / "fake-qr.png"
    qrcode.make("TBX1.bm90LWEtdm91Y2hlcg.ZmFrZS1zaWduYXR1cmU").save(fake)  # looks like ours, signed by nobody
    seen = drive(
        world, "terminal", tmp_path, terminal_key=world.terminal_key, fake_qr=str(fake), card=CARD,
        voucher_number=world.voucher.number, date_of_birth=world.student.date_of_birth.isoformat(),
    )

    assert seen["screens"]["bad_key"], "a wrong terminal key is refused in words"
    assert set(seen["axe"]) >= {"terminal-pair", "terminal-voucher", "terminal-voucher-preview", "terminal-voucher-redeemed", "terminal-voucher-fake",
                                "terminal-charge-approved", "terminal-charge-declined", "terminal-takings"}
    assert "Active Kids: Mia" in seen["screens"]["preview"] and "$100.00 left" in seen["screens"]["preview"]
    assert seen["redeemed"]["outcome"] == "approved" and "$25.00" in seen["redeemed"]["text"]
    assert seen["voided"]["outcome"] == "approved" and "Voided" in seen["voided"]["text"]
    assert (seen["fake"]["outcome"], seen["fake"]["code"]) == ("declined", "voucher_token_invalid")
    assert "NOT A VALID VOUCHER" in seen["fake"]["text"]
    assert seen["typed"]["outcome"] == "approved" and "$30.00" in seen["typed"]["text"]
    assert seen["charged"]["outcome"] == "approved" and "$6.00 left on the card" in seen["charged"]["text"]
    assert (seen["declined"]["outcome"], seen["declined"]["code"]) == ("declined", "insufficient_funds")
    assert "There is not enough money available." in seen["declined"]["text"]
    assert seen["takings"] == {"cards": "Cards: 1 sales, $4.00 after refunds", "vouchers": "Vouchers: 1 redemptions, $30.00"}

    # The server's state: the scanned redemption voided, the typed one standing, one charge.
    redemptions = list(Redemption.objects.filter(terminal__merchant=world.merchant).order_by("pk").values_list("amount", "voided_at"))
    assert [amount for amount, _ in redemptions] == [2500, 3000]
    assert redemptions[0][1] is not None and redemptions[1][1] is None
    world.voucher.refresh_from_db()
    assert world.voucher.remaining_value == 7000
    charges = list(CardCharge.objects.filter(student=world.student).values_list("amount", "categories", "description"))
    assert charges == [(400, ["canteen"], "Banana bread")]
    assert accounts.student_card_account(world.student).balance == 600
