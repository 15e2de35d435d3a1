"""A real SMTP server process for the notification tests."""

from tests.smtp import smtp_server  # noqa: F401
