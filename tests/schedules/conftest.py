from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from core.auth import create_user
from core.users import Role, User
from publisher.services import Services
from tests.conftest import PASSWORD


@pytest.fixture
def make_user_in() -> Callable[[Services, Role], User]:
    def make(services: Services, role: Role = Role.COMMS) -> User:
        with services.db.session() as session:
            return create_user(session, email=f"{uuid.uuid4().hex[:8]}@example.org",
                               name="Testare", password=PASSWORD, role=role)

    return make
