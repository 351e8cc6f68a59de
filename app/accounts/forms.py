from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=500)])
