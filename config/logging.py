"""Structured logging: every line is one JSON object carrying the request id.

Secrets never reach a log line: `redact_secrets` blanks any field whose name
suggests a credential, whatever logger produced it.
"""

import logging

import structlog

SECRET_FIELD_MARKERS = ("password", "token", "secret", "authorization", "card_identifier", "api_key", "key_secret")


def redact_secrets(_logger, _method, event_dict):
    for field in list(event_dict):
        lowered = field.lower()
        if any(marker in lowered for marker in SECRET_FIELD_MARKERS):
            event_dict[field] = "[redacted]"
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
