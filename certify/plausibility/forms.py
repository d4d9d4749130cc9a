"""The form that clears a plausibility flag: the reason is required (checked again by the service)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from certify.plausibility.services import MAX_REASON


class ClearFlagForm(FlaskForm):
    reason = TextAreaField(_l("Why the figures are plausible, or what was corrected"),
                           validators=[Length(max=MAX_REASON)])
