"""Swedish demo data for `make run`: the district and its local associations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import district
from core.users import Organisation, OrganisationKind

DISTRICT = "Vänsterpartiet Värmland"
ASSOCIATIONS = (
    "Vänsterpartiet Karlstad", "Vänsterpartiet Arvika", "Vänsterpartiet Kristinehamn",
    "Vänsterpartiet Säffle", "Vänsterpartiet Torsby", "Vänsterpartiet Hagfors",
    "Vänsterpartiet Kil",
)


def seed_organisations(session: Session) -> Organisation:
    """Idempotent: running it again adds only what is missing."""
    root = district(session)
    if root.name == "Distriktet":
        root.name = DISTRICT
    existing = set(session.scalars(select(Organisation.name)))
    for name in ASSOCIATIONS:
        if name not in existing:
            session.add(Organisation(name=name, kind=OrganisationKind.ASSOCIATION, parent=root))
    session.flush()
    return root
