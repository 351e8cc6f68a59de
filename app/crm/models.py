"""CRM leads of the current platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models_base import BigId, created_at_column


class CrmLead(Model):
    __tablename__ = "crm_leads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(191))
    last_name: Mapped[str | None] = mapped_column(String(191))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(32), default="new", server_default="new")
    interested_course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    source: Mapped[str | None] = mapped_column(String(50))
    legacy_import_run_id: Mapped[int | None] = mapped_column(ForeignKey("legacy_import_runs.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
