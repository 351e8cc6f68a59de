"""The CRM module's own operations; other modules create leads through these."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.crm.models import CrmLead


def create_lead(
    session: Session,
    *,
    first_name: str | None,
    last_name: str | None,
    phone: str | None,
    email: str | None,
    source: str,
    legacy_import_run_id: int | None = None,
    interested_course_id: int | None = None,
) -> CrmLead:
    """A new lead, flushed (it has its id) in the caller's transaction."""
    lead = CrmLead(
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        source=source,
        legacy_import_run_id=legacy_import_run_id,
        interested_course_id=interested_course_id,
    )
    session.add(lead)
    session.flush()
    return lead


def delete_lead(session: Session, lead: CrmLead) -> None:
    session.delete(lead)
    session.flush()
