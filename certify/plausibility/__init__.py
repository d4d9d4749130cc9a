"""Plausibility checks on the figures organisations report: self-assessments and self-declarations.

A reported figure can be in range and still be wrong: typed in kilograms of standard coal where
tonnes are asked, the same output value given twice with different numbers, a share bigger than
the whole it is a part of. The checks here flag such figures for the assessor or the department,
naming the rule and the values involved; a person clears each flag with a reason.

Parts:

- ``rules`` — pure rules (no Flask, no SQLAlchemy): ``check(current, indicators=..., ...)``
  returns ``Flag`` objects. Rules: ``identity`` (a reported metric value against its formula on
  the reported inputs), ``share_mismatch`` (the same for a percentage), ``shared_quantity`` (one
  quantity reported differently in two metrics), ``unit_slip`` (about 1000 × or 1/1000 of the
  previous period's figure or of the national limit: kgce for tce, t for kt), ``jump`` (year on
  year beyond a factor), ``beyond_limit`` (worse than grade 3, the mandatory limit, of the national
  energy-consumption limit standard of the unit's class), ``percentage_range`` and
  ``part_exceeds_whole``.
- ``reference`` — the data the rules read, from ``criteria/limits/``:
  ``energy-consumption-limits.yaml`` (national limit standards, each value with its source and
  mark) and ``shared-figures.yaml`` (which inputs of which rule set are the same quantity, and
  which are part of another). A wrong file is refused with errors naming the file and the key.
- the thresholds — settings like every other (declared, typed and checked at start-up in
  ``certify.config.Settings``; the rules get them as a ``rules.Thresholds``), with these defaults:

  ``CERTIFY_PLAUSIBILITY_TOLERANCE`` (default ``0.005``): relative difference allowed between a
  reported value and the value its figures give (beyond the rounding of the reported value's
  last decimal place, which is always allowed);
  ``CERTIFY_PLAUSIBILITY_JUMP_FACTOR`` (default ``2``): a figure more than this many times, or
  less than one over this many times, its previous-period value is flagged as a jump;
  ``CERTIFY_PLAUSIBILITY_SLIP_FACTOR`` (default ``1000``) and ``CERTIFY_PLAUSIBILITY_SLIP_BAND``
  (default ``3``): a figure between ``factor / band`` and ``factor × band`` times (or the inverse)
  its previous value or the limit is flagged as a unit slip rather than a jump.
  No published text sets these numbers: they are this system's defaults, provisional, and a
  province sets its own.
- ``models``, ``services``, ``permissions``, ``views`` — the stored flags, running the checks when
  a self-assessment or a declaration is submitted, clearing a flag with a reason, and the panel
  on the application's and the declaration's pages.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Read the reference files (refused at start-up when wrong), register the
    page that clears a flag and the flag panel on the application's and declaration's pages."""
    from certify.core.hooks import register_template_hook
    from certify.plausibility import panel, services
    from certify.plausibility.views import bp

    services.configure(app)
    app.register_blueprint(bp)
    register_template_hook(app, "application-top", "plausibility/_panel.html",
                           context=panel.application_panel, order=30)
    register_template_hook(app, "declaration-review", "plausibility/_panel.html",
                           context=panel.declaration_panel, order=10)
