"""Forms of the runs pages. Each carries Flask-WTF's CSRF token."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

DEFAULT_CONNECTION = "legacy"  # LEGACY_DATABASE_URL: listed first


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class NewImportForm(FlaskForm):
    """Start a new run on one of the configured legacy connections."""

    connection = SelectField("Connexion", validators=[InputRequired()])
    label = StringField("Libellé (facultatif)", validators=[Optional(), Length(max=191)], filters=[_strip])
    submit = SubmitField("Lancer l'import")

    @classmethod
    def for_connections(cls, names: Iterable[str]) -> NewImportForm:
        form = cls()
        ordered = sorted(names, key=lambda name: (name != DEFAULT_CONNECTION, name))
        form.connection.choices = [SelectChoice(name) for name in ordered]
        return form


class PhaseForm(FlaskForm):
    """A phase button (validate, classify, dry-run): the run and the phase are in its URL, so
    the form holds only the CSRF token."""
