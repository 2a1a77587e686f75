"""Every message state has its Spanish name for the CLI and the panel (one table)."""

from centauro.domain.states import SPANISH_NAMES, MessageState


def test_every_message_state_has_a_spanish_name() -> None:
    assert set(SPANISH_NAMES) == {s.value for s in MessageState}
    assert all(name and name.islower() for name in SPANISH_NAMES.values())
