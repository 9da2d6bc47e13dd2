"""The console's forms (Flask-WTF: each carries its CSRF token and validates its fields)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ivr.users.models import ROLES

NAME = Regexp(r"^[A-Za-z0-9_.-]+$", message="use letters, digits, '.', '-' or '_'")


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a state change too."""


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64), NAME])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=4, max=200)])
    role = SelectField("Role", choices=[SelectChoice(role) for role in ROLES])
    agent = SelectField("Agent", choices=[], validate_choice=False,
                        description="the agent this user works as (agents only)")


class AgentForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=64), NAME])
    endpoint = StringField(
        "Endpoint", validators=[Optional(), Length(max=200)],
        description="client:NAME (the browser softphone, the default), sip:user@host or +1555…",
    )
    skills = StringField("Skills", validators=[DataRequired(), Length(max=500)],
                         description="billing:3, general:2 (levels 1–5)")


class SkillsForm(FlaskForm):
    """Set an existing agent's skills (others they have stay as they are)."""

    agent = SelectField("Agent", choices=[], validate_choice=False)
    skills = StringField("Skills", validators=[DataRequired(), Length(max=500)])


class SkillForm(FlaskForm):
    name = StringField("Skill", validators=[DataRequired(), Length(max=64), NAME])
    description = StringField("Description", validators=[Optional(), Length(max=200)])


class FlowForm(FlaskForm):
    text = TextAreaField("Flow", validators=[DataRequired(), Length(max=200_000)])
