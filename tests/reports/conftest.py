"""A real SMTP server process for the monthly report's e-mail."""

from tests.smtp import smtp_server  # noqa: F401
