"""Consent form content (wording, statement, typed questions) and the answers given to it.

A version is named by the SHA-256 of its canonical content, so the hash a
guardian's app sends back proves which exact wording they read.
"""

import re

from events.canonical import canonical_json, sha256_hex
from events.errors import AnswersInvalid, ConsentFormInvalid

QUESTION_TYPES = ("text", "yes_no", "choice", "medical")
MAX_QUESTIONS = 40
MAX_CHOICES = 20
MAX_TEXT_ANSWER = 2000
MAX_MEDICAL_ANSWER = 4000
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def form_content_normalise(raw: dict) -> dict:
    """Validate the form and return it with every field present, in a fixed shape."""
    body = (raw.get("body") or "").strip()
    statement = (raw.get("statement") or "").strip()
    if not body or len(body) > 20_000:
        raise ConsentFormInvalid("The form needs its wording (at most 20,000 characters).", field="body")
    if not statement or len(statement) > 1_000:
        raise ConsentFormInvalid("The form needs the consent statement guardians tick (at most 1,000 characters).", field="statement")
    questions = raw.get("questions") or []
    if len(questions) > MAX_QUESTIONS:
        raise ConsentFormInvalid(f"A form has at most {MAX_QUESTIONS} questions.", field="questions")
    seen: set[str] = set()
    normalised = []
    for index, question in enumerate(questions):
        key = question.get("key", "")
        kind = question.get("type")
        label = (question.get("label") or "").strip()
        choices = [str(choice).strip() for choice in question.get("choices") or []]
        where = f"questions[{index}]"
        if not _KEY.match(key) or key in seen:
            raise ConsentFormInvalid("Each question needs a unique key of lower-case letters, digits and _.", field=f"{where}.key")
        if kind not in QUESTION_TYPES:
            raise ConsentFormInvalid(f"A question's type is one of {', '.join(QUESTION_TYPES)}.", field=f"{where}.type")
        if not label or len(label) > 300:
            raise ConsentFormInvalid("Each question needs a label (at most 300 characters).", field=f"{where}.label")
        if kind == "choice" and not (2 <= len(choices) <= MAX_CHOICES and len(set(choices)) == len(choices) and all(choices)):
            raise ConsentFormInvalid(f"A choice question needs 2 to {MAX_CHOICES} distinct choices.", field=f"{where}.choices")
        if kind != "choice" and choices:
            raise ConsentFormInvalid("Only choice questions have choices.", field=f"{where}.choices")
        seen.add(key)
        normalised.append({"key": key, "label": label, "type": kind, "required": bool(question.get("required", False)), "choices": choices})
    return {"body": body, "statement": statement, "questions": normalised}


def form_content_hash(content: dict) -> str:
    return sha256_hex(canonical_json(content))


def answers_validate(*, questions: list[dict], answers: dict) -> dict:
    """Check answers against the questions; returns {key: value} for every question (None if left out)."""
    errors: dict[str, str] = {}
    known = {question["key"] for question in questions}
    for key in answers:
        if key not in known:
            errors[key] = "There is no such question."
    cleaned: dict = {}
    for question in questions:
        key, kind = question["key"], question["type"]
        value = answers.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if question["required"]:
                errors[key] = "This question needs an answer."
            cleaned[key] = None
            continue
        if kind == "yes_no" and type(value) is not bool:
            errors[key] = "Answer true or false."
        elif kind == "choice" and value not in question["choices"]:
            errors[key] = "Pick one of the choices."
        elif kind in ("text", "medical") and not isinstance(value, str):
            errors[key] = "Answer with text."
        elif kind == "text" and len(value) > MAX_TEXT_ANSWER:
            errors[key] = f"At most {MAX_TEXT_ANSWER} characters."
        elif kind == "medical" and len(value) > MAX_MEDICAL_ANSWER:
            errors[key] = f"At most {MAX_MEDICAL_ANSWER} characters."
        cleaned[key] = value
    if errors:
        raise AnswersInvalid(fields=errors)
    return cleaned
