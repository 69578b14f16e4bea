"""Structured logging: every line is one JSON object carrying the request id.

Secrets never reach a log line, whatever logger produced it: `redact_secrets` blanks any field
whose name suggests a credential, and masks credentials by their shape inside any text (a URL
path with an event link's token in the access log, a stdlib message, an exception's text).
"""

import logging
import re

import structlog

SECRET_FIELD_MARKERS = ("password", "token", "secret", "authorization", "card_identifier", "api_key", "key_secret")
# Credentials recognisable by their shape; each match keeps its group 1 (what kind it was).
SECRET_SHAPES = re.compile(
    r"(/event-links/)[^/?#\s\"']+"  # a signed event link's token, in a path or URL
    r"|(tbx_term_)[A-Za-z0-9_-]+"  # a terminal key
    r"|(eyJ)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"  # a JWT (access or refresh token)
    r"|(whsec_)[A-Za-z0-9_+/=-]+"  # a webhook signing secret (ours or Stripe's)
    r"|\b([sr]k_(?:live|test)_)[A-Za-z0-9]+"  # a Stripe secret or restricted key
    r"|(_secret_)[A-Za-z0-9]+"  # a PaymentIntent or SetupIntent client secret
)


def _mask(match: re.Match) -> str:
    return next(group for group in match.groups() if group is not None) + "[redacted]"


def redact_secrets(_logger, _method, event_dict):
    for field, value in list(event_dict.items()):
        lowered = field.lower()
        if any(marker in lowered for marker in SECRET_FIELD_MARKERS):
            event_dict[field] = "[redacted]"
        elif isinstance(value, str):
            event_dict[field] = SECRET_SHAPES.sub(_mask, value)
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,
]


def build_logging(*, json: bool, level: str) -> dict:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact_secrets,  # again, over the traceback text format_exc_info has just added
                    renderer,
                ],
                "foreign_pre_chain": SHARED_PROCESSORS,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's request logger repeats what our middleware logs, with the raw request attached.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }


def get_logger(name: str):
    return structlog.get_logger(name)


logging.captureWarnings(True)
