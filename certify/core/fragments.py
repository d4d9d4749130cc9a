"""Parts of pages that are the same for every reader of a language: rendered once, then reused.

A page's navigation and the option lists of its filter form are the same on every request of a
language (and a role, or the option chosen), and a list's row is the same as long as its values
are; yet drawing them was most of a list page's own time. ``fragment("_main_nav.html", admin=...)``
in a template renders the named template the first time with only the values given (and the
template globals: ``url_for``, ``_``), keeps the markup, and returns it afterwards;
``fragment_each("admin/_application_row.html", "row", page.items)`` does so for each row, keyed by
the row's values, so a row whose values changed is drawn anew. So a fragment cannot show anything about the request or the
user it is not given: ``current_user`` and the context processors' values are not in its
context, and ``request``, ``session`` and ``g`` (which Flask puts among every template's globals)
must not be used in one.

The markup is kept per application, keyed by the template, the language, the rule files in force
(kind names come from them) and the values given; the values must come from small fixed sets
(a role, a status from the list), never from what a visitor types.
"""

from flask import Flask, current_app
from markupsafe import Markup

from certify import rulesets
from certify.i18n import current_language

_EXTENSION = "certify.fragments"
# Far above the fragments a deployment draws (navigations by role, option lists by choice): a
# bound only against a template that is given an unbounded value by mistake.
MOST_KEPT = 5000


def fragment(template_name: str, **values) -> Markup:
    """The template ``template_name`` rendered with ``values``, drawn once per language."""
    return _fragments(template_name, [values])[0]


def fragment_each(template_name: str, name: str, items, **shared) -> Markup:
    """``fragment(template_name, <name>=item, **shared)`` for each of ``items``, one after the
    other: the rows of a list, looked up in one call rather than one call per row."""
    return Markup("").join(_fragments(template_name, [{name: item, **shared} for item in items]))


def _fragments(template_name: str, each_values: list[dict]) -> list[Markup]:
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:  # development: templates are edited while it runs
        return [_render(template_name, values) for values in each_values]
    kept = app.extensions[_EXTENSION]
    common = (template_name, current_language(), id(app.extensions[rulesets.EXTENSION]))
    drawn = []
    for values in each_values:
        # The values in the order given (a call naming them in another order is kept apart).
        key = (*common, *values.items())
        markup = kept.get(key)
        if markup is None:
            if len(kept) >= MOST_KEPT:
                kept.clear()
            markup = kept[key] = _render(template_name, values)
        drawn.append(markup)
    return drawn


def _render(template_name: str, values: dict) -> Markup:
    return Markup(current_app.jinja_env.get_template(template_name).render(values))  # noqa: S704 - an autoescaping (.html) template's output


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = {}
    app.jinja_env.globals.update(fragment=fragment, fragment_each=fragment_each)
