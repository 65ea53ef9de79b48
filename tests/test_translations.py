"""The catalogues: every user-facing string is extracted, and every language of the
product (es, fr, de, zh_Hans) translates every one of them, placeholders intact."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from portfolio import ROOT
from portfolio.extensions import SUPPORTED_LOCALES

LANGUAGES = [code for code in SUPPORTED_LOCALES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def read(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def msgids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The strings in the code and templates now, as `make translations` extracts them."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True,
                   capture_output=True)
    return msgids(read(pot))


def test_the_template_holds_every_string_of_the_code(extracted):
    committed = msgids(read(ROOT / "translations" / "messages.pot"))
    missing = sorted(str(m) for m in extracted - committed)
    assert not missing, f"run `make translations`, then translate: {missing[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_translates_every_string(extracted, language):
    catalog = read(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po")
    missing = sorted(str(m) for m in extracted - msgids(catalog))
    assert not missing, f"{language} lacks {len(missing)} strings, e.g. {missing[:5]}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0][:50]}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0][:50]}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            if found - wanted or (len(ids) == 1 and found != wanted):
                problems.append(f"placeholders {sorted(wanted)} vs {sorted(found)}: {ids[0][:50]}")
    assert not problems, f"{language}: {len(problems)} problems, e.g. {problems[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_speak_the_persons_language(client, login, make_member, language):
    from portfolio.people.models import Role

    catalog = read(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po")
    translated = next(m.string for m in catalog if m.id == "Preferences")
    assert translated and translated != "Preferences"
    member = make_member(Role.intern, locale=language.replace("_", "-"))
    login(client, member)
    page = client.get(f"/c/{member.course_id}/preferences").get_data(as_text=True)
    assert f"<h1>{translated}</h1>" in page
    assert f'lang="{language.replace("_", "-")}"' in page
