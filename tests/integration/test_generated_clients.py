"""Clients generated from the committed openapi/openapi.yaml work, as a third-party developer would use them.

- A Python client (openapi-python-client) drives the main journeys against a live server on
  PostgreSQL: sign-in, linking, a fake-gateway top-up, card funding and caps, a terminal
  charge, canteen pre-orders either side of the cut-off, webhooks, vouchers and events.
  Every step checks the generated attrs models, not raw JSON.
  It is generated with openapi/python-client.yaml, prints no warning (no operation or model is
  left out), and hands downloads (QR images, PDFs, CSV exports) back as `types.File`.
- TypeScript types (openapi-typescript) type-check with tsc, against code that uses them, and
  examples/typescript (openapi-fetch) is type-checked and run with node against the live server.
- The schema passes Spectral's OpenAPI ruleset without errors.

The tools are cached under var/client-generation/ (see toolchain.py); one that cannot be installed
fails these tests rather than skipping them. After the first run this module takes well under
two minutes.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import time_machine

from canteen.models import CanteenSettings, MenuItem
from tests.factories import TEST_PASSWORD, MerchantFactory, SchoolFactory, StaffFactory, StudentFactory
from tests.integration import toolchain
from tests.webhooks.receiver import Receiver, load_verify_recipe
from wallet.terminal_keys import terminal_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.client_generation]

MONDAY_MORNING = "2026-11-29T20:00:00Z"  # Monday 30 November 2026, 07:00 in Sydney
WEDNESDAY = date(2026, 12, 2)
WEDNESDAY_CUTOFF = "2026-12-01T21:30:00Z"  # Wednesday 08:30 in Sydney: the cut-off, exclusive
CARD_NUMBER = "04A1B2C3D4E5F6"


# --- Node tools, started first so they run while the Python client is generated ---------


@dataclass
class NodeRuns:
    out: Path
    typescript: subprocess.Popen | None = None
    spectral: subprocess.Popen | None = None
    failed: str = ""


@pytest.fixture(scope="module", autouse=True)
def node_runs(tmp_path_factory):
    """openapi-typescript and Spectral on the committed schema, in the background."""
    runs = NodeRuns(out=tmp_path_factory.mktemp("node"))
    try:
        bin_dir = toolchain.node_bin()
    except pytest.fail.Exception as failed:  # only the tests that need node fail, not the Python client's
        runs.failed = str(failed)
        yield runs
        return
    runs.typescript = toolchain.start([bin_dir / "openapi-typescript", toolchain.SCHEMA, "--output", runs.out / "tuckbox.ts"])
    runs.spectral = toolchain.start(
        [bin_dir / "spectral", "lint", toolchain.SCHEMA, "--ruleset", toolchain.ROOT / ".spectral.yaml", "--format", "json",
         "--output", runs.out / "spectral.json", "--quiet"]
    )
    yield runs
    for process in (runs.typescript, runs.spectral):
        if process.poll() is None:
            process.kill()
            process.wait()


# --- The generated Python client -------------------------------------------------------


@pytest.fixture(scope="module")
def tbx(tmp_path_factory):
    """The `tuckbox_client` package generated from the committed schema, imported."""
    out = tmp_path_factory.mktemp("python-client")
    said = toolchain.generate_python_client(out)
    assert said == [], "openapi-python-client warned (what it names is missing from the client):\n" + "\n".join(said)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("tuckbox_client")
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name == "tuckbox_client" or name.startswith("tuckbox_client.")]:
            del sys.modules[name]


def api(tbx, module: str):
    """An operation module of the generated client, e.g. api(tbx, "cards.card_fund")."""
    return importlib.import_module(f"tuckbox_client.api.{module}")


def models(tbx):
    return importlib.import_module("tuckbox_client.models")


def downloaded(tbx, result) -> bytes:
    """A download came back as the generated client's File; its bytes."""
    return ok(result, importlib.import_module("tuckbox_client.types").File).payload.read()


def ok(result, model):
    """The call answered with `model` (an attrs class of the generated client)."""
    assert isinstance(result, model), result
    return result


def refused(tbx, result, status: int, code: str):
    problem = ok(result, models(tbx).Problem)
    assert (problem.status, problem.code) == (status, code), problem
    return problem


def key() -> str:
    return str(uuid.uuid4())


@dataclass
class World:
    """What the school and the platform operator set up before anyone uses the API."""

    base_url: str
    school: object
    student: object
    staff_email: str
    terminal_key: str
    wrap: MenuItem
    juice: MenuItem


@pytest.fixture
def world(live_server, settings) -> World:
    settings.PAYMENT_GATEWAY = "fake"  # /simulate pays a top-up with a signed webhook, as Stripe would
    settings.STRIPE_WEBHOOK_SECRET = "whsec_client_generation_test"
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the webhook receiver below listens on 127.0.0.1
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    with time_machine.travel(MONDAY_MORNING, tick=False):
        school = SchoolFactory(name="Harbourside Public School", code="harbourside", time_zone="Australia/Sydney")
        merchant = MerchantFactory(school=school, name="Harbourside Canteen", categories=["canteen"])
        CanteenSettings.objects.create(school=school, merchant=merchant)
        staff = StaffFactory(school=school, roles=["admin"], user__email="admin@harbourside.example")
        _, terminal_key = terminal_create(merchant=merchant, label="Counter 1")
        return World(
            base_url=live_server.url,
            school=school,
            student=StudentFactory(school=school, first_name="Mia", last_name="Nguyen", year_level=4),
            staff_email=staff.user.email,
            terminal_key=terminal_key,
            wrap=MenuItem.objects.create(school=school, name="Chicken wrap", price=650, category="lunch"),
            juice=MenuItem.objects.create(school=school, name="Apple juice", price=300, category="drink"),
        )


def sign_in(tbx, world: World, email: str, password: str = TEST_PASSWORD):
    anonymous = tbx.Client(base_url=world.base_url, raise_on_unexpected_status=True)
    tokens = ok(
        api(tbx, "authentication.auth_token_create").sync(client=anonymous, body=models(tbx).SignInInputRequest(email=email, password=password)),
        models(tbx).TokenPairOutput,
    )
    return tbx.AuthenticatedClient(base_url=world.base_url, token=tokens.access, raise_on_unexpected_status=True), tokens


def terminal(tbx, world: World):
    return tbx.AuthenticatedClient(
        base_url=world.base_url, token=world.terminal_key, prefix="", auth_header_name="X-Terminal-Key", raise_on_unexpected_status=True
    )


def test_a_guardian_links_tops_up_funds_and_the_child_spends(tbx, world, eager_tasks):
    m = models(tbx)
    with Receiver() as receiver:
        with time_machine.travel(MONDAY_MORNING, tick=True):
            guardian_refresh = _before_the_cutoff(tbx, m, world, receiver)
        with time_machine.travel(WEDNESDAY_CUTOFF, tick=True):
            _after_the_cutoff(tbx, m, world, guardian_refresh)


def _before_the_cutoff(tbx, m, world, receiver) -> str:
    # The school admin signs in and issues a link code for Mia.
    staff, _ = sign_in(tbx, world, world.staff_email)
    code = ok(api(tbx, "guardian_links.link_code_issue").sync(world.student.pk, client=staff), m.LinkCodeOutput)
    assert (code.student_id, code.school_code, code.grants_money) == (world.student.pk, "harbourside", True)

    # The school's information system subscribes to top-ups, card charges and canteen orders.
    wanted = [m.WebhookEventTypeEnum.WALLET_TOPUP_SUCCEEDED, m.WebhookEventTypeEnum.CARD_CHARGED, m.WebhookEventTypeEnum.CANTEEN_ORDER_PLACED]
    subscription = ok(
        api(tbx, "webhooks.webhook_subscription_create").sync(
            client=staff,
            body=m.WebhookSubscriptionCreateInputRequest(url=receiver.url, event_types=wanted),
            idempotency_key=key(),
        ),
        m.WebhookSubscriptionSecretOutput,
    )
    assert subscription.secret.startswith("whsec_") and subscription.scope == "school"

    # A parent registers, signs in and links to Mia with the code.
    anonymous = tbx.Client(base_url=world.base_url, raise_on_unexpected_status=True)
    me = ok(
        api(tbx, "people.guardian_register").sync(
            client=anonymous,
            body=m.GuardianRegisterInputRequest(email="olivia@example.com", password=TEST_PASSWORD, first_name="Olivia", last_name="Nguyen"),
        ),
        m.MeOutput,
    )
    assert isinstance(me.guardian, m.GuardianProfileOutput) and me.staff is None
    guardian, guardian_tokens = sign_in(tbx, world, "olivia@example.com")
    link = ok(
        api(tbx, "guardian_links.link_redeem").sync(client=guardian, body=m.LinkRedeemInputRequest(school_code=code.school_code, code=code.code)),
        m.LinkOutput,
    )
    assert (link.student_id, link.can_manage_money, link.is_active) == (world.student.pk, True, True)

    # $50 by card: the fake gateway's /simulate delivers the signed webhook Stripe would.
    started = ok(
        api(tbx, "wallet.topup_create").sync(client=guardian, body=m.TopUpCreateInputRequest(amount=5000), idempotency_key=key()),
        m.TopUpCreateOutput,
    )
    assert (started.status, started.amount) == ("pending", 5000) and started.client_secret
    paid = ok(
        api(tbx, "wallet.topup_simulate").sync(started.id, client=guardian, body=m.TopUpSimulateInputRequest(outcome=m.OutcomeEnum.SUCCEEDED)),
        m.TopUpOutput,
    )
    assert (paid.status, paid.amount) == ("succeeded", 5000) and paid.succeeded_at is not None

    # The school issues Mia's card; the parent moves $20 onto it and caps her at $5 a day.
    card = ok(api(tbx, "cards.card_issue").sync(world.student.pk, client=staff, body=m.CardIssueInputRequest(identifier=CARD_NUMBER)), m.CardOutput)
    assert (card.status, card.last4) == (m.CardStatusEnum.ACTIVE, "E5F6")
    funded = ok(
        api(tbx, "cards.card_fund").sync(world.student.pk, client=guardian, body=m.CardFundInputRequest(amount=2000), idempotency_key=key()),
        m.CardTransferOutput,
    )
    assert (funded.amount, funded.wallet_balance, funded.card_balance) == (2000, 3000, 2000)
    controls = ok(
        api(tbx, "cards.card_controls_update").sync(world.student.pk, client=guardian, body=m.PatchedSpendingControlsInputRequest(daily_cap=500)),
        m.SpendingControlsOutput,
    )
    assert (controls.daily_cap, controls.weekly_cap) == (500, None)

    # The canteen terminal charges $4; a retry with the same key is the same charge; a second sale passes the cap.
    till = terminal(tbx, world)
    sale = m.CardChargeInputRequest(card_identifier=CARD_NUMBER, amount=400, categories=[m.MerchantCategoryEnum.CANTEEN], description="Sushi")
    sale_key = key()
    charge = ok(api(tbx, "terminals.terminal_charge_create").sync(client=till, body=sale, idempotency_key=sale_key), m.CardChargeOutput)
    assert (charge.status, charge.amount, charge.remaining_balance) == ("approved", 400, 1600)
    assert (charge.student.first_name, charge.student.last_initial) == ("Mia", "N")
    again = ok(api(tbx, "terminals.terminal_charge_create").sync(client=till, body=sale, idempotency_key=sale_key), m.CardChargeOutput)
    assert again.charge_id == charge.charge_id
    refused(tbx, api(tbx, "terminals.terminal_charge_create").sync(client=till, body=sale, idempotency_key=key()), 402, "daily_cap_exceeded")

    # The parent downloads the card's statement: a CSV file, the $4 charge on it.
    statement = downloaded(tbx, api(tbx, "cards.student_card_statement_csv").sync(world.student.pk, client=guardian)).decode()
    header, *rows = statement.splitlines()
    assert header.startswith("entry_id,") and len(rows) == 2 and any(",-400," in row for row in rows), statement

    # Before Wednesday's cut-off the parent pre-orders lunch.
    menu = ok(api(tbx, "canteen.student_menu_retrieve").sync(world.student.pk, client=guardian, date=WEDNESDAY.isoformat()), m.StudentMenuOutput)
    assert menu.ordering_open and {item.id for item in menu.items} == {world.wrap.pk, world.juice.pk}
    order = ok(
        api(tbx, "canteen.canteen_order_place").sync(
            world.student.pk,
            client=guardian,
            body=m.OrderPlaceInputRequest(
                service_date=WEDNESDAY, items=[m.OrderLineInputRequest(item_id=world.wrap.pk, quantity=1), m.OrderLineInputRequest(item_id=world.juice.pk, quantity=1)]
            ),
            idempotency_key=key(),
        ),
        m.OrderOutput,
    )
    assert (order.status, order.payment_state, order.total, order.service_date) == (m.OrderStatusEnum.PLACED, "held", 950, WEDNESDAY)

    # The school's system received one signed event per money movement, and the log says so.
    types = ["wallet.topup_succeeded", "card.charged", "canteen.order_placed"]
    assert [r.headers["Tuckbox-Event-Type"] for r in receiver.received] == types
    verify = load_verify_recipe()
    for delivery in receiver.received:
        assert verify(delivery.headers, delivery.body, subscription.secret)
    topped_up, charged, ordered = (delivery.json["data"] for delivery in receiver.received)
    assert (topped_up["topup_id"], topped_up["amount"]) == (started.id, 5000)
    assert (charged["charge_id"], charged["amount"]) == (charge.charge_id, 400)
    assert (ordered["order_id"], ordered["total"]) == (order.id, 950)
    log = ok(api(tbx, "webhooks.webhook_delivery_list").sync(subscription.id, client=staff), m.PaginatedWebhookDeliveryOutputList)
    assert [(d.event_type, d.status, d.attempts) for d in reversed(log.results)] == [
        (event_type, m.WebhookDeliveryStatusEnum.SUCCEEDED, 1) for event_type in types
    ]
    return guardian_tokens.refresh


def _after_the_cutoff(tbx, m, world, guardian_refresh: str):
    # Two days on, the access token has long expired: the refresh token (single use) gets a new pair.
    anonymous = tbx.Client(base_url=world.base_url, raise_on_unexpected_status=True)
    refresh = api(tbx, "authentication.auth_token_refresh")
    tokens = ok(refresh.sync(client=anonymous, body=m.RefreshInputRequest(refresh=guardian_refresh)), m.TokenPairOutput)
    guardian = tbx.AuthenticatedClient(base_url=world.base_url, token=tokens.access, raise_on_unexpected_status=True)

    # At 08:30 on Wednesday, Wednesday's orders have closed.
    refused(
        tbx,
        api(tbx, "canteen.canteen_order_place").sync(
            world.student.pk,
            client=guardian,
            body=m.OrderPlaceInputRequest(service_date=WEDNESDAY, items=[m.OrderLineInputRequest(item_id=world.juice.pk, quantity=1)]),
            idempotency_key=key(),
        ),
        422,
        "ordering_closed",
    )
    orders = ok(api(tbx, "canteen.canteen_order_list").sync(world.student.pk, client=guardian), m.PaginatedOrderOutputList)
    assert [(o.service_date, o.total) for o in orders.results] == [(WEDNESDAY, 950)]

    # Presenting the used refresh token again ends the session: theft detection.
    refused(tbx, refresh.sync(client=anonymous, body=m.RefreshInputRequest(refresh=guardian_refresh)), 422, "refresh_token_reused")
    refused(tbx, api(tbx, "canteen.canteen_order_list").sync(world.student.pk, client=guardian), 401, "session_revoked")


# --- Vouchers and events (journeys of the vouchers/ and events/ apps) ----------------------


def linked_guardian(tbx, world: World, *, wallet: int = 0):
    """A guardian linked to Mia with money and consent permissions (the link journey itself is tested above)."""
    from tests.factories import GuardianLinkFactory, give_wallet_money

    link = GuardianLinkFactory(student=world.student, guardian__user__first_name="Olivia", guardian__user__last_name="Nguyen")
    if wallet:
        give_wallet_money(link.guardian, wallet)
    client, _ = sign_in(tbx, world, link.guardian.user.email)
    return client


def test_a_child_holds_a_voucher_and_a_provider_redeems_it(tbx, world, eager_tasks):
    from tests.factories import MerchantFactory as Merchants
    from tests.factories import ProgramAdministratorFactory
    from tests.vouchers.factories import make_program

    m = models(tbx)
    with time_machine.travel(MONDAY_MORNING, tick=True):
        administrator = ProgramAdministratorFactory()
        program = make_program(admin=administrator)  # Active Kids: $100 for sport, ages 4.5 to 18
        swim_school = Merchants(name="Harbour Swim School", categories=["sport"])
        _, swim_key = terminal_create(merchant=swim_school, label="Front desk")
        pos = tbx.AuthenticatedClient(base_url=world.base_url, token=swim_key, prefix="", auth_header_name="X-Terminal-Key", raise_on_unexpected_status=True)

        # The swim school applies to accept the program; the program's administrator approves it.
        application = ok(
            api(tbx, "voucher_providers.terminal_voucher_provider_apply").sync(
                client=pos,
                body=m.VoucherProviderApplicationInputRequest(
                    program_id=program.pk, categories=[m.MerchantCategoryEnum.SPORT], abn="51824753556",
                    insurance_expires_on=date(2027, 6, 30), wwcc_expires_on=date(2027, 6, 30),
                ),
            ),
            m.VoucherProviderApprovalOutput,
        )
        admin_client, _ = sign_in(tbx, world, administrator.user.email)
        approved = ok(
            api(tbx, "voucher_providers.voucher_provider_approve").sync(
                program.pk, application.id, client=admin_client,
                body=m.VoucherProviderApproveInputRequest(abn="51824753556", insurance_expires_on=date(2027, 6, 30), wwcc_expires_on=date(2027, 6, 30)),
            ),
            m.VoucherProviderApprovalOutput,
        )
        assert approved.status == m.ProviderApprovalStatusEnum.APPROVED

        # A parent applies for Mia and shows the voucher's live code at the desk.
        guardian = linked_guardian(tbx, world)
        vouchers = api(tbx, "voucher_programs.voucher_apply").sync(
            program.pk, client=guardian, body=m.VoucherApplicationInputRequest(student_id=world.student.pk), idempotency_key=key()
        )
        assert isinstance(vouchers, list) and len(vouchers) == 1, vouchers
        voucher = ok(vouchers[0], m.VoucherOutput)
        assert (voucher.state, voucher.face_value, voucher.remaining_value) == (m.VoucherStateEnum.ISSUED, 10000, 10000)
        code = ok(api(tbx, "vouchers.voucher_code_retrieve").sync(voucher.id, client=guardian), m.VoucherCodeOutput)
        qr = downloaded(tbx, api(tbx, "vouchers.voucher_qr_png").sync(voucher.id, client=guardian))
        assert qr.startswith(b"\x89PNG\r\n\x1a\n")

        # The desk previews it (nothing written), then redeems $85 of it; a retry is the same redemption.
        preview = ok(
            api(tbx, "voucher_redemption.terminal_voucher_preview").sync(client=pos, body=m.VoucherCredentialInputRequest(qr=code.payload)),
            m.VoucherPreviewOutput,
        )
        assert (preview.can_redeem, preview.remaining_value, preview.beneficiary_first_name) == (True, 10000, "Mia")
        redeem = m.VoucherRedeemInputRequest(
            vouchers=[m.VoucherCredentialInputRequest(qr=code.payload)], amount=8500, category=m.MerchantCategoryEnum.SPORT, description="Term 1 swimming"
        )
        redeem_key = key()
        redemption = ok(api(tbx, "voucher_redemption.terminal_voucher_redeem").sync(client=pos, body=redeem, idempotency_key=redeem_key), m.VoucherRedemptionOutput)
        assert redemption.amount == 8500 and [line.amount for line in redemption.lines] == [8500]
        again = ok(api(tbx, "voucher_redemption.terminal_voucher_redeem").sync(client=pos, body=redeem, idempotency_key=redeem_key), m.VoucherRedemptionOutput)
        assert again.redemption_id == redemption.redemption_id
        after = ok(
            api(tbx, "voucher_redemption.terminal_voucher_preview").sync(client=pos, body=m.VoucherCredentialInputRequest(qr=code.payload)),
            m.VoucherPreviewOutput,
        )
        assert (after.state, after.remaining_value) == (m.VoucherStateEnum.PARTLY_REDEEMED, 1500)


def test_staff_publish_an_excursion_and_a_parent_signs_and_pays(tbx, world, eager_tasks):
    m = models(tbx)
    with time_machine.travel(MONDAY_MORNING, tick=True):
        staff, _ = sign_in(tbx, world, world.staff_email)
        draft = ok(
            api(tbx, "events.event_create").sync(
                client=staff,
                body=m.EventCreateInputRequest(
                    title="Year 4 museum excursion",
                    kind=m.EventKindEnum.EXCURSION,
                    location="Australian Museum, Sydney",
                    starts_at=_local("2026-12-11T09:30:00+11:00"),
                    ends_at=_local("2026-12-11T16:00:00+11:00"),
                    signup_deadline=_local("2026-12-04T17:00:00+11:00"),
                    cost=2500,
                    capacity=60,
                    eligible_year_levels=[4],
                    consent_form=m.ConsentFormInputRequest(
                        body="Year 4 will visit the Australian Museum by bus.",
                        statement="I give permission for my child to attend.",
                        questions=[m.ConsentQuestionInputRequest(key="photo_ok", label="May we publish photos?", type_=m.TypeEnum.YES_NO, required=True)],
                    ),
                ),
            ),
            m.EventOutput,
        )
        assert draft.status == m.EventStatusEnum.DRAFT
        published = ok(api(tbx, "events.event_publish").sync(draft.id, client=staff), m.EventPublishOutput)
        assert published.status == m.EventStatusEnum.PUBLISHED

        guardian = linked_guardian(tbx, world, wallet=5000)
        event = ok(api(tbx, "events.event_retrieve").sync(draft.id, client=guardian), m.EventOutput)
        signup = ok(
            api(tbx, "event_sign_ups_and_consent.signup_create").sync(
                event.id,
                client=guardian,
                body=m.SignupCreateInputRequest(
                    student_id=world.student.pk,
                    form_hash=event.consent_form.hash_,
                    answers=m.SignupCreateInputRequestAnswers.from_dict({"photo_ok": True}),
                    signature=m.SignatureInputRequest(width=600, height=200, strokes=[[[40, 150], [60, 90], [95, 140], [130, 70]], [[160, 120], [240, 118]]]),
                    typed_name="Olivia Nguyen",
                    consent_statement_accepted=True,
                ),
                idempotency_key=key(),
            ),
            m.SignupOutput,
        )
        assert (signup.status, signup.amount_due) == (m.SignupStatusEnum.AWAITING_PAYMENT, 2500) and signup.consent_id is not None
        paid = ok(api(tbx, "event_sign_ups_and_consent.signup_pay").sync(signup.id, client=guardian, idempotency_key=key()), m.SignupPaymentOutput)
        assert (paid.signup.status, paid.signup.amount_paid, paid.wallet_balance) == (m.SignupStatusEnum.CONFIRMED, 2500, 2500)


def _local(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


# --- TypeScript ----------------------------------------------------------------------

USAGE_TS = """\
import type { components, paths } from "./tuckbox";

type ChargeBody = paths["/api/v1/terminal/charges"]["post"]["requestBody"]["content"]["application/json"];
type ChargeApproved = paths["/api/v1/terminal/charges"]["post"]["responses"][201]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];
type EventType = components["schemas"]["WebhookEventTypeEnum"];

export function cardChargeBody(cardIdentifier: string, amountCents: number): ChargeBody {
  return { card_identifier: cardIdentifier, amount: amountCents, categories: ["canteen"], description: "Banana bread" };
}

export function cashierLine(approved: ChargeApproved): string {
  return `${approved.student.first_name} ${approved.student.last_initial}: ${approved.remaining_balance} cents left`;
}

export function isDecline(problem: Problem): boolean {
  return problem.status === 402 && ["insufficient_funds", "daily_cap_exceeded"].includes(problem.code);
}

export const subscribed: EventType[] = ["card.charged", "canteen.order_placed"];

export function deliveredAt(delivery: components["schemas"]["WebhookDeliveryOutput"]): string | null {
  return delivery.delivered_at ?? null;
}
"""
# Amounts are integer cents, not strings; an unknown event type is not an event type.
WRONG_TS = """\
import type { components } from "./tuckbox";

export const body: components["schemas"]["CardChargeInputRequest"] = { card_identifier: "04A1", amount: "3.50" };
export const wanted: components["schemas"]["WebhookEventTypeEnum"] = "card.swiped";
"""


def test_typescript_types_check(node_runs):
    if node_runs.failed:
        pytest.fail(node_runs.failed)
    assert toolchain.finish(node_runs.typescript) == 0, node_runs.typescript.stderr_text[-3000:]
    (node_runs.out / "usage.ts").write_text(USAGE_TS)
    (node_runs.out / "wrong.ts").write_text(WRONG_TS)
    tsc = subprocess.run(
        [toolchain.node_bin() / "tsc", "--noEmit", "--strict", "--skipLibCheck", "--lib", "es2022", "--target", "es2022",
         "--module", "es2022", "--moduleResolution", "bundler", "usage.ts", "wrong.ts"],
        capture_output=True, text=True, timeout=180, cwd=node_runs.out,
    )
    errors = [line for line in tsc.stdout.splitlines() if "error TS" in line]
    # usage.ts type-checks against the generated types; wrong.ts is refused exactly where it is wrong.
    assert [line.split("(")[0] for line in errors] == ["wrong.ts", "wrong.ts"], tsc.stdout[-3000:]
    assert all("TS2322" in line for line in errors), tsc.stdout[-3000:]


# --- examples/typescript: openapi-fetch against the live server ---------------------------


def test_the_typescript_example_type_checks_and_runs_against_the_server(world, tmp_path):
    """The example's own lock file, types generated from the committed schema, tsc, then node."""
    from tests.factories import GuardianLinkFactory, StudentCardFactory, give_card_money, give_wallet_money

    modules = toolchain.typescript_example_modules()
    example = tmp_path / "typescript"
    shutil.copytree(toolchain.TYPESCRIPT_EXAMPLE, example, ignore=shutil.ignore_patterns("node_modules", "dist", "tuckbox.ts"))
    (example / "node_modules").symlink_to(modules, target_is_directory=True)
    generated = toolchain.run([modules / ".bin" / "openapi-typescript", toolchain.SCHEMA, "--output", example / "src" / "tuckbox.ts"], cwd=example)
    assert generated.returncode == 0, generated.stderr[-3000:]
    compiled = toolchain.run([modules / ".bin" / "tsc", "--project", example], cwd=example, timeout=180)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]

    link = GuardianLinkFactory(student=world.student)
    give_wallet_money(link.guardian, 4200)
    StudentCardFactory(student=world.student, identifier=CARD_NUMBER)
    give_card_money(world.student, 1000)
    env = {
        "PATH": os.environ["PATH"], "TUCKBOX_URL": world.base_url, "TUCKBOX_EMAIL": link.guardian.user.email,
        "TUCKBOX_PASSWORD": TEST_PASSWORD, "TUCKBOX_TERMINAL_KEY": world.terminal_key, "TUCKBOX_CARD": CARD_NUMBER,
        "TUCKBOX_AMOUNT": "350",
    }
    journey = toolchain.run(["node", example / "dist" / "journey.js"], cwd=example, env=env, timeout=120)
    assert journey.returncode == 0, journey.stderr[-3000:]
    printed = json.loads(journey.stdout)
    assert printed["wallet"] == {"balance": 4200, "held": 0, "available": 4200, "currency": "AUD"}
    assert (printed["charge"]["amount"], printed["charge"]["remaining"]) == (350, 650)
    assert printed["declined"] == {"status": 402, "code": "insufficient_funds"}


# --- Spectral --------------------------------------------------------------------------


def test_the_schema_passes_spectral(node_runs):
    import json

    if node_runs.failed:
        pytest.fail(node_runs.failed)
    toolchain.finish(node_runs.spectral)  # exits non-zero on any finding, warnings included
    findings = json.loads((node_runs.out / "spectral.json").read_text() or "[]")
    errors = [f"{'.'.join(map(str, f['path']))}: {f['code']}: {f['message']}" for f in findings if f["severity"] == 0]
    assert not errors, "Spectral errors in openapi/openapi.yaml:\n" + "\n".join(errors[:50])
