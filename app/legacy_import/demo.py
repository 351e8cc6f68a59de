"""Generator of a realistic *legacy* ECOIN database (the old platform's MySQL schema).

Pure SQLAlchemy Core, no Flask.  It creates the four tables of ``legacy-schema.sql``
(``formations``, ``session_ecoins``, ``stagiaires``, ``archives``) at any SQLAlchemy URL
(SQLite file, MySQL/MariaDB, PostgreSQL) and fills them with fake but realistic data that
carries every kind of mess the importer has to survive.  All people, phone numbers and
addresses are invented.

Public API
----------
``generate_legacy_database(url, rows, *, seed=7, archive_share=0.3, batch_size=5000)``
    Drop (if present) and create the four tables, fill them, return the row counts.
``legacy_fingerprint(url_or_engine)``
    sha256 per legacy table over every row (ordered by id); only SELECTs.
``demo_command``
    ``click`` command ``make-demo-db`` (registered by the app under ``flask legacy``).

Determinism: the data depend only on ``seed``, ``rows`` and ``archive_share`` (not on
``batch_size`` nor on the database backend).  Memory does not grow with ``rows``: rows are
generated and inserted one batch at a time, one transaction per batch; duplicated people are
re-derived from a hash of (seed, row id) instead of being remembered.

Zero dates (``stagiaires.date_naissance = '0000-00-00'``):
  * MySQL/MariaDB: stored as the real zero date (the generator's session uses
    ``sql_mode=''``); PyMySQL reads it back as the *string* ``'0000-00-00'``.
  * SQLite: stored as the literal text ``'0000-00-00'`` in the DATE column (SQLite accepts
    it), so the demo file behaves like MySQL.  All SQLite date/timestamp columns hold plain
    MySQL-style text (``'1998-03-15'``, ``'2019-05-03 10:22:11'``).  Note: reading that
    column through SQLAlchemy's ``Date`` type (e.g. a reflected table) raises ValueError on
    the zero date; readers should fetch raw values (``text()`` / String-typed columns).
  * PostgreSQL: a DATE cannot hold it, so those rows are NULL.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "EXTRA_WAITING_SESSION_IDS",
    "LEGACY_TABLES",
    "PLACEHOLDER_EMAIL",
    "PLACEHOLDER_SESSION_IDS",
    "SCHOOL_PHONE_NORMALIZED",
    "SCHOOL_PHONE_VARIANTS",
    "WAITING_SESSION_IDS",
    "ZERO_DATE",
    "demo_command",
    "generate_legacy_database",
    "legacy_fingerprint",
    "legacy_metadata",
]

LEGACY_TABLES: tuple[str, ...] = ("formations", "session_ecoins", "stagiaires", "archives")

#: Waiting sessions that the spec names explicitly.
WAITING_SESSION_IDS: tuple[int, ...] = (1, 2, 235)
#: Further sessions whose code contains "Session-Attente" (case / '-' / ' ' variants).
EXTRA_WAITING_SESSION_IDS: tuple[int, ...] = (17, 64, 118, 177, 260)
#: Sessions without a valid formation (formation_id NULL, 0 or dangling), not waiting.
PLACEHOLDER_SESSION_IDS: tuple[int, ...] = (9, 33, 58, 91, 126, 150, 199, 222, 248, 271, 289, 297)
#: The school's own phone number, written on ~2% of student rows (several spellings).
SCHOOL_PHONE_VARIANTS: tuple[str, ...] = ("021 73 45 10", "021734510", "021.73.45.10", "+213 21 73 45 10")
SCHOOL_PHONE_NORMALIZED = "21321734510"
#: The school-wide fake e-mail, on ~2% of student rows (case / spacing variants).
PLACEHOLDER_EMAIL = "Ecoin.hank@gmail.com"
ZERO_DATE = "0000-00-00"

N_FORMATIONS = 25
N_SESSIONS = 300

# --------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------


class _SQLiteRaw(sa.types.UserDefinedType):
    """SQLite-only column type: given DDL name, values stored/read verbatim (no processors).

    Lets the SQLite demo hold MySQL-like text ('2019-05-03 10:22:11', '0000-00-00').
    """

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None


def _id_type() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb")


def _fk_type() -> sa.types.TypeEngine:  # reference columns: BIGINT UNSIGNED NULL, no FK
    return sa.BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb")


def _date() -> sa.types.TypeEngine:
    return sa.Date().with_variant(_SQLiteRaw("DATE"), "sqlite")


def _timestamp() -> sa.types.TypeEngine:
    return sa.TIMESTAMP().with_variant(_SQLiteRaw("TIMESTAMP"), "sqlite")


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(_SQLiteRaw("DATETIME"), "sqlite")


def _money() -> sa.types.TypeEngine:
    return sa.Numeric(10, 2).with_variant(_SQLiteRaw("DECIMAL(10, 2)"), "sqlite")


_TABLE_KW: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def legacy_metadata() -> sa.MetaData:
    """The four legacy tables exactly as ``legacy-schema.sql`` (names and nullability)."""
    md = sa.MetaData()

    def pk() -> sa.Column:
        return sa.Column("id", _id_type(), primary_key=True, autoincrement=True, nullable=False)

    def stamps() -> list[sa.Column]:
        return [
            sa.Column("created_at", _timestamp(), nullable=True),
            sa.Column("updated_at", _timestamp(), nullable=True),
        ]

    sa.Table(
        "formations",
        md,
        pk(),
        sa.Column("nom", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("prix", _money(), nullable=True),
        sa.Column("duree", sa.String(100), nullable=True),
        *stamps(),
        **_TABLE_KW,
    )
    sa.Table(
        "session_ecoins",
        md,
        pk(),
        sa.Column("code", sa.String(191), nullable=True),
        sa.Column("formation_id", _fk_type(), nullable=True),
        sa.Column("date_debut", _date(), nullable=True),
        sa.Column("date_fin", _date(), nullable=True),
        *stamps(),
        **_TABLE_KW,
    )
    sa.Table(
        "stagiaires",
        md,
        pk(),
        sa.Column("nom", sa.String(191), nullable=True),
        sa.Column("prenom", sa.String(191), nullable=True),
        sa.Column("telephone", sa.String(191), nullable=True),
        sa.Column("email", sa.String(191), nullable=True),
        sa.Column("date_naissance", _date(), nullable=True),
        sa.Column("lieu_naissance", sa.String(191), nullable=True),
        sa.Column("adresse", sa.String(255), nullable=True),
        sa.Column("wilaya", sa.String(100), nullable=True),
        sa.Column("statut", sa.String(100), nullable=True),
        sa.Column("formation_id", _fk_type(), nullable=True),
        sa.Column("session_ecoin_id", _fk_type(), nullable=True),
        sa.Column("remarque", sa.Text(), nullable=True),
        *stamps(),
        **_TABLE_KW,
    )
    sa.Table(
        "archives",
        md,
        pk(),
        sa.Column("stagiaire_id", _fk_type(), nullable=True),
        sa.Column("nom", sa.String(191), nullable=True),
        sa.Column("prenom", sa.String(191), nullable=True),
        sa.Column("telephone", sa.String(191), nullable=True),
        sa.Column("email", sa.String(191), nullable=True),
        sa.Column("date_naissance", sa.String(191), nullable=True),
        sa.Column("statut", sa.String(100), nullable=True),
        sa.Column("formation_id", _fk_type(), nullable=True),
        sa.Column("session_ecoin_id", _fk_type(), nullable=True),
        sa.Column("date_archivage", _datetime(), nullable=True),
        *stamps(),
        **_TABLE_KW,
    )
    return md


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

# (name, session-code abbreviation, duree, prix DZD)
_FORMATIONS: list[tuple[str, str, str | None, int | None]] = [
    ("Développement Web", "DW", "6 mois", 45000),
    ("Comptabilité et Finance", "CF", "6 mois", 38000),
    ("Secrétariat de direction", "SD", "4 mois", 28000),
    ("Langue Anglaise", "ANG", "3 mois", 18000),
    ("Infographie", "INFOG", "4 mois", 32000),
    ("Réseaux informatiques", "RES", "6 mois", 42000),
    ("Langue Française", "FR", "3 mois", 16000),
    ("Bureautique", "BUR", "45 heures", 12000),
    ("Gestion des ressources humaines", "GRH", "4 mois", 30000),
    ("Marketing digital", "MD", "3 mois", 27000),
    ("Maintenance informatique", "MI", "4 mois", 30000),
    ("Comptabilité informatisée (PC Compta)", "PCC", "2 mois", 20000),
    ("Développement mobile", "DM", "6 mois", 48000),
    ("Langue Allemande", "ALL", "3 mois", 19000),
    ("Électricité bâtiment", "ELEC", "5 mois", 35000),
    ("Gestion de stock et logistique", "LOG", "3 mois", 26000),
    ("Community management", "CM", "10 semaines", 22000),
    ("Secrétariat médical", "SM", "4 mois", 26000),
    ("Langue Espagnole", "ESP", "3 mois", 18000),
    ("Photographie et montage vidéo", "PHOTO", "3 mois", 29000),
    ("Hygiène, sécurité et environnement (HSE)", "HSE", "1 an", 65000),
    ("Transit et dédouanement", "TRANSIT", "4 mois", 33000),
    # re-created rows, stored double-encoded by an old latin1 connection
    ("SecrÃ©tariat de direction", "SD", None, None),
    ("ComptabilitÃ© gÃ©nÃ©rale", "CG", "6 mois", 36000),
    ("DÃ©veloppement Web - cours du soir", "DWS", "8 mois", None),
]

_DESCRIPTIONS = [
    "Formation qualifiante avec attestation de fin de formation.",
    "Cours théoriques et travaux pratiques, stage en entreprise en fin de cursus.",
    "Formation accélérée, groupes du soir et du week-end.",
    "Préparation aux métiers du secteur, encadrée par des formateurs professionnels.",
    None,
    "",
]

_FIRST_NAMES = [
    "Amine",
    "Mohamed",
    "Yacine",
    "Karim",
    "Sofiane",
    "Walid",
    "Bilal",
    "Riad",
    "Mehdi",
    "Nassim",
    "Hamza",
    "Youcef",
    "Abdelkader",
    "Rachid",
    "Samir",
    "Nabil",
    "Farid",
    "Khaled",
    "Redouane",
    "Ismail",
    "Ayoub",
    "Anis",
    "Lyes",
    "Massinissa",
    "Ferhat",
    "Idir",
    "Aghiles",
    "Mourad",
    "Hichem",
    "Oussama",
    "Mohamed Amine",
    "Abderrahmane",
    "Zakaria",
    "Chérif",
    "Saïd",
    "Zinédine",
    "Yasmine",
    "Fatima Zohra",
    "Amina",
    "Meriem",
    "Sarah",
    "Lina",
    "Imane",
    "Nour El Houda",
    "Khadidja",
    "Aïcha",
    "Asma",
    "Rania",
    "Lydia",
    "Kahina",
    "Thiziri",
    "Dihia",
    "Sonia",
    "Nesrine",
    "Houda",
    "Samira",
    "Wafa",
    "Chaïma",
    "Manel",
    "Inès",
    "Mélissa",
    "Célia",
    "Anaïs",
    "Kheïra",
    "Nadia",
    "Souad",
    "Djamila",
    "Hanane",
    "Sabrina",
    "Hayet",
    "Fériel",
    "Selma",
]
_LAST_NAMES = [
    "Benali",
    "Boudiaf",
    "Kaci",
    "Haddad",
    "Ait Ahmed",
    "Bouzid",
    "Belkacem",
    "Mansouri",
    "Saidi",
    "Zerrouki",
    "Hamidi",
    "Brahimi",
    "Khelifi",
    "Meziane",
    "Amrani",
    "Bensalem",
    "Boumediene",
    "Djebbar",
    "Lounis",
    "Ouali",
    "Rahmani",
    "Slimani",
    "Tahar",
    "Yahiaoui",
    "Ziani",
    "Benmoussa",
    "Bélaïd",
    "Chérifi",
    "Hadj Ali",
    "Ait Ouali",
    "Ben Ahmed",
    "Mebarki",
    "Benyahia",
    "Guendouz",
    "Messaoudi",
    "Larbi",
    "Gacem",
    "Ikhlef",
    "Oukaci",
    "Bouchama",
    "Aouadi",
    "Dahmani",
    "Mokrani",
    "Sahraoui",
    "Benkhelifa",
    "Hamadache",
    "Laïb",
    "Zitouni",
    "Boukhalfa",
    "Belhadj",
    "Benamara",
    "Touati",
    "Chikhi",
    "Hamdi",
    "Nait Saada",
    "Aït Kaci",
    "Kheloufi",
    "Benchikh",
    "Mahdjoub",
    "Bouras",
    "Taleb",
    "Ferrah",
    "Hadjadj",
    "Achour",
    "Kerkouche",
    "Boudjemaa",
]
_WILAYAS = [  # (name, code) weighted towards the school's catchment area
    ("Alger", 16),
    ("Alger", 16),
    ("Alger", 16),
    ("Alger", 16),
    ("Alger", 16),
    ("Alger", 16),
    ("Blida", 9),
    ("Blida", 9),
    ("Boumerdès", 35),
    ("Boumerdès", 35),
    ("Tipaza", 42),
    ("Tizi Ouzou", 15),
    ("Tizi Ouzou", 15),
    ("Bouira", 10),
    ("Médéa", 26),
    ("Béjaïa", 6),
    ("Oran", 31),
    ("Sétif", 19),
    ("Constantine", 25),
    ("Annaba", 23),
    ("Chlef", 2),
    ("Tlemcen", 13),
    ("Batna", 5),
    ("Biskra", 7),
    ("Djelfa", 17),
    ("Mostaganem", 27),
    ("Jijel", 18),
    ("Bordj Bou Arréridj", 34),
    ("M'Sila", 28),
    ("Aïn Defla", 44),
    ("Sidi Bel Abbès", 22),
    ("Ghardaïa", 47),
    ("Laghouat", 3),
    ("Tiaret", 14),
    ("Ouargla", 30),
]
_COMMUNES_ALGER = [
    "Bab El Oued",
    "Hussein Dey",
    "Kouba",
    "El Harrach",
    "Bir Mourad Raïs",
    "Rouiba",
    "Bordj El Kiffan",
    "Chéraga",
    "Draria",
    "Birkhadem",
    "Bab Ezzouar",
    "Dar El Beïda",
    "Baraki",
    "Les Eucalyptus",
    "Ain Benian",
    "Staouéli",
    "Hydra",
    "El Biar",
    "Belouizdad",
]
_STREETS = [
    "Didouche Mourad",
    "Larbi Ben M'hidi",
    "Hassiba Ben Bouali",
    "Colonel Amirouche",
    "Abane Ramdane",
    "Krim Belkacem",
    "du 1er Novembre",
    "Ahmed Zabana",
    "Mohamed Belouizdad",
]
_REMARQUES = [
    "Rappeler la semaine prochaine",
    "A payé 50%",
    "Ne répond pas au téléphone",
    "Intéressé(e) par la session de septembre",
    "Doublon ?",
    "Veut le cours du soir",
    "Paiement en deux tranches",
    "Attestation remise",
    "Dossier incomplet (photo manquante)",
    "Reportée pour raisons personnelles",
    "Demande une facture",
    "Abandon après 2 semaines",
    "Inscrit(e) par téléphone",
    "Vient de la part d'une amie",
    "Numéro erroné",
    "Etudiante à l'université, disponible le samedi",
    "RAS",
    ".",
]
_EMAIL_DOMAINS = (
    ["gmail.com"] * 11
    + ["yahoo.fr"] * 3
    + ["hotmail.com"] * 2
    + ["hotmail.fr", "outlook.com", "yahoo.com", "live.fr"]
)
_MOBILE_PREFIXES = ["55", "55", "55", "66", "66", "69", "65", "67", "77", "77", "79", "78"]
_FOREIGN_PHONES = [
    "+33 6 12 34 56 78",
    "0033 6 45 78 12 90",
    "+33 6 23 45 67 89",
    "+216 22 123 456",
    "+216 98 765 432",
    "+212 6 61 23 45 67",
]
_PHONE_GARBAGE = [
    "0555",
    "12345",
    "05594461",
    "055944616",
    "06",
    "123",
    "xx",
    "pas de tel",
    "0000000000",
    "aucun",
]
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_EXT_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

_EPOCH = datetime(2016, 1, 1)
_NOW = datetime(2026, 5, 1)
_DOB_BASE = date(1975, 1, 1).toordinal()


def _mojibake(text: str) -> str:
    """UTF-8 bytes read back as latin1/cp1252 (MySQL 'latin1'): 'Formée' -> 'FormÃ©e'."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:  # the 5 holes of cp1252 map to C1 controls in MySQL latin1
            out.append(chr(byte))
    return "".join(out)


@lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and c.isascii()).lower()


class _Weighted:
    """Fast weighted choice: one rng.random() + bisect."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


# Shares are percentages of student rows (roughly; "clean" takes the rest).
_PHONE_KIND = _Weighted(
    [
        ("plain", 46.5),
        ("spaces", 6),
        ("intl", 5),
        ("00213", 3),
        ("213", 3),
        ("dashes", 3),
        ("dots", 3),
        ("no_zero", 4),
        ("two", 3),
        ("arabic", 2),
        ("zero", 1.5),
        ("double_zero", 1),
        ("slash", 1.5),
        ("null_text", 1.5),
        ("empty", 2),
        ("none", 3),
        ("garbage", 2),
        ("foreign", 1),
        ("school", 2),
        ("padded", 1),
    ]
)
_EMAIL_KIND = _Weighted(
    [
        ("clean", 52),
        ("upper", 3),
        ("capitalized", 1.5),
        ("spaces", 4),
        ("slash", 3),
        ("null_text", 2),
        ("null_lower", 1.5),
        ("empty", 8),
        ("none", 10),
        ("dash", 2),
        ("neant", 1.5),
        ("placeholder", 2.5),
        ("malformed", 3),
    ]
)
_NAME_STYLE = _Weighted([("normal", 77), ("upper_nom", 10), ("upper", 6), ("lower", 3), ("spaces", 4)])
_STAGIAIRE_STATUT = _Weighted(
    [
        ("Formée", 13),
        ("formée", 3),
        ("FORMEE", 2),
        ("Formé", 2),
        ("FormÃ©e", 2),
        (" Formée ", 1),
        ("Archivé", 3),
        ("archivé", 2),
        ("Archivè", 1),
        ("ArchivÃ©", 1),
        ("Informer", 12),
        ("informer", 4),
        ("Reporter", 6),
        ("Ne répond pas", 8),
        ("ne repond pas", 3),
        ("Confirmer", 10),
        ("nouveau", 9),
        ("Nouveau", 1),
        ("", 4),
        (None, 4),
        ("Annulé", 2),
        ("xxx", 1),
    ]
)
_ARCHIVE_STATUT = _Weighted(
    [
        ("Archivé", 38),
        ("archivé", 10),
        ("Archivè", 5),
        ("ArchivÃ©", 5),
        ("ARCHIVE", 2),
        ("Formée", 24),
        ("formée", 3),
        ("FormÃ©e", 3),
        ("Informer", 2),
        ("Confirmer", 1),
        ("", 3),
        (None, 3),
        ("Annulé", 1),
    ]
)
_ARCHIVE_DOB = _Weighted(
    [
        ("iso", 40),
        ("slash", 25),
        ("dash", 10),
        ("empty", 8),
        ("none", 7),
        ("inconnue", 4),
        ("impossible", 3),
        ("zero", 1),
        ("padded", 2),
    ]
)
_SESSION_REF = _Weighted(
    [
        ("real", 63),
        ("waiting", 12),
        ("extra_waiting", 3),
        ("placeholder", 4),
        ("none", 8),
        ("zero", 4),
        ("dangling", 6),
    ]
)
_ARCHIVE_SESSION_REF = _Weighted(
    [
        ("real", 78),
        ("waiting", 4),
        ("extra_waiting", 1),
        ("placeholder", 4),
        ("none", 7),
        ("zero", 2),
        ("dangling", 4),
    ]
)
_FORMATION_OVERLAY = _Weighted([("keep", 86), ("none", 6), ("zero", 4), ("dangling", 4)])
_DANGLING_FORMATIONS = [26, 27, 31, 40, 77, 99, 404]
_DANGLING_SESSIONS = [301, 305, 312, 350, 404, 999, 1200, 5000]


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


class _Identity:
    __slots__ = (
        "alt_nsn",
        "commune",
        "dob",
        "domain",
        "email_local",
        "first",
        "last",
        "nsn",
        "wilaya",
    )

    def __init__(self, first, last, nsn, alt_nsn, dob, wilaya, email_local, domain, commune):
        self.first, self.last, self.nsn, self.alt_nsn = first, last, nsn, alt_nsn
        self.dob, self.wilaya, self.email_local, self.domain = dob, wilaya, email_local, domain
        self.commune = commune


class _Generator:
    def __init__(self, seed: int, dialect: str) -> None:
        self.seed = seed
        self._seed_text = str(seed)
        self.rng = random.Random(seed)
        self.dialect = dialect
        server_text = dialect in ("mysql", "mariadb", "sqlite")
        # value formatting per backend (MySQL/SQLite: MySQL-style text; PG: Python objects)
        self.fmt_date: Callable[[date], Any] = date.isoformat if server_text else (lambda d: d)
        self.fmt_ts: Callable[[datetime], Any] = (
            (lambda dt: dt.isoformat(" ")) if server_text else (lambda dt: dt)
        )
        self.fmt_money: Callable[[int], Any] = (
            (lambda v: f"{v}.00") if server_text else (lambda v: Decimal(v).quantize(Decimal("0.01")))
        )
        self.zero_date: Any = None if dialect == "postgresql" else ZERO_DATE
        self.session_formation: dict[int, Any] = {}
        self.real_sessions: list[int] = []
        self.valid_formations = list(range(1, N_FORMATIONS + 1))

    # -- hashing helpers (stateless, so duplicates need no memory) ---------------------
    def _h(self, *parts: Any, size: int = 16) -> int:
        key = "|".join([self._seed_text, *map(str, parts)]).encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=size).digest(), "big")

    def identity(self, tag: str, key: int) -> _Identity:
        h = self._h("id", tag, key, size=32)
        h, fi = divmod(h, len(_FIRST_NAMES))
        h, li = divmod(h, len(_LAST_NAMES))
        h, pi = divmod(h, len(_MOBILE_PREFIXES))
        h, rest = divmod(h, 10_000_000)
        h, pi2 = divmod(h, len(_MOBILE_PREFIXES))
        h, rest2 = divmod(h, 10_000_000)
        h, days = divmod(h, 365 * 32)
        h, wi = divmod(h, len(_WILAYAS))
        h, style = divmod(h, 8)
        h, yy = divmod(h, 100)
        h, di = divmod(h, len(_EMAIL_DOMAINS))
        h, ci = divmod(h, len(_COMMUNES_ALGER))
        first, last = _FIRST_NAMES[fi], _LAST_NAMES[li]
        p, n = _ascii(first), _ascii(last)
        local = (
            f"{p}.{n}",
            f"{p}{n}",
            f"{p}.{n}{yy:02d}",
            f"{p[0]}.{n}",
            f"{n}.{p}",
            f"{p}_{n}{yy}",
            f"{p}{yy:02d}",
            f"{n}{p[0]}",
        )[style]
        return _Identity(
            first,
            last,
            f"{_MOBILE_PREFIXES[pi]}{rest:07d}",
            f"{_MOBILE_PREFIXES[pi2]}{rest2:07d}",
            date.fromordinal(_DOB_BASE + days),
            _WILAYAS[wi],
            local,
            _EMAIL_DOMAINS[di],
            _COMMUNES_ALGER[ci],
        )

    def _twin_target(self, tag: str, i: int, share_per_mille: int) -> int | None:
        """Earlier row that row ``i`` duplicates (same person), decided by hash."""
        if i <= 1:
            return None
        h = self._h("twin", tag, i, size=8)
        if h % 1000 >= share_per_mille:
            return None
        return i - 1 - (h // 1000) % min(i - 1, 3000)

    def person_key(self, tag: str, i: int, share_per_mille: int) -> int:
        key = i
        while (j := self._twin_target(tag, key, share_per_mille)) is not None:
            key = j
        return key

    # -- formatting of messy fields -----------------------------------------------------
    def phone(self, ident: _Identity) -> str | None:
        rng = self.rng
        kind = _PHONE_KIND(rng)
        d = ident.nsn
        if kind == "plain":
            return "0" + d
        if kind == "spaces":
            return f"0{d[0:3]} {d[3:5]} {d[5:7]} {d[7:9]}"
        if kind == "intl":
            return f"+213 {d[0:3]} {d[3:5]} {d[5:7]} {d[7:9]}"
        if kind == "00213":
            return "00213" + d
        if kind == "213":
            return "213" + d
        if kind == "dashes":
            return f"0{d[0:3]}-{d[3:5]}-{d[5:7]}-{d[7:9]}"
        if kind == "dots":
            return f"0{d[0:3]}.{d[3:5]}.{d[5:7]}.{d[7:9]}"
        if kind == "no_zero":
            return d
        if kind == "two":
            a = ident.alt_nsn
            if rng.random() < 0.5:
                return f"0{d}{rng.choice((' / ', '/', ' ou ', ', ', ' - '))}0{a}"
            return f"0{d[0:3]} {d[3:5]} {d[5:7]} {d[7:9]} - 0{a[0:3]} {a[3:5]} {a[5:7]} {a[7:9]}"
        if kind == "arabic":
            text = "0" + d
            if rng.random() < 0.3:
                text = f"0{d[0:3]} {d[3:5]} {d[5:7]} {d[7:9]}"
            return text.translate(_EXT_ARABIC_INDIC if rng.random() < 0.2 else _ARABIC_INDIC)
        if kind == "zero":
            return "0"
        if kind == "double_zero":
            return "00"
        if kind == "slash":
            return "/"
        if kind == "null_text":
            return "NULL"
        if kind == "empty":
            return ""
        if kind == "none":
            return None
        if kind == "garbage":
            return rng.choice(_PHONE_GARBAGE)
        if kind == "foreign":
            return rng.choice(_FOREIGN_PHONES)
        if kind == "school":
            return SCHOOL_PHONE_VARIANTS[0] if rng.random() < 0.7 else rng.choice(SCHOOL_PHONE_VARIANTS)
        return f" 0{d} "  # padded

    def email(self, ident: _Identity) -> str | None:
        rng = self.rng
        kind = _EMAIL_KIND(rng)
        addr = f"{ident.email_local}@{ident.domain}"
        if kind == "clean":
            return addr
        if kind == "upper":
            return addr.upper()
        if kind == "capitalized":
            return addr[0].upper() + addr[1:]
        if kind == "spaces":
            return rng.choice((f" {addr}", f"{addr} ", f"  {addr}  "))
        if kind == "slash":
            return "/"
        if kind == "null_text":
            return "NULL"
        if kind == "null_lower":
            return "null"
        if kind == "empty":
            return ""
        if kind == "none":
            return None
        if kind == "dash":
            return "-"
        if kind == "neant":
            return "néant" if rng.random() < 0.75 else "Néant"
        if kind == "placeholder":
            return rng.choice(
                (
                    PLACEHOLDER_EMAIL,
                    PLACEHOLDER_EMAIL,
                    "ecoin.hank@gmail.com",
                    "ECOIN.HANK@GMAIL.COM",
                    " Ecoin.hank@gmail.com",
                )
            )
        # malformed
        p, n = _ascii(ident.first), _ascii(ident.last)
        return rng.choice(
            (
                f"{p}@",
                f"{p}.{n}.gmail.com",
                f"{p} {n}@yahoo.fr",
                f"{p}@@gmail.com",
                f"{p}.{n}@gmail",
                f"{p}.gmail.com",
            )
        )

    def names(self, ident: _Identity, swap: bool = False) -> tuple[str | None, str | None]:
        rng = self.rng
        nom, prenom = ident.last, ident.first
        if swap:
            nom, prenom = prenom, nom
        style = _NAME_STYLE(rng)
        if style == "upper_nom":
            nom = nom.upper()
        elif style == "upper":
            nom, prenom = nom.upper(), prenom.upper()
        elif style == "lower":
            nom, prenom = nom.lower(), prenom.lower()
        elif style == "spaces":
            nom = f" {nom.replace(' ', '  ')} "
            prenom = f"{prenom.replace(' ', '  ')}  "
        if not (nom + prenom).isascii() and rng.random() < 0.3:
            nom, prenom = _mojibake(nom), _mojibake(prenom)
        r = rng.random()
        if r < 0.010:
            nom = None
        elif r < 0.020:
            nom = ""
        elif r < 0.030:
            prenom = None
        elif r < 0.037:
            prenom = ""
        elif r < 0.042:
            nom = prenom = None
        return nom, prenom

    def timestamp(self, start: datetime = _EPOCH, end: datetime = _NOW) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(max(span, 1)))

    def session_ref(self, chooser: _Weighted) -> int | None:
        rng = self.rng
        kind = chooser(rng)
        if kind == "real":
            return rng.choice(self.real_sessions)
        if kind == "waiting":
            return rng.choice(WAITING_SESSION_IDS)
        if kind == "extra_waiting":
            return rng.choice(EXTRA_WAITING_SESSION_IDS)
        if kind == "placeholder":
            return rng.choice(PLACEHOLDER_SESSION_IDS)
        if kind == "none":
            return None
        if kind == "zero":
            return 0
        return rng.choice(_DANGLING_SESSIONS)

    def formation_ref(self, session_id: int | None) -> int | None:
        rng = self.rng
        sf = self.session_formation.get(session_id) if session_id else None
        if isinstance(sf, int) and 1 <= sf <= N_FORMATIONS and rng.random() < 0.9:
            base: int | None = sf
        else:
            base = rng.choice(self.valid_formations)
        overlay = _FORMATION_OVERLAY(rng)
        if overlay == "keep":
            return base
        if overlay == "none":
            return None
        if overlay == "zero":
            return 0
        return rng.choice(_DANGLING_FORMATIONS)

    # -- tables -------------------------------------------------------------------------
    def formations(self) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for i, (nom, _abbr, duree, prix) in enumerate(_FORMATIONS, start=1):
            created = self.timestamp(_EPOCH, datetime(2018, 1, 1))
            rows.append(
                {
                    "id": i,
                    "nom": nom,
                    "description": rng.choice(_DESCRIPTIONS),
                    "prix": None if prix is None else self.fmt_money(prix),
                    "duree": duree,
                    "created_at": self.fmt_ts(created),
                    "updated_at": None if rng.random() < 0.2 else self.fmt_ts(self.timestamp(created)),
                }
            )
        return rows

    def sessions(self) -> list[dict[str, Any]]:
        rng = self.rng
        waiting_codes = {
            1: ("Session-Attente-DW", 1),
            2: ("session attente", None),
            235: ("SESSION-ATTENTE", 4),
            17: ("Session-Attente-COMPTA", 2),
            64: ("Session Attente Anglais", 4),
            118: ("session-attente-infographie", 5),
            177: ("SESSION ATTENTE RESEAUX", 6),
            260: ("Session-Attente", None),
        }
        placeholder_codes = [
            "DIVERS",
            "TEST",
            "A-DEFINIR",
            "ANCIEN-SYSTEME",
            "SANS FORMATION",
            "Groupe libre",
            "IMPORT-2018",
            "DW-2019-XX",
            "GROUPE-B",
            "Reliquat",
            "TEMP",
            "Session ?",
        ]
        placeholder_formation: list[int | None] = [None, 0, 26, None, 0, 99, None, 0, 31, None, 0, 404]
        used_codes: set[str] = set()
        rows = []
        for sid in range(1, N_SESSIONS + 1):
            month_index = (sid - 1) * 120 // N_SESSIONS
            year, month = 2016 + month_index // 12, month_index % 12 + 1
            created = datetime(year, month, 1) - timedelta(
                days=rng.randint(5, 40), seconds=rng.randrange(86400)
            )
            start = date(year, month, rng.randint(1, 15))
            debut: date | None = start
            fin: date | None = start + timedelta(days=rng.choice((60, 90, 120, 180, 240, 365)))
            if sid in waiting_codes:
                code, formation = waiting_codes[sid]
                debut = fin = None
            elif sid in PLACEHOLDER_SESSION_IDS:
                k = PLACEHOLDER_SESSION_IDS.index(sid)
                code, formation = placeholder_codes[k], placeholder_formation[k]
                if rng.random() < 0.5:
                    debut = fin = None
            else:
                formation = rng.choice(self.valid_formations)
                abbr = _FORMATIONS[formation - 1][1]
                code = f"{abbr}-{year}-{month:02d}"
                if code in used_codes:
                    code += "-B"
                used_codes.add(code)
                r = rng.random()
                if r < 0.03:
                    code = code.lower().replace("-", " ", 1)
                elif r < 0.045:
                    code = None  # real session with a lost code (still structurally valid)
                elif r < 0.05:
                    code = ""
                if rng.random() < 0.05:
                    fin = None
                self.real_sessions.append(sid)
            self.session_formation[sid] = formation
            rows.append(
                {
                    "id": sid,
                    "code": code,
                    "formation_id": formation,
                    "date_debut": None if debut is None else self.fmt_date(debut),
                    "date_fin": None if fin is None else self.fmt_date(fin),
                    "created_at": self.fmt_ts(created),
                    "updated_at": None if rng.random() < 0.3 else self.fmt_ts(self.timestamp(created)),
                }
            )
        return rows

    def stagiaire(self, i: int) -> dict[str, Any]:
        rng = self.rng
        key = self.person_key("S", i, _STAGIAIRE_TWIN_PER_MILLE)
        ident = self.identity("S", key)
        nom, prenom = self.names(ident, swap=key != i and rng.random() < 0.3)
        r = rng.random()
        if r < 0.10:
            dob: Any = None
        elif r < 0.14:
            dob = self.zero_date
        else:
            dob = self.fmt_date(ident.dob)
        wname, wcode = ident.wilaya
        r = rng.random()
        if r < 0.06:
            wilaya: str | None = None
        elif r < 0.08:
            wilaya = ""
        elif r < 0.12:
            wilaya = f"{wcode:02d} - {wname}"
        elif r < 0.16:
            wilaya = wname.upper()
        elif r < 0.18:
            wilaya = _mojibake(wname)
        else:
            wilaya = wname
        commune = ident.commune if wname == "Alger" else wname
        r = rng.random()
        if r < 0.12:
            lieu: str | None = None
        elif r < 0.15:
            lieu = ""
        else:
            lieu = commune if rng.random() < 0.8 else wname
        r = rng.random()
        if r < 0.10:
            adresse: str | None = None
        elif r < 0.13:
            adresse = ""
        elif r < 0.45:
            adresse = (
                f"Cité {rng.choice((200, 500, 1000, 1200, 2004))} Logements "
                f"Bt {rng.randint(1, 60)} N° {rng.randint(1, 40)}, {commune}"
            )
        elif r < 0.75:
            adresse = f"{rng.randint(1, 120)} Rue {rng.choice(_STREETS)}, {commune}"
        elif r < 0.90:
            adresse = f"Cité AADL {commune} Bloc {rng.choice('ABCDEFGH')}{rng.randint(1, 12)}"
        else:
            adresse = commune
        session_id = self.session_ref(_SESSION_REF)
        r = rng.random()
        if r < 0.55:
            remarque: str | None = None
        elif r < 0.58:
            remarque = ""
        elif r < 0.60:
            remarque = _mojibake(rng.choice(_REMARQUES))
        else:
            remarque = rng.choice(_REMARQUES)
        created = self.timestamp() if rng.random() >= 0.02 else None
        updated = None if created is None or rng.random() < 0.15 else self.timestamp(created)
        return {
            "id": i,
            "nom": nom,
            "prenom": prenom,
            "telephone": self.phone(ident),
            "email": self.email(ident),
            "date_naissance": dob,
            "lieu_naissance": lieu,
            "adresse": adresse,
            "wilaya": wilaya,
            "statut": _STAGIAIRE_STATUT(rng),
            "formation_id": self.formation_ref(session_id),
            "session_ecoin_id": session_id,
            "remarque": remarque,
            "created_at": None if created is None else self.fmt_ts(created),
            "updated_at": None if updated is None else self.fmt_ts(updated),
        }

    def archive(self, a: int, n_stagiaires: int) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        stagiaire_id: int | None
        if r < _ARCHIVE_LINKED_SHARE and n_stagiaires:
            # archived copy of a stagiaires row: the same person, formatted again
            stagiaire_id = rng.randint(1, n_stagiaires)
            ident = self.identity("S", self.person_key("S", stagiaire_id, _STAGIAIRE_TWIN_PER_MILLE))
        else:
            # the stagiaires row is gone (deleted) or was never recorded
            stagiaire_id = None if rng.random() < 0.95 else n_stagiaires + rng.randint(1, 5000)
            ident = self.identity("A", self.person_key("A", a, _ARCHIVE_TWIN_PER_MILLE))
        nom, prenom = self.names(ident)
        dob_kind = _ARCHIVE_DOB(rng)
        d = ident.dob
        if dob_kind == "iso":
            dob: str | None = d.isoformat()
        elif dob_kind == "slash":
            dob = f"{d.day:02d}/{d.month:02d}/{d.year}"
        elif dob_kind == "dash":
            dob = f"{d.day:02d}-{d.month:02d}-{d.year}"
        elif dob_kind == "empty":
            dob = ""
        elif dob_kind == "none":
            dob = None
        elif dob_kind == "inconnue":
            dob = rng.choice(("inconnue", "inconnue", "Inconnue", "INCONNU"))
        elif dob_kind == "impossible":
            dob = f"{rng.choice((30, 31))}/02/{d.year}"
        elif dob_kind == "zero":
            dob = ZERO_DATE
        else:
            dob = f" {d.day:02d}/{d.month:02d}/{d.year} "
        session_id = self.session_ref(_ARCHIVE_SESSION_REF)
        created = self.timestamp() if rng.random() >= 0.02 else None
        start = created or _EPOCH
        archived = (
            None if rng.random() < 0.05 else self.timestamp(start, min(start + timedelta(days=1100), _NOW))
        )
        updated = None if rng.random() < 0.2 else (archived or self.timestamp(start))
        return {
            "id": a,
            "stagiaire_id": stagiaire_id,
            "nom": nom,
            "prenom": prenom,
            "telephone": self.phone(ident),
            "email": self.email(ident),
            "date_naissance": dob,
            "statut": _ARCHIVE_STATUT(rng),
            "formation_id": self.formation_ref(session_id),
            "session_ecoin_id": session_id,
            "date_archivage": None if archived is None else self.fmt_ts(archived),
            "created_at": None if created is None else self.fmt_ts(created),
            "updated_at": None if updated is None else self.fmt_ts(updated),
        }


_STAGIAIRE_TWIN_PER_MILLE = 25  # 2.5% of stagiaires rows repeat an earlier stagiaire
_ARCHIVE_TWIN_PER_MILLE = 10  # 1% of unlinked archives rows repeat an earlier archive
_ARCHIVE_LINKED_SHARE = 0.13  # archives rows whose stagiaire_id points at a stagiaires row


# --------------------------------------------------------------------------------------
# Database plumbing
# --------------------------------------------------------------------------------------


def _prepare_target(url: sa.URL) -> None:
    """Create the SQLite parent directory, or the server database when it does not exist."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return
    if backend not in ("mysql", "mariadb", "postgresql") or not url.database:
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return
    except sa.exc.OperationalError as exc:
        message = str(exc.orig)
        if backend in ("mysql", "mariadb"):
            missing = getattr(exc.orig, "args", (None,))[0] == 1049
        else:
            missing = "does not exist" in message and "database" in message
        if not missing:
            raise
    finally:
        engine.dispose()
    name = url.database
    if backend in ("mysql", "mariadb"):
        server = sa.create_engine(url.set(database=""), poolclass=sa.pool.NullPool)
        ddl = (
            f"CREATE DATABASE IF NOT EXISTS `{name.replace('`', '``')}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    else:
        server = sa.create_engine(
            url.set(database="postgres"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        ddl = 'CREATE DATABASE "{}"'.format(name.replace('"', '""'))
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(ddl)
            if backend != "postgresql":
                conn.commit()
    finally:
        server.dispose()


def _batches(n: int, size: int) -> Iterator[range]:
    for start in range(1, n + 1, size):
        yield range(start, min(start + size, n + 1))


def generate_legacy_database(
    url: str | sa.URL, rows: int, *, seed: int = 7, archive_share: float = 0.3, batch_size: int = 5000
) -> dict[str, int]:
    """Create (drop first if present) the four legacy tables at ``url`` and fill them.

    ``rows`` = total student rows (stagiaires + archives); ``archive_share`` of them go to
    ``archives``.  Returns ``{"formations": n, "session_ecoins": n, "stagiaires": n,
    "archives": n}``.  Deterministic for a given (seed, rows, archive_share).
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if not 0.0 <= archive_share <= 1.0:
        raise ValueError("archive_share must be between 0 and 1")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    n_archives = round(rows * archive_share)
    n_stagiaires = rows - n_archives

    sa_url = sa.make_url(url)
    _prepare_target(sa_url)
    engine = sa.create_engine(sa_url, poolclass=sa.pool.NullPool)
    dialect = engine.dialect.name
    md = legacy_metadata()
    t = md.tables
    gen = _Generator(seed, dialect)
    try:
        with engine.connect() as conn:
            if dialect in ("mysql", "mariadb"):
                # allow '0000-00-00' in a DATE column, like the old platform's server
                conn.exec_driver_sql("SET SESSION sql_mode=''")
            conn.commit()
            with conn.begin():
                md.drop_all(conn, checkfirst=True)
            with conn.begin():
                md.create_all(conn)
            with conn.begin():
                conn.execute(t["formations"].insert(), gen.formations())
                conn.execute(t["session_ecoins"].insert(), gen.sessions())
            for ids in _batches(n_stagiaires, batch_size):
                batch = [gen.stagiaire(i) for i in ids]
                with conn.begin():
                    conn.execute(t["stagiaires"].insert(), batch)
            for ids in _batches(n_archives, batch_size):
                batch = [gen.archive(a, n_stagiaires) for a in ids]
                with conn.begin():
                    conn.execute(t["archives"].insert(), batch)
            if dialect == "postgresql":  # keep the id sequences usable after explicit ids
                with conn.begin():
                    for name in LEGACY_TABLES:
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                        )
    finally:
        engine.dispose()
    return {
        "formations": N_FORMATIONS,
        "session_ecoins": N_SESSIONS,
        "stagiaires": n_stagiaires,
        "archives": n_archives,
    }


# --------------------------------------------------------------------------------------
# Fingerprint (read-only)
# --------------------------------------------------------------------------------------


def _encode_value(value: Any) -> str:
    if value is None:
        return "N"
    if isinstance(value, bool):
        return f"b{int(value)}"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, str):
        return f"s{value}"
    if isinstance(value, Decimal):
        return f"d{value}"
    if isinstance(value, float):
        return f"f{value!r}"
    if isinstance(value, datetime):
        return f"T{value.isoformat()}"
    if isinstance(value, date):
        return f"D{value.isoformat()}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"x{bytes(value).hex()}"
    return f"o{type(value).__name__}:{value!r}"


def _readonly_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = url.database
        if path.startswith("file:"):
            uri = path if "mode=" in path else f"{path}{'&' if '?' in path else '?'}mode=ro"
        else:
            resolved = Path(path).expanduser().resolve()
            if not resolved.exists():
                raise FileNotFoundError(f"SQLite database not found: {resolved}")
            uri = f"{resolved.as_uri()}?mode=ro"
        return sa.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=sa.pool.NullPool
        )
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _fingerprint_conn(conn: Connection, tables: Sequence[str]) -> dict[str, str]:
    inspector = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    out: dict[str, str] = {}
    for name in tables:
        if not inspector.has_table(name):
            out[name] = "missing"
            continue
        digest = hashlib.sha256()
        result = conn.execution_options(stream_results=True, yield_per=2000).exec_driver_sql(
            f"SELECT * FROM {quote(name)} ORDER BY {quote('id')}"
        )
        digest.update(json.dumps(list(result.keys())).encode())
        for row in result:
            parts = [_encode_value(v) for v in row]
            digest.update(b"\x1e")
            for part in parts:
                data = part.encode("utf-8", "surrogatepass")
                digest.update(b"%d:" % len(data))
                digest.update(data)
        out[name] = digest.hexdigest()
    return out


def legacy_fingerprint(
    url_or_engine: str | sa.URL | Engine | Connection, tables: Sequence[str] = LEGACY_TABLES
) -> dict[str, str]:
    """sha256 per legacy table over all rows ordered by id (every column, stable repr).

    Only SELECTs (SQLite files are even opened with ``mode=ro``).  A missing table maps to
    ``"missing"``.  Compare two fingerprints of the *same* database (values are hashed as
    the driver returns them, so backends differ from each other).
    """
    if isinstance(url_or_engine, Connection):
        return _fingerprint_conn(url_or_engine, tables)
    if isinstance(url_or_engine, Engine):
        with url_or_engine.connect() as conn:
            try:
                return _fingerprint_conn(conn, tables)
            finally:
                conn.rollback()
    engine = _readonly_engine(sa.make_url(url_or_engine))
    try:
        with engine.connect() as conn:
            try:
                return _fingerprint_conn(conn, tables)
            finally:
                conn.rollback()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def _existing_rows(url: sa.URL) -> int:
    """Rows already in the legacy tables at a server URL (0 when absent/unreachable db)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            total = 0
            for name in LEGACY_TABLES:
                if inspector.has_table(name):
                    q = conn.dialect.identifier_preparer.quote(name)
                    total += conn.exec_driver_sql(f"SELECT COUNT(*) FROM {q}").scalar_one()
            return total
    except sa.exc.OperationalError:
        return 0
    finally:
        engine.dispose()


def _short_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"[:300]


@click.command("make-demo-db")
@click.option(
    "--url",
    default="sqlite:///instance/legacy_demo.sqlite",
    show_default=True,
    help="SQLAlchemy URL of the demo legacy database to (re)create.",
)
@click.option(
    "--rows",
    default=2000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Total student rows (stagiaires + archives).",
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--archive-share", default=0.3, show_default=True, type=click.FloatRange(0, 1))
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--force", is_flag=True, help="Allow replacing legacy tables that already hold rows on a server database."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
def demo_command(
    url: str, rows: int, seed: int, archive_share: float, batch_size: int, force: bool, as_json: bool
) -> None:
    """Create a fake legacy ECOIN database (old platform schema, realistic messy data).

    Drops and recreates formations, session_ecoins, stagiaires and archives at --url.
    Prints counts only.
    """
    try:
        sa_url = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise click.ClickException(f"invalid --url: {exc}") from None
    try:
        if sa_url.get_backend_name() != "sqlite" and not force and _existing_rows(sa_url):
            raise click.ClickException(
                "the target already holds legacy tables with rows; refusing to drop them "
                "(pass --force if this really is a throw-away demo database)"
            )
        started = time.perf_counter()
        counts = generate_legacy_database(
            sa_url, rows, seed=seed, archive_share=archive_share, batch_size=batch_size
        )
        elapsed = round(time.perf_counter() - started, 3)
    except click.ClickException:
        raise
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"could not build the demo database ({_short_error(exc)})") from None
    if as_json:
        click.echo(json.dumps({**counts, "elapsed_seconds": elapsed}))
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in counts.items()) + f" ({elapsed:.2f} s)")
