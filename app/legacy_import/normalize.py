"""Pure normalization rules for legacy values: phone, e-mail, text, names, birth dates.

No Flask, no database: plain values in, plain values out, and no input ever raises.

Decisions (SPEC.md, "Rules"):

* Phone. A field is cut into *runs*: digits joined only by spaces, dots, dashes or
  brackets. Anything else (``/``, ``,``, ``;``, newline, letters such as ``et``) ends a
  run, and a ``+`` always starts a new one. Inside a run the longest span of digit
  groups that is a valid number (at most 17 digits: ``00`` + E.164) is taken, then the
  scan goes on after it, so ``0559446168 0776845160`` and ``0559446168-0776845160``
  give two numbers while ``0559 44 61 68`` gives one. Validity is always
  ``phonenumbers.is_valid_number``, region DZ; a number without ``+`` or ``00`` is
  Algerian (or ``213...``), never guessed as foreign. The common Algerian shapes skip
  ``phonenumbers.parse`` and read validity from the library's own DZ metadata (fast
  path); tests prove both paths agree.
* E-mail. Placeholders are compared folded (case and accents ignored); validity is
  ``email_validator`` syntax only (no DNS), ASCII mailbox only (``allow_smtputf8=False``:
  an accented mailbox here is a typo or mojibake, and few providers deliver to one);
  the stored value is the trimmed input lower-cased.
* Text. Only encoding is repaired, and only the mojibake this data holds (UTF-8 read
  as MySQL latin1 = Windows-1252), with ftfy; bytes are read as UTF-8, or as Latin-1
  when they are not UTF-8 (which counts as a repair).
* Name key. Tokens are the folded first and last names split on anything that is not a
  letter or digit (spaces, ``-``, apostrophes, dots), sorted, joined by one space:
  ``Ben-Ali`` and ``ben ali`` give the same key, ``Benali`` does not.
* Birth date. Day first (Algeria). A two-digit year is the latest year ending in those
  digits that is not after ``today`` (``15/03/98`` -> 1998, ``01/01/05`` -> 2005).
"""

from __future__ import annotations

import datetime
import functools
import re
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import ftfy
import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from app.legacy_import.vocab import EmailStatus

VALID: str = EmailStatus.VALID.value
PLACEHOLDER: str = EmailStatus.PLACEHOLDER.value
INVALID: str = EmailStatus.INVALID.value
MISSING: str = EmailStatus.MISSING.value
PHONE_STATUSES = frozenset({VALID, INVALID, MISSING})
EMAIL_STATUSES = frozenset({VALID, PLACEHOLDER, INVALID, MISSING})

ZERO_DATE = "zero_date"
UNPARSEABLE = "unparseable"
IMPOSSIBLE_DATE = "impossible_date"
OUT_OF_RANGE = "out_of_range"
BIRTH_DATE_ISSUES = frozenset({ZERO_DATE, UNPARSEABLE, IMPOSSIBLE_DATE, OUT_OF_RANGE})
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

DEFAULT_REGION = "DZ"
DZ_COUNTRY_CODE = 213

# Folded (see fold_text) values that mean "no address given".
PLACEHOLDER_EMAILS = frozenset({"/", "-", "null", "neant", "ecoin.hank@gmail.com"})


# --- text -----------------------------------------------------------------------------

# What MySQL calls latin1 is Windows-1252; ftfy names its lenient variant "sloppy".
_MYSQL_LATIN1 = frozenset({"latin-1", "windows-1252", "sloppy-windows-1252"})
_MAX_ROUNDS = 5
TEXT_CACHE_SIZE = 50_000  # distinct texts remembered, a few MB


def _as_text(raw: object) -> tuple[str | None, bool]:
    """Any raw value as text; the flag says the bytes were not UTF-8."""
    if raw is None or isinstance(raw, str):
        return raw, False
    if isinstance(raw, bytes | bytearray | memoryview):
        return _decode(bytes(raw))
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw)), False
    return str(raw), False


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("latin-1"), True


def repair_text(raw: object) -> tuple[str | None, bool]:
    """The value as text with mojibake repaired (``FormÃ©e`` -> ``Formée``).

    Only the encoding is fixed: no trimming, no case or Unicode normalization. The flag
    is True when the returned text differs from a plain UTF-8 reading of the value.
    """
    text, decoded_as_latin1 = _as_text(raw)
    if text is None:
        return None, decoded_as_latin1
    fixed = _fix_mojibake(text)
    return fixed, decoded_as_latin1 or fixed != text


def _fix_mojibake(text: str) -> str:
    """ftfy's encoding fix, kept only when it undoes UTF-8 read as MySQL "latin1".

    ftfy also tries Mac Roman, cp437, ...; on short accented names those guesses turn
    nonsense like ``ÈüÆ`` into CJK, and this data never went through those encodings.
    """
    if text.isascii():
        return text
    fixed, steps = ftfy.fix_encoding_and_explain(text)
    encodings = {encoding for action, encoding in steps or () if action == "encode"}
    return fixed if encodings <= _MYSQL_LATIN1 else text


def clean_name(raw: object) -> tuple[str | None, bool]:
    """Repaired, NFC, trimmed text with inner whitespace collapsed; empty -> None."""
    text, decoded_as_latin1 = _as_text(raw)
    if text is None:
        return None, decoded_as_latin1
    cleaned, repaired = _clean_text(text)
    return cleaned, decoded_as_latin1 or repaired


# Names and statuses repeat across thousands of rows: their cleaning is remembered (bounded).
@functools.lru_cache(maxsize=TEXT_CACHE_SIZE)
def _clean_text(text: str) -> tuple[str | None, bool]:
    cleaned = _until_stable(lambda value: _tidy(_fix_mojibake(value)), text)
    return cleaned or None, cleaned != _tidy(text)


def _tidy(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold_text(raw: object) -> str:
    """Comparison key: repaired, accent-free, case-folded, whitespace collapsed."""
    text, _ = _as_text(raw)
    if text is None:
        return ""
    if text.isascii():  # nothing to repair, and folded once it stays folded
        return _fold(text)
    return _fold_text(text)


@functools.lru_cache(maxsize=TEXT_CACHE_SIZE)
def _fold_text(text: str) -> str:
    return _until_stable(lambda value: _fold(_fix_mojibake(value)), text)


def _fold(text: str) -> str:
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def _until_stable(step: Callable[[str], str], text: str) -> str:
    """Apply ``step`` until it changes nothing, so that re-cleaning is a no-op.

    Folding can reveal mojibake (``Æœœ`` only reads as UTF-8 once lower-cased) and
    decomposition can reveal capitals (U+210C -> ``H``); two rounds are the rule.
    """
    for _ in range(_MAX_ROUNDS):
        again = step(text)
        if again == text:
            break
        text = again
    return text


_NAME_SEPARATORS = re.compile(r"[\W_]+")


def name_key(first_name: object, last_name: object) -> str | None:
    """Token-order-insensitive key of a full name; None when there is no token."""
    return _name_key(f"{fold_text(first_name)} {fold_text(last_name)}")


# Full names repeat across thousands of rows too.
@functools.lru_cache(maxsize=TEXT_CACHE_SIZE)
def _name_key(folded: str) -> str | None:
    tokens = sorted(token for token in _NAME_SEPARATORS.split(folded) if token)
    return " ".join(tokens) or None


# --- phone ----------------------------------------------------------------------------


# The results are NamedTuples: three are built for every staged row, and a NamedTuple is built
# in half the time of a frozen dataclass (0.29 against 0.57 us).
class PhoneResult(NamedTuple):
    normalized: str | None
    alternates: tuple[str, ...]
    status: str


ParseCandidate = Callable[[str], str | None]

_MAX_CANDIDATE_DIGITS = 17  # "00" + the 15 digits E.164 allows
_RUN = re.compile(r"\+?[0-9][0-9 \t\u00a0.()\-\u2010-\u2015]*")
_DIGITS = re.compile(r"[0-9]+")
_ONE_CANDIDATE = re.compile(rf"\+?[0-9]{{1,{_MAX_CANDIDATE_DIGITS}}}")
_DZ_SHAPE = re.compile(r"(?:(?:\+|00)213|213(?=[0-9]{8,9}$)|0(?=[1-9]))?(?P<national>[1-9][0-9]{7,8})")


def normalize_phone(raw: object) -> PhoneResult:
    """The first valid number of a phone field, plus the other valid ones."""
    return _normalize_phone(raw, _parse_candidate)


_NO_PHONE = PhoneResult(None, (), MISSING)
_INVALID_PHONE = PhoneResult(None, (), INVALID)


def _normalize_phone(raw: object, parse: ParseCandidate) -> PhoneResult:
    text, _ = _as_text(raw)
    if text is None or not text.strip():
        return _NO_PHONE
    numbers = _phone_numbers(_ascii_digits(text), parse)
    if not numbers:
        return _INVALID_PHONE
    return PhoneResult(numbers[0], tuple(numbers[1:]), VALID)


def _phone_numbers(text: str, parse: ParseCandidate) -> list[str]:
    """The valid numbers of a field, in order, each once.

    A field that is one candidate and nothing else (``0559446168``, ``+213559446168``) skips
    the scan: the scan would find that one run of one digit group and try it alone.
    """
    alone = _ONE_CANDIDATE.fullmatch(text.strip())
    if alone is None:
        return list(dict.fromkeys(_numbers_in(text, parse)))
    number = parse(alone.group())
    return [] if number is None else [number]


def _ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian and other Unicode decimal digits as ASCII."""
    if text.isascii():
        return text
    return "".join(_ascii_char(char) for char in text)


def _ascii_char(char: str) -> str:
    if char.isdecimal():
        return str(unicodedata.decimal(char, char))
    return "+" if char == "\uff0b" else char


def _numbers_in(text: str, parse: ParseCandidate) -> Iterator[str]:
    for run in _RUN.finditer(text):
        yield from _numbers_in_run(run.group(), parse)


def _numbers_in_run(run: str, parse: ParseCandidate) -> Iterator[str]:
    plus = "+" if run.startswith("+") else ""
    groups = _DIGITS.findall(run)
    start = 0
    while start < len(groups):
        found = _longest_number_at(groups, start, plus if start == 0 else "", parse)
        if found is None:
            start += 1
            continue
        number, start = found
        yield number


def _longest_number_at(
    groups: list[str], start: int, plus: str, parse: ParseCandidate
) -> tuple[str, int] | None:
    """The longest span of groups from ``start`` that is a valid number, and its end."""
    for end in reversed(_span_ends(groups, start)):
        number = parse(plus + "".join(groups[start:end]))
        if number is not None:
            return number, end
    return None


def _span_ends(groups: list[str], start: int) -> list[int]:
    ends: list[int] = []
    digits = 0
    for end in range(start + 1, len(groups) + 1):
        digits += len(groups[end - 1])
        if digits > _MAX_CANDIDATE_DIGITS:
            break
        ends.append(end)
    return ends


def _parse_candidate(candidate: str) -> str | None:
    """Digits-only E.164 of a candidate (``+``? digits) when valid, else None."""
    shape = _DZ_SHAPE.fullmatch(candidate)
    if shape is None:
        return _library_parse(candidate)
    national = shape.group("national")  # no leading zero: the library's national number as is
    if _DZ_VALID.fullmatch(national) is None:
        return None
    return f"{DZ_COUNTRY_CODE}{national}"


@dataclass(frozen=True)
class _NumberDesc:
    """A ``PhoneNumberDesc`` of the library's metadata, applied as the library applies it: a
    length it allows (any when it lists none), then its pattern over the whole number."""

    lengths: frozenset[int]
    pattern: str | None  # None: the description matches no number

    @classmethod
    def of(cls, desc: phonenumbers.PhoneNumberDesc | None) -> _NumberDesc:
        if desc is None or not desc.national_number_pattern:
            return cls(frozenset(), None)
        return cls(frozenset(desc.possible_length or ()), desc.national_number_pattern)

    def as_regex(self) -> str:
        """The description as an expression that must span the whole number."""
        lengths = "|".join(f".{{{length}}}" for length in sorted(self.lengths))
        allowed = f"(?=(?:{lengths})\\Z)" if lengths else ""
        return f"{allowed}(?:{self.pattern})"


# The number types phonenumbers tries (mobile last, and only when its pattern is not the fixed
# line's); here the common ones come first, which changes nothing: any one is enough.
_NUMBER_TYPES = (
    "mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost",
    "voip", "personal_number", "pager", "uan", "voicemail",
)  # fmt: skip


def _valid_numbers(region: str) -> re.Pattern[str]:
    """``phonenumbers.is_valid_number`` for the national numbers of one region, read from the
    library's metadata, as one expression to ``fullmatch``: the number fits the general
    description (a look-ahead) and one number type (one expression: 0.7 us a number, against
    2.1 us testing the descriptions one by one)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise LookupError(f"phonenumbers has no metadata for {region}")
    mobile_is_fixed_line = metadata.same_mobile_and_fixed_line_pattern
    names = [name for name in _NUMBER_TYPES if not (name == "mobile" and mobile_is_fixed_line)]
    types = [desc for desc in (_NumberDesc.of(getattr(metadata, name)) for name in names) if desc.pattern]
    general = _NumberDesc.of(metadata.general_desc)
    if general.pattern is None or not types:
        return re.compile("(?!)")  # no number of the region is valid
    any_type = "|".join(desc.as_regex() for desc in types)
    return re.compile(f"(?=(?:{general.as_regex()})\\Z)(?:{any_type})")


# +213 is DZ alone, so the DZ metadata decide the validity of every +213 number.
_DZ_VALID = _valid_numbers(DEFAULT_REGION)


def _library_parse(candidate: str) -> str | None:
    """The reference path: what phonenumbers itself makes of the candidate."""
    try:
        number = phonenumbers.parse(candidate, DEFAULT_REGION)
    except phonenumbers.NumberParseException as error:
        # `parse` keeps the exception it re-raises in a local variable of its own frame, which
        # the exception's traceback holds: a reference cycle, and the whole stack stays alive
        # with it (the batch being normalized included) until the garbage collector finds it
        # (measured: with the collector off, an import's peak memory doubled). Broken here.
        traceback.clear_frames(error.__traceback__)
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


# --- e-mail ---------------------------------------------------------------------------


class EmailResult(NamedTuple):
    normalized: str | None
    status: str


_NO_EMAIL = EmailResult(None, MISSING)
_PLACEHOLDER_EMAIL = EmailResult(None, PLACEHOLDER)
_INVALID_EMAIL = EmailResult(None, INVALID)


def normalize_email(raw: object) -> EmailResult:
    text, _ = _as_text(raw)
    trimmed = (text or "").strip()
    if not trimmed:
        return _NO_EMAIL
    if fold_text(trimmed) in PLACEHOLDER_EMAILS:
        return _PLACEHOLDER_EMAIL
    if not _is_email(trimmed):
        return _INVALID_EMAIL
    return EmailResult(trimmed.lower(), VALID)


# Fast path: plain ASCII addresses whose every part email_validator accepts (alphanumeric runs
# joined by single separators, a letters-only top-level domain that is not special-use, within
# the length limits). Anything else goes to the library; a test proves both agree.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9]+(?:[._+-][A-Za-z0-9]+)*)@(?P<domain>(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+"
    r"(?P<tld>[A-Za-z]{2,24}))"
)
_SPECIAL_USE_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _is_plain_email(text: str) -> bool:
    match = _PLAIN_EMAIL.fullmatch(text)
    return (
        match is not None
        and len(match["local"]) <= 64
        and len(text) <= 254
        and match["tld"].lower() not in _SPECIAL_USE_TLDS
        and all(len(label) <= 63 for label in match["domain"].split("."))
    )


def _is_email(text: str) -> bool:
    if _is_plain_email(text):
        return True
    try:
        validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


# --- birth date -----------------------------------------------------------------------


class BirthDateResult(NamedTuple):
    value: datetime.date | None
    issue: str | None


_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DAY, _MONTH = r"(?P<d>\d{1,2})", r"(?P<m>\d{1,2})"
_YEAR_FIRST = re.compile(rf"(?P<y>\d{{4}})(?P<s>[-/.]){_MONTH}(?P=s){_DAY}{_TIME}")
_DAY_FIRST = re.compile(rf"{_DAY}(?P<s>[-/. ]){_MONTH}(?P=s)(?P<y>\d\d(?:\d\d)?){_TIME}")
_MONTH_NAME = re.compile(r"(?P<d>\d{1,2})(?:er)? (?P<m>[a-z]+)\.? (?P<y>\d{4})")
_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6,
    "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}  # fmt: skip


_NO_BIRTH_DATE = BirthDateResult(None, None)


def parse_birth_date(raw: object, today: datetime.date | None = None) -> BirthDateResult:
    """A birth date from a DATE or free text, not after ``today`` (default: now)."""
    if isinstance(raw, datetime.date):
        value = raw.date() if isinstance(raw, datetime.datetime) else raw
        return _in_range(value, today or datetime.date.today())
    text = fold_text(raw)
    if not text:
        return _NO_BIRTH_DATE
    today = today or datetime.date.today()
    parts = _date_parts(text, today)
    if parts is None:
        return BirthDateResult(None, UNPARSEABLE)
    return _from_parts(parts, today)


def _date_parts(text: str, today: datetime.date) -> tuple[int, int, int] | None:
    """(year, month, day) as written, not yet checked; None when no format fits."""
    for pattern in (_YEAR_FIRST, _DAY_FIRST):
        match = pattern.fullmatch(text)
        if match:
            year = _full_year(match.group("y"), today)
            return year, int(match.group("m")), int(match.group("d"))
    named = _MONTH_NAME.fullmatch(text)
    if named and named.group("m") in _MONTHS:
        month = _MONTHS[named.group("m")]
        return int(named.group("y")), month, int(named.group("d"))
    return None


def _full_year(written: str, today: datetime.date) -> int:
    year = int(written)
    if len(written) > len("98"):
        return year
    # A far-future ``today`` (date.max: "no upper bound") must not make "98" mean 9998.
    latest = min(today.year, datetime.date.today().year)
    century = latest - latest % 100
    return century + year if century + year <= latest else century - 100 + year


def _from_parts(parts: tuple[int, int, int], today: datetime.date) -> BirthDateResult:
    if parts == (0, 0, 0):
        return BirthDateResult(None, ZERO_DATE)
    try:
        value = datetime.date(*parts)
    except ValueError:
        return BirthDateResult(None, IMPOSSIBLE_DATE)
    return _in_range(value, today)


def _in_range(value: datetime.date, today: datetime.date) -> BirthDateResult:
    if EARLIEST_BIRTH_DATE <= value <= today:
        return BirthDateResult(value, None)
    return BirthDateResult(None, OUT_OF_RANGE)
