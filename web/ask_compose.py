"""The composer answering a campaign ask (`/compose?ask=<id>`): prefilled with the campaign's
words, tagged link and pictures for one network, offering only the association's accounts; the
post it queues is linked to the campaign (campaigns.asks.answer_with_draft).

Kept apart from web/compose.py, which only calls these hooks, so the composer stays one page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from campaigns import asks
from campaigns.models import CampaignMessageImage
from publisher.drafts import draft_for
from publisher.models import Account, Post
from publisher.posts import DraftImage, PostDraft
from web.forms import ComposeForm


@dataclass
class AskInComposer:
    prefill: asks.ComposePrefill

    @property
    def images(self) -> list[CampaignMessageImage]:
        return self.prefill.images

    def image_url(self, image: CampaignMessageImage) -> str:
        return url_for("campaigns.ask_image", ask_id=self.prefill.ask.id,
                       media_id=image.media_id)

    def network_url(self, network: str) -> str:
        return url_for("compose.compose", ask=self.prefill.ask.id, network=network)

    def narrow(self, accounts: list[Account]) -> list[Account]:
        """Only the association's accounts are offered."""
        allowed = set(self.prefill.allowed_account_ids)
        return [a for a in accounts if a.id in allowed]

    def fill(self, form: ComposeForm) -> None:
        """A new page: the network's words and link, its accounts ticked, the pictures kept."""
        form.text.data = self.prefill.text
        form.link.data = self.prefill.link or ""
        form.accounts.data = list(self.prefill.account_ids)
        for image in self.prefill.images:
            form.kept.append_entry({"alt_text": image.alt_text})

    def kept_images(self, form: ComposeForm) -> list[DraftImage]:
        """The campaign's pictures as the form leaves them: described anew, or taken out."""
        kept = []
        for number, image in enumerate(self.prefill.images):
            entry = form.kept.entries[number] if number < len(form.kept.entries) else None
            if entry is not None and entry.remove.data:
                continue
            alt_text = entry.alt_text.data if entry is not None else image.alt_text
            kept.append(DraftImage(image.media_id, alt_text or "", f"#{image.position}"))
        return kept

    def saver(self, session: Session) -> Callable[[PostDraft], Post]:
        return lambda draft: asks.answer_with_draft(session, current_user,
                                                    self.prefill.ask.id, draft)


def _from_draft(session: Session) -> str:
    """The ask a resumed draft was answering (drafts keep the hidden `ask` field)."""
    raw = (request.values.get("draft_id") or request.values.get("draft") or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return ""
    try:
        fields = draft_for(session, current_user, int(raw)).fields or {}
    except LookupError:
        return ""  # the composer answers 404 for it
    return str(fields.get("ask") or "")


def asked_for(session: Session) -> AskInComposer | None:
    """The ask the composer answers (`?ask=`, the form's hidden field, or the resumed draft's):
    404 when there is none, 403 (core.auth.NotAllowed, from the domain) for another
    association's ask."""
    raw = (request.values.get("ask") or _from_draft(session)).strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        abort(404)
    try:
        return AskInComposer(asks.compose_prefill(session, current_user, int(raw),
                                                  request.values.get("network", "")))
    except LookupError:
        abort(404)
