"""Template hooks: named places on a page where other areas add their part, so that the page
names the place, not the areas (an application's page shows the certificate, the re-evaluation
and the assessment without knowing of them).

An area registers in its ``init_app``: ``register_template_hook(app, "application-top",
"certificates/_application.html", context=certificate_part, order=10)``. A page asks with
``{{ template_hook("application-top", application=application) }}``: each part's ``context``
function gets the page's values and returns what its template needs more (``None``: the part has
nothing to show), and the parts are rendered in their order.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from markupsafe import Markup

_HOOKS = "certify.template_hooks"


@dataclass(frozen=True)
class HookPart:
    order: int
    template: str
    context: Callable[..., dict | None] | None


def register_template_hook(app: Flask, name: str, template: str, *,
                           context: Callable[..., dict | None] | None = None, order: int = 50) -> None:
    parts = app.extensions.setdefault(_HOOKS, {}).setdefault(name, [])
    parts.append(HookPart(order, template, context))
    parts.sort(key=lambda part: part.order)


def template_hook(place: str, /, **values) -> Markup:
    """The parts registered for ``place``, rendered with ``values``."""
    rendered = []
    for part in current_app.extensions.get(_HOOKS, {}).get(place, ()):
        extra = part.context(**values) if part.context is not None else {}
        if extra is not None:
            rendered.append(render_template(part.template, **values, **extra))
    return Markup("".join(rendered))  # noqa: S704 - each part is a template rendered with autoescaping
