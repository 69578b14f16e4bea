"""A mail server that fails, for the tests of what a refused email leaves behind (the fixture
`refusing_mail_server` in tests/conftest.py puts it in place)."""

import smtplib

from django.core.mail.backends.locmem import EmailBackend


class RefusingOnce(EmailBackend):
    """The mail server drops the connection on the first message, then recovers."""

    refused = 0

    def send_messages(self, messages):
        if RefusingOnce.refused == 0:
            RefusingOnce.refused += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
