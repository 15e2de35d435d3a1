"""Every message Megafon can show has its Swedish translation.

The Swedish UI is the default; a msgid added without a translation would show English to every
user. This reads the messages out of the source as `make extract-messages` does (babel.cfg, the
N_ and _l markers) and looks each up in the Swedish catalogue.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "N_": None, "pgettext": ((1, "c"), 2)}


def _source_messages() -> dict[str, str]:
    """msgid → where it is used (first place), for each message in the source."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _swedish() -> dict[str, bool]:
    with (ROOT / "web/translations/sv/LC_MESSAGES/messages.po").open("rb") as po:
        catalogue = read_po(po)
    translated: dict[str, bool] = {}
    for message in catalogue:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[msgid] = bool(msgid) and all(strings) and not message.fuzzy
    return translated


def test_every_message_in_the_source_has_a_swedish_translation() -> None:
    swedish = _swedish()
    messages = _source_messages()
    assert len(messages) > 500  # the extraction read the source, not an empty tree
    missing = [f"{where}: {msgid!r}" for msgid, where in messages.items()
               if not swedish.get(msgid)]
    assert not missing, "untranslated in sv:\n" + "\n".join(missing)


def test_the_catalogue_says_each_message_once() -> None:
    with (ROOT / "web/translations/sv/LC_MESSAGES/messages.po").open(encoding="utf-8") as po:
        ids = [line for line in po if line.startswith("msgid ")]
    duplicates = {line for line in ids if ids.count(line) > 1 and line != 'msgid ""\n'}
    assert not duplicates
