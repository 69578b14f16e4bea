"""Assertions shared by the test modules."""

PROBLEM_JSON = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    """The response is an RFC 9457 problem with this status and stable code; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM_JSON, response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    assert body["type"] == f"https://tuckbox.dev/problems/{code}", body
    assert body["title"] and body["detail"], body
    return body


def field_errors(body: dict) -> dict[str | None, list[str]]:
    """A validation problem's `errors` as {field: [codes]}."""
    fields: dict[str | None, list[str]] = {}
    for error in body["errors"]:
        fields.setdefault(error["field"], []).append(error["code"])
    return fields

