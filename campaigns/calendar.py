"""Events as iCalendar (RFC 5545), written with the `icalendar` library: one VEVENT per event,
its UID stable (`event-<id>@<host>`), SEQUENCE raised on every change, STATUS:CANCELLED once
cancelled, times in UTC (calendars show them in their reader's zone; the calendar names
Europe/Stockholm as its own)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar
from icalendar import Event as VEvent

from campaigns.models import Event
from core.clock import ensure_utc, utcnow


def calendar(events: Iterable[Event], *, name: str, host: str, page_url: str = "",
             now: datetime | None = None) -> bytes:
    """The feed's bytes. `page_url`: an event's page in Megafon, `{id}` filled in (members'
    feed only: the public one links to the event's own link)."""
    now = now or utcnow()
    cal = Calendar()
    cal.add("prodid", "-//Megafon//Evenemang//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Stockholm")
    for event in events:
        item = VEvent()
        item.add("uid", f"event-{event.id}@{host}")
        item.add("dtstamp", ensure_utc(event.updated_at or now))
        item.add("created", ensure_utc(event.created_at))
        item.add("last-modified", ensure_utc(event.updated_at))
        item.add("dtstart", ensure_utc(event.starts_at))
        item.add("dtend", ensure_utc(event.ends_at))
        item.add("sequence", event.sequence)
        item.add("summary", event.title)
        town = event.municipality.name if event.municipality else ""
        where = ", ".join(p for p in (event.place, "" if town in event.place else town) if p)
        if where:
            item.add("location", where)
        description = "\n\n".join(p for p in (event.description, event.partners) if p)
        if description:
            item.add("description", description)
        if event.link:
            item.add("url", event.link)
        elif page_url:
            item.add("url", page_url.replace("{id}", str(event.id)))
        item.add("categories", [event.kind.value])
        item.add("class", "PUBLIC" if event.public else "PRIVATE")
        item.add("status", "CANCELLED" if event.cancelled_at else "CONFIRMED")
        item.add("organizer", f"urn:megafon:organisation:{event.organiser_id}",
                 parameters={"cn": event.organiser.name})
        cal.add_component(item)
    return cal.to_ical()
