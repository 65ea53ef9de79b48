from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from portfolio.people.forms import LANGUAGES


class InviteForm(FlaskForm):
    name = StringField(_l("Supervisor's name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("Supervisor's email"), validators=[DataRequired(), Email(check_deliverability=False),
                                                             Length(max=320)])
    locale = SelectField(_l("Language of the emails"), choices=LANGUAGES[1:], default="en")


class SignInForm(FlaskForm):
    # A mail scanner may fetch or even submit a form; it does not tick a box that names the person.
    confirm = BooleanField(_l("Yes, this is me"), validators=[DataRequired(message=_l("Tick the box to sign in."))])


class NewLinkForm(FlaskForm):
    email = EmailField(_l("Your email address"), validators=[DataRequired(), Email(check_deliverability=False),
                                                             Length(max=320)])
