"""Forms of the city bureau's pre-review."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from certify.tiers.services import MAX_OPINION


class CityReviewForm(FlaskForm):
    opinion = TextAreaField(
        _l("The bureau's opinion"), validators=[DataRequired(message=_l("Write the bureau's opinion.")),
                                                Length(max=MAX_OPINION)],
        description=_l("Required either way: the province reads it with a recommendation; the applicant reads "
                       "it with a return."))
    recommend = SubmitField(_l("Recommend to the province"))
    send_back = SubmitField(_l("Return to the applicant"))
