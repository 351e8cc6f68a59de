"""Forms of the review queue and the mapping pages. Field checks only: the services decide."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.legacy_import import mapping, review
from app.legacy_import.web.labels import label, vocabulary

INVALID = "valeur invalide."


def optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    return int(str(value))


class RepeatedForm(FlaskForm):
    """A form drawn once per row: its hidden fields (the CSRF token among them) render without
    an `id`, so that the page does not repeat the same ids."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field.widget, HiddenInput):
                field.render_kw = {**(field.render_kw or {}), "id": False}


class ReviewActionForm(RepeatedForm):
    """One action on one row, a hint, or a selection of rows. `group`, `show` and `after` only
    bring the reviewer back to where they were."""

    run_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Import manquant.")])
    group = HiddenField()
    show = HiddenField()
    after = HiddenField()
    action = SelectField(
        "Action",
        choices=[SelectChoice(value, text) for value, text in vocabulary("review_action").items()],
        validators=[InputRequired("Action manquante.")],
    )
    row_ids = SelectMultipleField("Lignes", coerce=int, validate_choice=False)
    page_row_ids = SelectMultipleField(coerce=int, validate_choice=False)
    whole_page = BooleanField("Toutes les lignes de la page")
    classification = SelectField(
        "Nouvelle classification",
        choices=[
            SelectChoice("", "— choisir —"),
            *(SelectChoice(c.value, label(c, "classification")) for c in review.OVERRIDE_CHOICES),
        ],
        validators=[Optional()],
    )
    reason = TextAreaField(
        "Raison (obligatoire)",
        validators=[Length(max=review.REASON_MAX, message=f"{review.REASON_MAX} caractères au plus.")],
    )
    note = TextAreaField(
        "Note", validators=[Length(max=review.NOTE_MAX, message=f"{review.NOTE_MAX} caractères au plus.")]
    )
    hint_id = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def selected_rows(self) -> tuple[int, ...]:
        chosen = self.page_row_ids.data if self.whole_page.data else self.row_ids.data
        return tuple(chosen or ())


class CourseMappingForm(RepeatedForm):
    run_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Import manquant.")])
    mapping_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    decision = SelectField(
        "Décision",
        choices=[
            SelectChoice("suggest", "Calculer les suggestions"),
            SelectChoice(mapping.ACCEPT, "Accepter la suggestion"),
            SelectChoice(mapping.CHANGE, "Choisir une autre formation"),
            SelectChoice(mapping.LEGACY_ONLY, "Garder en historique seulement"),
        ],
        validators=[InputRequired("Décision manquante.")],
    )
    course_id = SelectField("Formation actuelle", coerce=optional_int, validate_choice=False)


class SessionMappingForm(RepeatedForm):
    run_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Import manquant.")])
    mapping_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Session manquante.")])
    decision = SelectField(
        "Décision",
        choices=[
            SelectChoice(mapping.COHORT, "Associer à la cohorte"),
            SelectChoice(mapping.PLACEHOLDER, "Règle de substitution"),
        ],
        validators=[InputRequired("Décision manquante.")],
    )
    cohort_id = SelectField("Cohorte", coerce=optional_int, validate_choice=False)


def first_error(form: FlaskForm) -> str:
    """The first error, in French: WTForms' own messages (bad numbers, bad choices) are English,
    so only the messages set above are shown as they are."""
    own = {"Import manquant.", "Action manquante.", "Décision manquante.", "Session manquante."}
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None and field.label.text else name
        message = errors[0] if errors and isinstance(errors[0], str) else INVALID
        if message in own:
            return message
        return f"{label} : {message if 'caractères' in message else INVALID}"
    return "Formulaire invalide."
