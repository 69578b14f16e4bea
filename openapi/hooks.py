"""Post-processing of the generated schema.

Error responses are documented with the Problem component; here we publish
them under `application/problem+json`, which is what the API actually sends,
and add the errors every authenticated or body-taking operation can return.
"""

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


def add_problem_responses(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
            secured = any(requirement for requirement in operation.get("security", []))
            if secured and "401" not in responses:
                responses["401"] = _problem(
                    "Error codes: `not_authenticated`, `authentication_failed`, `token_invalid`, `session_revoked`"
                )
            if secured and "403" not in responses:
                responses["403"] = _problem("Error codes: `permission_denied` (this kind of caller may not use the operation)")
            if "requestBody" in operation:
                responses.setdefault("400", _problem("Error codes: `validation_error`, `malformed_request`"))
                responses.setdefault("413", _problem("Error codes: `payload_too_large`"))
                responses.setdefault("415", _problem("Error codes: `unsupported_media_type`"))
    return result
