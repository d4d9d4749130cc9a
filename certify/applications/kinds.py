"""The kinds of recognition, as data: read from ``criteria/vocabulary/kinds.yaml`` with the rule
files, so that a new kind is a file entry and rule files, not a code change.

An application, certificate or batch stores a kind by its key (``factory``); everything else —
its code in references and certificate numbers, its names, who may apply, the certificate's
title — is looked up here.
"""

from collections.abc import Iterator, Mapping

from certify.i18n import current_language
from certify.rulesets import current_registry
from certify.scoring import Kind


def all_kinds() -> list[Kind]:
    """Every kind of recognition, in the order of the kinds file."""
    return list(current_registry().vocabulary.kinds.values())


def is_kind(key: object) -> bool:
    return isinstance(key, str) and key in current_registry().vocabulary.kinds


def kind_of(key: str) -> Kind:
    """The kind with this key (``ValueError`` for a key the kinds file does not have)."""
    kind = current_registry().vocabulary.kinds.get(str(key))
    if kind is None:
        raise ValueError(f"unknown kind of recognition {key!r}")
    return kind


def kind_code(key: str) -> str:
    """``GF`` for ``factory``; the key itself for a kind no longer in the file."""
    kind = current_registry().vocabulary.kinds.get(str(key))
    return kind.code if kind else str(key).upper()


def kind_label(key: str, language: str | None = None) -> str:
    """The kind's name in ``language`` (the reader's by default)."""
    kind = current_registry().vocabulary.kinds.get(str(key))
    if kind is None:
        return str(key)
    return kind.title.zh if (language or current_language()).startswith("zh") else kind.title.en


def kinds_for(organisation_kind: str) -> list[Kind]:
    """The kinds an organisation of ``organisation_kind`` (enterprise, park_committee) applies for."""
    return [kind for kind in all_kinds() if kind.applicant == str(organisation_kind)]


class KindLabels(Mapping):
    """``kind_labels[key]`` for templates: the kind's name in the reader's language, each looked
    up once per language for as long as the kinds stay the same (list pages show one per row)."""

    def __init__(self):
        self._kinds: Mapping | None = None
        self._names: dict = {}

    def __getitem__(self, key) -> str:
        kinds = current_registry().vocabulary.kinds
        if kinds is not self._kinds:  # rule files reloaded: forget the names of the old kinds
            self._kinds, self._names = kinds, {}
        language = current_language()
        try:
            return self._names[language, key]
        except KeyError:
            name = self._names[language, key] = kind_label(key, language)
            return name

    def __iter__(self) -> Iterator[str]:
        return iter(current_registry().vocabulary.kinds)

    def __len__(self) -> int:
        return len(current_registry().vocabulary.kinds)
