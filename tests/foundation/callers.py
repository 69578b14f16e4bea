"""One school with a caller of every kind, and the ids that fill a URL pattern's parameters.

The probes (test_no_server_errors.py, test_cursors.py) walk every URL of the project; with real
ids the requests get past the look-ups into the views' own work.
"""

import re
from dataclasses import dataclass, field

from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from guardians.webhook_subscriptions import webhook_subscription_create
from tests.factories import (
    GuardianLinkFactory,
    MerchantAdministratorFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    StaffFactory,
    StudentCardFactory,
)
from tests.vouchers.factories import make_program

_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>(?P<body>[^)]*)\)")  # the admin's two regex patterns
_SCHEMA_PARAMETER = re.compile(r"\{(?P<name>\w+)\}")


@dataclass
class Callers:
    clients: dict[str, APIClient]
    ids: dict[str, int] = field(default_factory=dict)

    def fill(self, route: str) -> str:
        """A concrete path for a route such as `students/<int:student_id>/orders`."""

        def value(match):
            if match["converter"] in ("int", None) and match["name"].endswith("_id"):
                return str(self.ids.get(match["name"], 1))
            return "x"

        route = _REGEX_GROUP.sub(lambda m: m["body"].split("|")[0] if "|" in m["body"] else "x", route)
        return "/" + _PARAMETER.sub(value, route.replace("^", "").replace("$", ""))

    def fill_schema_path(self, path: str, *, ids: str | None = None) -> str:
        """A concrete path for an OpenAPI path such as `/api/v1/students/{student_id}/orders`."""
        return _SCHEMA_PARAMETER.sub(lambda m: ids or str(self.ids.get(m["name"], 1)), path)


def build_callers(client_for, terminal_client, settings) -> Callers:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    link = GuardianLinkFactory()
    school = link.student.school
    StudentCardFactory(student=link.student)
    staff = StaffFactory(school=school, roles=["admin", "canteen", "teacher", "finance"])
    program_admin = ProgramAdministratorFactory()
    program = make_program(admin=program_admin)
    subscription = webhook_subscription_create(
        url="http://127.0.0.1:9/hook", event_types=["card.charged"], created_by=staff.user, school=school
    )
    return Callers(
        clients={
            "anonymous": APIClient(),
            "guardian": client_for(link.guardian.user),
            "staff": client_for(staff.user),
            "program_admin": client_for(program_admin.user),
            "terminal": terminal_client(MerchantFactory(school=school)),
            "merchant_admin": client_for(MerchantAdministratorFactory(merchant__school=school).user),
        },
        ids={
            "student_id": link.student.pk,
            "school_id": school.pk,
            "link_id": link.pk,
            "program_id": program.pk,
            "subscription_id": subscription.pk,
        },
    )


def url_routes(patterns=None, prefix: str = ""):
    """Every URL pattern of the project as a route string, through Django's resolver."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_routes(pattern.url_patterns, route)
        else:
            yield route
