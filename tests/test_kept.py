"""`{% kept %}`: a fragment rendered once per version and language, then reused."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from portal.kept import Fragments, fragments

BLOCK = '{% load kept %}{% kept "greeting" version %}{{ who.name }}{% endkept %}'


class Who:
    """Counts how often the fragment reads it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.reads = 0

    @property
    def name(self) -> str:
        self.reads += 1
        return self._name


@pytest.fixture(autouse=True)
def forget():
    fragments.clear()
    yield
    fragments.clear()


def test_it_renders_once_per_version():
    template = Template(BLOCK)
    who = Who("Ada")
    assert template.render(Context({"who": who, "version": 1})) == "Ada"
    assert template.render(Context({"who": who, "version": 1})) == "Ada"
    assert who.reads == 1
    assert template.render(Context({"who": Who("Grace"), "version": 2})) == "Grace"


def test_it_renders_every_time_without_a_version():
    template = Template(BLOCK)
    who = Who("Ada")
    for _ in range(2):
        assert template.render(Context({"who": who, "version": None})) == "Ada"
    assert who.reads == 2


def test_it_keeps_each_language_apart():
    template = Template(
        '{% load i18n kept %}{% kept "word" version %}{% translate "Billed to" %}{% endkept %}'
    )
    with translation.override("de"):
        assert template.render(Context({"version": 1})) == "Rechnungsempfänger"
    with translation.override("en"):
        assert template.render(Context({"version": 1})) == "Billed to"


def test_it_escapes_what_it_keeps():
    template = Template(BLOCK)
    for _ in range(2):
        html = template.render(Context({"who": Who("<b>Ada</b>"), "version": 1}))
        assert html == "&lt;b&gt;Ada&lt;/b&gt;"


def test_a_template_parsed_again_renders_its_own_text():
    """After an edit (runserver reloads the template) the old text is never reused."""
    Template(BLOCK).render(Context({"who": Who("Ada"), "version": 1}))
    edited = Template(BLOCK.replace("{{ who.name }}", "Hello {{ who.name }}"))
    assert edited.render(Context({"who": Who("Ada"), "version": 1})) == "Hello Ada"


def test_its_assignments_stay_inside_the_block():
    template = Template(
        '{% load i18n kept %}{% kept "x" version %}{% translate "Tax" as label %}{{ label }}'
        "{% endkept %}[{{ label }}]"
    )
    for _ in range(2):
        assert template.render(Context({"version": 1})) == "Tax[]"


def test_it_refuses_a_block_without_a_quoted_name():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load kept %}{% kept version %}x{% endkept %}")


def test_it_drops_the_least_recently_used_beyond_its_budget():
    kept = Fragments(budget=10)
    kept.keep("a", "aaaa")
    kept.keep("b", "bbbb")
    assert kept.get("a") == "aaaa"  # now the most recently used
    kept.keep("c", "cccc")
    assert kept.get("b") is None
    assert (kept.get("a"), kept.get("c")) == ("aaaa", "cccc")
    assert kept.size == 8
