"""French labels of the codes the workspace shows: every vocabulary is labelled here, once.

Templates write `{{ row.classification|label("classification") }}` (a filter registered on the
application by the workspace blueprint) and walk a whole vocabulary with `vocabulary("...")`;
views call `label(value, "...")`. The codes themselves stay in the pages only where they are the
point: `title` attributes, the audit log's action names, classification rules.

A value missing from its vocabulary shows as itself (a new code is seen rather than hidden);
None shows as the vocabulary's "not set" label, else as a dash.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from app.legacy_import import mapping, review
from app.legacy_import.rules import plan
from app.legacy_import.vocab import (
    Classification,
    DuplicateConfidence,
    EmailStatus,
    ImportAction,
    RunStatus,
    SessionType,
    SourceTable,
    ValidationState,
)

NOT_SET = "None"  # how the run's breakdowns name rows without a value; the key of None here
DASH = "—"

_VOCABULARIES: dict[str, dict[str, str]] = {
    # -- runs ---------------------------------------------------------------------------------
    "run_status": {
        RunStatus.PENDING: "en attente",
        RunStatus.INGESTING: "lecture en cours",
        RunStatus.INGESTED: "lu",
        RunStatus.VALIDATING: "validation en cours",
        RunStatus.VALIDATED: "validé",
        RunStatus.CLASSIFYING: "classement en cours",
        RunStatus.CLASSIFIED: "classé",
        RunStatus.DRY_RUN_READY: "simulation prête",
        RunStatus.COMMITTING: "enregistrement en cours",
        RunStatus.COMMITTED: "enregistré",
        RunStatus.ROLLING_BACK: "annulation en cours",
        RunStatus.ROLLED_BACK: "annulé",
        RunStatus.FAILED: "échec",
    },
    "phase": {  # a phase as the subject of a sentence: "Validation de l'import n°3 lancée."
        "validate": "Validation",
        "classify": "Classification",
        "dry-run": "Simulation",
        "commit": "Enregistrement",
        "rollback": "Annulation",
    },
    "phase_action": {  # a phase on its button
        "validate": "Valider",
        "classify": "Classer",
        "dry-run": "Simuler",
    },
    "step": {
        "formations": "Formations",
        "session_ecoins": "Sessions",
        "students": "Stagiaires et archives",
        "stagiaires": "Stagiaires",
        "archives": "Archives",
        "session_types": "Types de session",
        "duplicate_hints": "Indices de doublons",
        "validation": "Validation",
        "classification": "Classification",
        "dry_run": "Simulation",
        "commit": "Enregistrement",
        "rollback": "Annulation",
    },
    "counter": {
        "formations_staged": "Formations",
        "sessions_staged": "Sessions",
        "stagiaires_staged": "Stagiaires",
        "archives_staged": "Archives",
        "trainings_staged": "Formations suivies",
        "phones_valid": "Téléphones valides",
        "phones_invalid": "Téléphones invalides",
        "phones_missing": "Téléphones absents",
        "emails_valid": "E-mails valides",
        "emails_placeholder": "E-mails fictifs",
        "emails_invalid": "E-mails invalides",
        "emails_missing": "E-mails absents",
        "rows_with_issues": "Lignes avec anomalies",
        "text_repairs": "Textes réparés",
    },
    # -- staged rows ------------------------------------------------------------------------------
    "source_table": {SourceTable.STAGIAIRES: "Stagiaires", SourceTable.ARCHIVES: "Archives"},
    "classification": {
        Classification.COMPLETED: "Formé(e)",
        Classification.ARCHIVED_TRAINING: "Formation archivée",
        Classification.LEAD_ONLY: "Prospect seulement",
        Classification.REGISTERED: "Inscrit(e)",
        Classification.UNKNOWN: "Inconnue",
        Classification.NEEDS_REVIEW: "À revoir",
        NOT_SET: "Pas encore classée",
    },
    "validation_state": {
        ValidationState.PENDING: "En attente",
        ValidationState.VALID: "Valide",
        ValidationState.DUPLICATE: "Doublon",
        ValidationState.NEEDS_REVIEW: "À revoir",
        ValidationState.FAILED: "Invalide",
    },
    "confidence": {  # of a duplicate hint, and of a course suggestion
        DuplicateConfidence.HIGH: "Élevée",
        DuplicateConfidence.MEDIUM: "Moyenne",
        DuplicateConfidence.LOW: "Faible",
        DuplicateConfidence.NONE: "Aucune",
    },
    "session_type": {
        SessionType.REAL_SESSION: "Session réelle",
        SessionType.WAITING_SESSION: "Session d'attente",
        SessionType.PLACEHOLDER_SESSION: "Session sans formation",
        SessionType.UNKNOWN: "Type inconnu",
        NOT_SET: "Pas encore validée",
    },
    "import_action": {
        ImportAction.CREATE_LEGACY_COMPLETED_TRAINING: "Formation terminée à créer",
        ImportAction.CREATE_COURSE_INTEREST: "Intérêt pour une formation",
        ImportAction.CREATE_LEGACY_ENROLLMENT: "Inscription",
        ImportAction.NEEDS_REVIEW: "À revoir",
        NOT_SET: "Pas encore classée",
    },
    "contact_status": {  # of a phone number and of an e-mail address, shown in their place
        EmailStatus.VALID: "valide",
        EmailStatus.PLACEHOLDER: "fictif",
        EmailStatus.INVALID: "invalide",
        EmailStatus.MISSING: "absent",
    },
    "validation_reason": {
        "no_legacy_id": "Sans n° legacy",
        "no_name_phone_or_email": "Ni nom, ni téléphone, ni e-mail",
        f"classification_{Classification.UNKNOWN}": "Statut inconnu",
        f"classification_{Classification.NEEDS_REVIEW}": "Formé(e) ou archivé(e) sans formation",
        "medium_duplicate_hint": "Doublon possible (indice moyen)",
        "no_usable_phone_or_email": "Ni téléphone ni e-mail utilisable",
        "dangling_formation": "Formation introuvable",
        "dangling_session": "Session introuvable",
        "matches_existing_user": "Doublon d'un utilisateur existant",
        "matches_existing_crm_lead": "Doublon d'un prospect existant",
        # the review queue's groups of rows in review that give no reason
        ValidationState.NEEDS_REVIEW: "À revoir (sans motif)",
        ValidationState.DUPLICATE: "Doublon (sans motif)",
    },
    "hint_reason": {
        "same_phone_as_user": "Même téléphone qu'un utilisateur",
        "same_email_as_user": "Même e-mail qu'un utilisateur",
        "same_phone_as_crm_lead": "Même téléphone qu'un prospect",
        "same_email_as_crm_lead": "Même e-mail qu'un prospect",
        "same_phone_in_run": "Même téléphone dans l'import",
        "same_email_in_run": "Même e-mail dans l'import",
        "same_name_and_birth_date": "Même nom et même date de naissance",
        "same_name_and_raw_phone": "Même nom et même téléphone brut",
        "similar_name": "Nom proche",
    },
    "object_type": {  # hint targets, committed entities, audited objects
        "user": "Utilisateur",
        "crm_lead": "Prospect CRM",
        "staged_row": "Ligne importée",
        "legacy_student_import": "Ligne importée",
        "legacy_import_run": "Import",
        "legacy_completed_training": "Formation terminée",
        "legacy_course_mapping": "Correspondance de formation",
        "legacy_session_mapping": "Correspondance de session",
    },
    "sort": {"id": "Ordre d'import", "legacy_id": "Table puis n° legacy", "last_name": "Nom"},
    # -- review ---------------------------------------------------------------------------------
    "review_decision": {plan.APPROVED: "Approuvée", plan.SKIPPED: "Écartée"},
    "hint_decision": {plan.CONFIRMED: "Confirmé", plan.REJECTED: "Rejeté"},
    "review_action": {
        review.APPROVE: "Approuver",
        review.OVERRIDE: "Corriger la classification",
        review.SKIP: "Écarter",
        review.NOTE: "Ajouter une note",
        review.CONFIRM_HINT: "Confirmer le doublon",
        review.REJECT_HINT: "Rejeter le doublon",
    },
    "review_show": {review.PENDING: "À traiter", review.DECIDED: "Traitées", review.ALL: "Toutes"},
    # -- mappings -------------------------------------------------------------------------------
    "course_decision": {
        mapping.PENDING: "À décider",
        mapping.MAPPED: "Associée",
        mapping.LEGACY_ONLY: "Historique seulement",
    },
    "session_decision": {
        mapping.PENDING: "À décider",
        mapping.MAPPED: "Cohorte",
        mapping.PLACEHOLDER: "Règle de substitution",
    },
    # -- dry run, commit and rollback -------------------------------------------------------------
    "plan_outcome": {  # what the dry run counts rows by
        plan.CREATE_LEAD: "Prospects à créer",
        plan.LINK_EXISTING: "À lier à une personne existante",
        plan.LINK_IN_RUN: "À lier à une ligne du même import",
        plan.CREATE_COMPLETED_TRAINING: "Formations terminées à créer",
        plan.DEFERRED: "Reportées",
        plan.BLOCKED: "Bloquées",
    },
    "plan_reason": {
        "high_confidence_match": "Correspondance sûre avec une personne existante",
        "same_contact_in_run": "Même contact qu'une autre ligne de l'import",
        "lead_only": "Prospect seulement",
        "unmapped_formation": "Formation sans correspondance validée",
        "registered_deferred": "Inscrits (traités plus tard)",
        "review_queue": "File de revue",
        "validation_failed": "Validation en échec",
        "not_validated_or_classified": "Pas encore validé ou classé",
        "skipped_by_reviewer": "Écartées à la revue",
    },
    "commit_action": {"created": "Création", "linked": "Liaison"},
    "rollback_reason": {
        "changed_since_commit": "Modifié depuis l'enregistrement : laissé en place",
        "gone": "Déjà supprimé",
        "in_use": "Utilisé ailleurs : laissé en place",
    },
}
# Codes that share one vocabulary under another name.
_ALIASES = {
    "email_status": "contact_status",
    "phone_status": "contact_status",
    "duplicate_confidence": "confidence",
    "target_type": "object_type",
    "entity_type": "object_type",
}

VOCABULARIES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        name: MappingProxyType({str(code): text for code, text in labels.items()})
        for name, labels in _VOCABULARIES.items()
    }
)


def vocabulary(name: str) -> Mapping[str, str]:
    """A vocabulary's codes and labels, in display order (without its "not set" label).
    An unknown name is a mistake in a template or a view: KeyError."""
    labels = VOCABULARIES[_ALIASES.get(name, name)]
    return MappingProxyType({code: text for code, text in labels.items() if code != NOT_SET})


def label(value: object, name: str) -> str:
    """The label of `value` in the vocabulary `name`."""
    labels = VOCABULARIES[_ALIASES.get(name, name)]
    if value is None or value == "":
        return labels.get(NOT_SET, DASH)
    return labels.get(str(value), str(value))
