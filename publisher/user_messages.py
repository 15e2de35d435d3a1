"""Platform failures in words a comms officer can act on (msgids; the web layer translates)."""

from __future__ import annotations

from core.i18n import N_
from publisher.models import Delivery, DeliveryState

EXPLANATIONS: dict[str, str] = {
    "auth": N_("The account's login has expired or been revoked. Reconnect the account under "
               "Accounts, then send the post again."),
    "permission": N_("The account lacks permission to publish. Check the app's permissions on "
                     "the platform and reconnect the account."),
    "duplicate": N_("The platform refused the post because the same text was already published. "
                    "Change the wording and send it again."),
    "rejected": N_("The platform refused the post's content. Read the platform's reason below, "
                   "edit the post and send it again."),
    "rate_limited": N_("The platform's posting limit was reached. Megafon waits and tries again."),
    "transient": N_("The platform did not answer properly. Megafon tries again a few times."),
    "uncertain": N_("The platform did not confirm the post, so it is not known whether it went "
                    "out. Check the account before sending it again."),
    "too_late": N_("The post could not be sent within 30 minutes of its time, so Megafon gave up "
                   "rather than publish it late. Send it again if it is still relevant."),
    "unknown": N_("Something unexpected went wrong. It is not known whether the post went out: "
                  "check the account before sending it again."),
}


# A held delivery has not failed: it waits for its account to be reconnected.
HELD = N_("The account's login has expired or been revoked. Reconnect the account under "
          "Accounts: its posts wait and go out once it works again.")


def explanation_for(kind: str | None) -> str | None:
    return EXPLANATIONS.get(kind or "")


def explain(delivery: Delivery) -> str | None:
    """What the delivery's state and last error mean for the person who queued it."""
    if delivery.state is DeliveryState.HELD:
        return HELD
    if delivery.state is DeliveryState.UNCERTAIN:
        return EXPLANATIONS["uncertain"]
    return explanation_for(delivery.error_kind)
