"""Assessment pages.

Administrators: the assignment queue with bulk assignment (preview, then confirm), assigning
one application with ranked suggestions, the assessments of an application side by side, the
evaluation reports, the agencies and assessors with their expertise and conflicts
(``assigning``, ``reports``, ``agencies``). Assessors: their assignments, accepting or
declining, the scoring pages built from the pinned rule file, the on-site record and submission
(``scoring``), their conflict declarations (``agencies``). Applicants: the assessors' comments
meant for them, and the evaluation report once the department has decided (``applicants``).

Every object is loaded through a ``load_*`` helper that answers 404 when the user may not reach
it, so that no one learns of assignments or applications that are not theirs. A refused change
is said through ``core.forms.commit_change``: at the form's field it concerns, else as a flash.
"""

from certify.assessment.blueprint import bp
from certify.assessment.views import agencies, applicants, assigning, reports, scoring  # noqa: F401 - their routes

__all__ = ["bp"]
