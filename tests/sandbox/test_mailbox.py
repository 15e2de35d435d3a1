"""The sandbox's mailbox: Megafon's real mail path (core.mail's MailSender over SMTP) delivers
into it, and /sandbox/mail shows each message with its text and attachments, so `make run`
shows the whole loop without a mail server."""

from __future__ import annotations

import requests

from core.mail import Attachment, MailSender, OutgoingMail
from sandbox.server import SandboxServer


def test_mail_sent_by_megafon_is_shown_with_its_attachment(tmp_path):
    with SandboxServer(str(tmp_path / "sandbox.db")) as server:
        mail = server.start_mail()
        sender = MailSender(mail.url, "megafon@example.org", base_url="http://127.0.0.1:5000")
        paper = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
        sender.send(OutgoingMail(
            to="styrelsen@example.org", subject="Styrelsens rapport för november 2026",
            body="Hej!\n\nRapporten för november ligger bifogad — 27 omnämnanden.\n",
            language="sv",
            attachments=(Attachment("megafon-rapport-2026-11.pdf", paper, "application/pdf"),)))
        sender.send(OutgoingMail(to="anna@example.org", subject="Återställ ditt lösenord",
                                 body="Öppna länken inom en timme."))

        listed = requests.get(f"{server.url}/sandbox/api/mail", timeout=10).json()
        assert [m["subject"] for m in listed] == ["Återställ ditt lösenord",
                                                 "Styrelsens rapport för november 2026"]
        report = listed[1]
        assert report["to"] == ["styrelsen@example.org"]
        assert "27 omnämnanden" in report["text"]
        assert report["attachments"] == [{"filename": "megafon-rapport-2026-11.pdf",
                                          "content_type": "application/pdf",
                                          "size": len(paper)}]

        page = requests.get(f"{server.url}/sandbox/mail", timeout=10)
        assert page.status_code == 200 and "Styrelsens rapport för november 2026" in page.text
        letter = requests.get(f"{server.url}/sandbox/mail/{report['id']}", timeout=10)
        assert "27 omnämnanden" in letter.text and "megafon-rapport-2026-11.pdf" in letter.text
        download = requests.get(
            f"{server.url}/sandbox/mail/{report['id']}/attachments/0", timeout=10)
        assert download.content == paper
        assert download.headers["Content-Type"] == "application/pdf"
        for missing in ("/sandbox/mail/999", f"/sandbox/mail/{report['id']}/attachments/5"):
            assert requests.get(server.url + missing, timeout=10).status_code == 404
    # Stopped with the sandbox: its port takes nothing more.
    assert _refused(mail.url)


def _refused(url: str) -> bool:
    import smtplib

    host, port = url.removeprefix("smtp://").split(":")
    try:
        smtplib.SMTP(host, int(port), timeout=5).quit()
    except OSError:
        return True
    return False
