"""Entry point: `flask ...` from the repository root finds the app here."""

from app import create_app

app = create_app()
