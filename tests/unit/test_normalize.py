"""Table-driven tests of the normalization rules (SPEC.md, "Rules": Phone, Email, Text)."""

from __future__ import annotations

import datetime
import gc
import random
import string
import weakref

import phonenumbers
import pytest

from app.legacy_import import normalize
from app.legacy_import.normalize import (
    BIRTH_DATE_ISSUES,
    PLACEHOLDER_EMAILS,
    BirthDateResult,
    EmailResult,
    PhoneResult,
    clean_name,
    fold_text,
    name_key,
    normalize_email,
    normalize_phone,
    parse_birth_date,
    repair_text,
)

MOBILE = "213559446168"
OTHER_MOBILE = "213776845160"
TODAY = datetime.date(2025, 6, 1)


# --- phone: one number ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0559446168",
        "+213 559 44 61 68",
        "+213559446168",
        "00213559446168",
        "00 213 559 44 61 68",
        "213559446168",
        "213 559 44 61 68",
        "0559-44-61-68",
        "0559.44.61.68",
        "05 59 44 61 68",
        "(0559) 44 61 68",
        "559446168",
        "  0559446168  ",
        "+213 (0) 559 44 61 68",
        "+2130559446168",
        "٠٥٥٩٤٤٦١٦٨",  # Arabic-Indic digits
        "۰۵۵۹۴۴۶۱۶۸",  # Eastern Arabic (Persian) digits
        "+٢١٣ ٥٥٩ ٤٤ ٦١ ٦٨",
        "０５５９４４６１６８",  # full-width digits
        "tel: 0559446168 (pere)",
        "0559\u00a044\u00a061\u00a068",
        559446168,
        213559446168,
        559446168.0,
        b"0559446168",
        bytearray(b"0559446168"),
        b"t\xe9l 0559446168",  # Latin-1 bytes
    ],
)
def test_algerian_mobile_shapes_give_the_digits_only_e164(raw: object) -> None:
    assert normalize_phone(raw) == PhoneResult(MOBILE, (), "valid")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0776845160", "213776845160"),
        ("0661234567", "213661234567"),
        ("0540000000", "213540000000"),
        ("021 23 45 67", "21321234567"),  # Algiers fixed line
        ("021234567", "21321234567"),
        ("+213 21 23 45 67", "21321234567"),
        ("038 12 34 56", "21338123456"),
        ("0555555555", "213555555555"),  # phonenumbers calls it valid: so do we
        ("+33 6 12 34 56 78", "33612345678"),
        ("0033612345678", "33612345678"),
        ("0033 6 12 34 56 78", "33612345678"),
        ("+33 (0)6 12 34 56 78", "33612345678"),
        ("+44 7911 123456", "447911123456"),
        ("+1 415 555 2671", "14155552671"),
        ("+216 20 123 456", "21620123456"),
        ("0021620123456", "21620123456"),
    ],
)
def test_valid_numbers_keep_their_own_country_code(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == PhoneResult(expected, (), "valid")


# --- phone: several numbers in one field ------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0559446168 / 0776845160",
        "0559446168/0776845160",
        "0559446168-0776845160",
        "0559446168 - 0776845160",
        "0559446168, 0776845160",
        "0559446168;0776845160",
        "0559446168 | 0776845160",
        "0559446168 et 0776845160",
        "0559446168 ou 0776845160",
        "0559446168\n0776845160",
        "0559446168\r\n0776845160",
        "0559446168 0776845160",
        "0559446168  0776845160",
        "05 59 44 61 68 / 07 76 84 51 60",
        "0559 446 168 07 76 84 51 60",
        "+213559446168 +213776845160",
        "Mère: 0559446168, père: 0776845160",
    ],
)
def test_first_valid_number_wins_and_the_others_become_alternates(raw: str) -> None:
    assert normalize_phone(raw) == PhoneResult(MOBILE, (OTHER_MOBILE,), "valid")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0559446168 / 0559446168", PhoneResult(MOBILE, (), "valid")),
        ("+213559446168 / 0559446168 / 559446168", PhoneResult(MOBILE, (), "valid")),
        (
            "0559446168 / 0776845160 / 0559446168 / 0776845160",
            PhoneResult(MOBILE, (OTHER_MOBILE,), "valid"),
        ),
        ("0 / 0559446168", PhoneResult(MOBILE, (), "valid")),
        ("NULL / 0559446168", PhoneResult(MOBILE, (), "valid")),
        ("12 / 0559446168 / 00", PhoneResult(MOBILE, (), "valid")),
        ("0776845160 / 0559446168", PhoneResult(OTHER_MOBILE, (MOBILE,), "valid")),
        (
            "0559446168 / +33 6 12 34 56 78",
            PhoneResult(MOBILE, ("33612345678",), "valid"),
        ),
        (
            "0559446168 / 0661234567 / 021234567",
            PhoneResult(MOBILE, ("213661234567", "21321234567"), "valid"),
        ),
    ],
)
def test_alternates_hold_no_duplicate_and_never_the_first(raw: str, expected: PhoneResult) -> None:
    assert normalize_phone(raw) == expected


# --- phone: invalid and missing ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "00",
        "000",
        "/",
        "NULL",
        "null",
        "-",
        "néant",
        "N/A",
        "pas de numéro",
        "0000000000",
        "000000000",
        "+213000000000",
        "12345",
        "055944616",  # one digit short
        "05594461688",  # one digit too many
        "5594461688",
        "0213559446168",
        "0559 44 61",
        "+999 123 456 789",
        "+",
        "٠",
        "abc",
        0,
        12,
        b"\xff\xfe",
        b"/",
        True,
    ],
)
def test_no_valid_number_is_invalid(raw: object) -> None:
    assert normalize_phone(raw) == PhoneResult(None, (), "invalid")


@pytest.mark.parametrize(
    "raw", [None, "", " ", "   ", "\t", "\n", " \r\n ", "\u00a0", b"", b"  ", bytearray()]
)
def test_nothing_there_is_missing(raw: object) -> None:
    assert normalize_phone(raw) == PhoneResult(None, (), "missing")


# --- phone: the fast path equals the library ----------------------------------------


def _national(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.5:  # mobile-like, valid or not
        return rng.choice("567") + "".join(rng.choices("0123456789", k=8))
    if shape < 0.8:  # fixed-line-like, 8 digits
        return rng.choice("123456789") + "".join(rng.choices("0123456789", k=7))
    return "".join(rng.choices("0123456789", k=rng.randint(1, 12)))


_PREFIXES = ["", "0", "213", "00213", "+213", "2130", "+2130", "002130", "00", "+", "0 "]
_SEPARATORS = ["", " ", "-", ".", "  ", " - ", "(", ")"]
_JOINERS = [" / ", "/", ", ", ";", " et ", "\n", " ", "-", " ou "]
_FOREIGN = ["+33 6 12 34 56 78", "0033612345678", "+44 7911 123456", "+1 415 555 2671"]


def _spaced(rng: random.Random, digits: str) -> str:
    separator = rng.choice(_SEPARATORS)
    cuts = sorted(rng.sample(range(1, len(digits)), k=min(3, len(digits) - 1)))
    pieces = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    return separator.join(pieces)


def _phone_field(rng: random.Random) -> str:
    number = rng.choice(_PREFIXES) + _national(rng)
    if rng.random() < 0.3:
        number = _spaced(rng, number)
    if rng.random() < 0.05:
        number = rng.choice(_FOREIGN)
    if rng.random() < 0.15:
        return number + rng.choice(_JOINERS) + rng.choice(_PREFIXES) + _national(rng)
    return number


def _candidates(rng: random.Random) -> list[str]:
    return [rng.choice(_PREFIXES).strip() + _national(rng) for _ in range(16_000)] + [
        "".join(rng.choices("0123456789", k=rng.randint(1, 17))) for _ in range(4_000)
    ]


@pytest.mark.parametrize("candidate", ["+999123456", "0012"])  # no country code; too short after 00
def test_a_number_the_library_refuses_keeps_nothing_of_its_caller_alive(candidate: str) -> None:
    """phonenumbers keeps the exception it re-raises in a frame of its traceback: unless that
    cycle is broken, each refused number keeps the stack above it (a whole batch) alive until
    the garbage collector runs."""

    class Batch:
        """What a caller holds while it normalizes."""

    def normalize_a_batch() -> weakref.ref[Batch]:
        batch = Batch()
        assert normalize._library_parse(candidate) is None
        return weakref.ref(batch)

    gc.disable()
    try:
        assert normalize_a_batch()() is None  # freed on return, without the collector
    finally:
        gc.enable()


def test_fast_path_agrees_with_the_library_on_generated_candidates() -> None:
    candidates = _candidates(random.Random(20240601))
    fast_shaped = [c for c in candidates if normalize._DZ_SHAPE.fullmatch(c)]
    disagreements = [c for c in candidates if normalize._parse_candidate(c) != normalize._library_parse(c)]
    assert disagreements == []
    assert len(fast_shaped) > 6_000  # the fast path really was exercised ...
    valid = [c for c in fast_shaped if normalize._parse_candidate(c)]
    assert 2_000 < len(valid) < len(fast_shaped)  # ... on valid and invalid numbers


def _fast_path_nationals() -> list[str]:
    """National numbers of both lengths the fast path takes (8 and 9 digits) for every 4-digit
    start, each with a tail of zeros, one of nines and two random ones."""
    rng = random.Random(213)
    nationals = []
    for start in range(1000, 10_000):
        for length in (8, 9):
            tails = ["0" * (length - 4), "9" * (length - 4)]
            tails += ["".join(rng.choices("0123456789", k=length - 4)) for _ in range(2)]
            nationals += [f"{start}{tail}" for tail in tails]
    return nationals


def _library_says_valid(national: str) -> bool:
    number = phonenumbers.PhoneNumber(country_code=normalize.DZ_COUNTRY_CODE, national_number=int(national))
    return phonenumbers.is_valid_number(number)


def test_plus_213_is_algeria_alone() -> None:
    # so the DZ metadata decide the validity of every number the fast path takes
    assert phonenumbers.region_codes_for_country_code(normalize.DZ_COUNTRY_CODE) == (
        normalize.DEFAULT_REGION,
    )


def test_fast_path_validity_equals_the_library_on_every_national_shape_it_takes() -> None:
    nationals = _fast_path_nationals()
    shapes = [normalize._DZ_SHAPE.fullmatch(national) for national in nationals]
    assert [shape and shape.group("national") for shape in shapes] == nationals
    fast = [normalize._DZ_VALID.fullmatch(national) is not None for national in nationals]
    assert [n for n, valid in zip(nationals, fast, strict=True) if valid != _library_says_valid(n)] == []
    assert 5_000 < sum(fast) < len(nationals) - 5_000  # valid and invalid numbers both


def _one_candidate_fields(rng: random.Random) -> list[str]:
    """Fields that are one candidate alone, padded, and near misses (too long, a stray sign)."""
    pads = ["", " ", "  ", "\t", "\n", "\u00a0", "\u2003", " \r\n", "-", "."]
    fields = []
    for _ in range(2_000):
        digits = rng.choice(_PREFIXES).strip() + _national(rng)
        if rng.random() < 0.1:
            digits += "".join(rng.choices("0123456789", k=rng.randint(5, 10)))
        fields.append(rng.choice(pads) + digits + rng.choice(pads))
    return [*fields, "+", "++213559446168", "+ 213559446168", "0" * 17, "0" * 18, "213559446168" * 2]


def test_a_field_of_one_candidate_gives_what_the_scan_gives() -> None:
    rng = random.Random(7)
    fields = [
        normalize._ascii_digits(f)
        for f in _one_candidate_fields(rng) + [_phone_field(rng) for _ in range(2_000)]
    ]
    parse = normalize._parse_candidate
    scanned = [list(dict.fromkeys(normalize._numbers_in(field, parse))) for field in fields]
    assert [normalize._phone_numbers(field, parse) for field in fields] == scanned
    alone = [field for field in fields if normalize._ONE_CANDIDATE.fullmatch(field.strip())]
    assert 1_500 < len(alone) < len(fields) - 1_000  # both ways are exercised ...
    assert sum(bool(normalize._phone_numbers(field, parse)) for field in alone) > 500  # ... valid too


def test_normalize_phone_agrees_with_the_library_only_path_on_generated_fields() -> None:
    rng = random.Random(1962)
    fields = [_phone_field(rng) for _ in range(20_000)]
    fast = [normalize_phone(raw) for raw in fields]
    library = [normalize._normalize_phone(raw, normalize._library_parse) for raw in fields]
    assert [raw for raw, a, b in zip(fields, fast, library, strict=True) if a != b] == []
    assert sum(result.status == "valid" for result in fast) > 5_000
    assert sum(bool(result.alternates) for result in fast) > 100


# --- e-mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ahmed.benali@gmail.com", "ahmed.benali@gmail.com"),
        ("Ahmed.Benali@Gmail.COM", "ahmed.benali@gmail.com"),
        ("  AMINE@YAHOO.FR\t", "amine@yahoo.fr"),
        ("\u00a0amine@yahoo.fr\n", "amine@yahoo.fr"),
        ("first+tag@outlook.com", "first+tag@outlook.com"),
        ("a.b-c_d@sub.domain.dz", "a.b-c_d@sub.domain.dz"),
        ("ecoin.hank2@gmail.com", "ecoin.hank2@gmail.com"),
        (b"Amine@Yahoo.fr", "amine@yahoo.fr"),
    ],
)
def test_valid_email_is_trimmed_and_lower_cased(raw: object, expected: str) -> None:
    assert normalize_email(raw) == EmailResult(expected, "valid")


@pytest.mark.parametrize(
    "raw",
    [
        "/",
        " / ",
        "NULL",
        "null",
        "Null",
        "-",
        "néant",
        "Néant",
        "NÉANT",
        "neant",
        "NEANT",
        " néant ",
        "nÃ©ant",  # mojibake of néant
        "Ecoin.hank@gmail.com",
        "ecoin.hank@gmail.com",
        "ECOIN.HANK@GMAIL.COM",
        "  Ecoin.Hank@Gmail.com  ",
        b"NULL",
    ],
)
def test_placeholders(raw: object) -> None:
    assert normalize_email(raw) == EmailResult(None, "placeholder")


@pytest.mark.parametrize("raw", [None, "", " ", "\t\n", "\u00a0", b"", b"   "])
def test_empty_email_is_missing(raw: object) -> None:
    assert normalize_email(raw) == EmailResult(None, "missing")


@pytest.mark.parametrize(
    "raw",
    [
        "foo@bar",  # no top-level domain
        "ahmed",
        "ahmed@",
        "@gmail.com",
        "ahmed@@gmail.com",
        "ahmed benali@gmail.com",  # space inside
        "ahmed@gmail .com",
        "ahmed..benali@gmail.com",
        ".ahmed@gmail.com",
        "ahmed@-gmail.com",
        "ahmed@gmail_com.com",
        "ahmed@gmail,com",
        "ahmed@localhost",
        "Ahmed <ahmed@gmail.com>",
        "ahmed@gmail.com / amine@yahoo.fr",
        "0559446168",
        "--",
        "n/a",
        559446168,
        "élève@gmail.com",  # non-ASCII mailbox: a typo or mojibake here, not SMTPUTF8
        "nÃ©ant@gmail.com",
        b"\xff@gmail.com",
    ],
)
def test_malformed_email_is_invalid(raw: object) -> None:
    assert normalize_email(raw) == EmailResult(None, "invalid")


def test_ascii_text_folds_as_the_repairing_path_folds_it() -> None:
    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x0b\x0c\x1c\x1f"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 24))) for _ in range(5_000)]
    assert [fold_text(text) for text in texts] == [normalize._fold_text(text) for text in texts]


def test_placeholder_list_holds_folded_values() -> None:
    assert all(fold_text(value) == value for value in PLACEHOLDER_EMAILS)
    assert {"/", "null", "-", "neant", "ecoin.hank@gmail.com"} <= PLACEHOLDER_EMAILS


# --- text repair ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FormÃ©e", ("Formée", True)),
        ("ArchivÃ©", ("Archivé", True)),
        ("Ne rÃ©pond pas", ("Ne répond pas", True)),
        ("BOUAZZA FÃ‰TIHA", ("BOUAZZA FÉTIHA", True)),
        ("Ã©lÃ¨ve", ("élève", True)),
        ("Ù…Ø\xadÙ…Ø¯", ("محمد", True)),
        ("Formée", ("Formée", False)),
        ("Archivè", ("Archivè", False)),
        ("محمد", ("محمد", False)),
        ("  Formée  ", ("  Formée  ", False)),  # repair only: no trimming
        ("&amp; x", ("&amp; x", False)),  # no HTML unescaping
        ("ﬁne", ("ﬁne", False)),  # no compatibility normalization
        ("ÈüÆ", ("ÈüÆ", False)),  # ftfy's Mac Roman guess: not this data's mojibake
        ("œé", ("œé", False)),
        ("ÃƒÂ©", ("é", True)),  # encoded twice
        ("Ã ", ("à ", True)),
        ("", ("", False)),
        (None, (None, False)),
        (42, ("42", False)),
        (b"Form\xc3\xa9e", ("Formée", False)),
        (b"Form\xe9e", ("Formée", True)),  # not UTF-8: read as Latin-1
        (b"Form\xc3\x83\xc2\xa9e", ("Formée", True)),
    ],
)
def test_repair_text(raw: object, expected: tuple[str | None, bool]) -> None:
    assert repair_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ben   Ali ", ("Ben Ali", False)),
        ("Amine\tBen\nAli", ("Amine Ben Ali", False)),
        ("BOUAZZA FÃ‰TIHA ", ("BOUAZZA FÉTIHA", True)),
        ("Fe\u0301tiha", ("Fétiha", False)),  # decomposed accent composed
        ("el-Hadj", ("el-Hadj", False)),
        ("محمد  أمين", ("محمد أمين", False)),
        ("", (None, False)),
        ("   ", (None, False)),
        (None, (None, False)),
        (b"  Ben Ali ", ("Ben Ali", False)),
    ],
)
def test_clean_name_keeps_casing_and_accents(raw: object, expected: tuple[str | None, bool]) -> None:
    assert clean_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ne   RÉPOND pas ", "ne repond pas"),
        ("Ne répond pas", "ne repond pas"),
        ("FormÃ©e", "formee"),
        ("Formée", "formee"),
        ("Archivé", "archive"),
        ("archivé", "archive"),
        ("Archivè", "archive"),
        ("ARCHIVÉ", "archive"),
        ("Confirmer", "confirmer"),
        ("\tnouveau\n", "nouveau"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("ﬁne", "fine"),
        ("محمد", "محمد"),
        (None, ""),
        ("", ""),
        ("   ", ""),
        (42, "42"),
        (b"Form\xe9e", "formee"),
    ],
)
def test_fold_text(raw: object, expected: str) -> None:
    assert fold_text(raw) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Amine", "BEN ALI", "ali amine ben"),
        ("ben  Ali", "amine", "ali amine ben"),
        ("Amine", "Ben-Ali", "ali amine ben"),
        ("Amine", "Ben’Ali", "ali amine ben"),
        ("Fétiha", "BOUAZZA", "bouazza fetiha"),
        ("FÃ‰TIHA", "Bouazza", "bouazza fetiha"),
        ("Abd-El-Kader", "O'Brien", "abd brien el kader o"),
        ("Amine", "Benali", "amine benali"),  # glued particles are another key
        ("Ali", "Ali", "ali ali"),  # repeated tokens are kept
        ("Amine", None, "amine"),
        (None, "Ben Ali", "ali ben"),
        (None, None, None),
        ("", "  ", None),
        ("-", "'", None),
    ],
)
def test_name_key(first: object, last: object, expected: str | None) -> None:
    assert name_key(first, last) == expected


def test_name_key_ignores_token_order_across_first_and_last_name() -> None:
    assert name_key("Amine", "BEN ALI") == name_key("ben  Ali", "amine")
    assert name_key("Mohamed Amine", "Ben Ali") == name_key("Ali", "BEN mohamed AMINE")


# --- birth date -----------------------------------------------------------------------

BIRTH = datetime.date(1998, 3, 15)


@pytest.mark.parametrize(
    "raw",
    [
        "1998-03-15",
        "1998-3-15",
        "1998/03/15",
        "1998.03.15",
        "1998-03-15 00:00:00",
        "1998-03-15T00:00:00",
        "1998-03-15 12:30",
        "15/03/1998",
        "15/3/1998",
        "15-03-1998",
        "15.03.1998",
        "15 03 1998",
        "15/3/98",
        "15/03/98",
        " 15/03/1998 ",
        "15 mars 1998",
        "15 MARS 1998",
        "15 Mars. 1998",
        b"1998-03-15",
        BIRTH,
        datetime.datetime(1998, 3, 15, 8, 30),
    ],
)
def test_birth_date_formats(raw: object) -> None:
    assert parse_birth_date(raw, today=TODAY) == BirthDateResult(BIRTH, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1er janvier 1990", datetime.date(1990, 1, 1)),
        ("3 février 2001", datetime.date(2001, 2, 3)),
        ("03/04/2001", datetime.date(2001, 4, 3)),  # day first
        ("01/01/05", datetime.date(2005, 1, 1)),
        ("01/06/25", datetime.date(2025, 6, 1)),  # today itself
        ("01/01/26", datetime.date(1926, 1, 1)),  # 2026 would be in the future
        ("31/12/00", datetime.date(2000, 12, 31)),
        ("1900-01-01", datetime.date(1900, 1, 1)),
        ("29/02/2000", datetime.date(2000, 2, 29)),
        ("١٥/٠٣/١٩٩٨", BIRTH),
    ],
)
def test_birth_date_edge_formats(raw: str, expected: datetime.date) -> None:
    assert parse_birth_date(raw, today=TODAY) == BirthDateResult(expected, None)


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        ("0000-00-00", "zero_date"),
        ("0000-00-00 00:00:00", "zero_date"),
        (b"0000-00-00", "zero_date"),
        ("inconnue", "unparseable"),
        ("néant", "unparseable"),
        ("NÉANT", "unparseable"),
        ("/", "unparseable"),
        ("NULL", "unparseable"),
        ("-", "unparseable"),
        ("1998", "unparseable"),
        ("15/03", "unparseable"),
        ("15/03-1998", "unparseable"),
        ("19980315", "unparseable"),
        (19980315, "unparseable"),
        ("15 foo 1998", "unparseable"),
        ("31/02/1998", "impossible_date"),
        ("1998-02-30", "impossible_date"),
        ("29/02/1999", "impossible_date"),
        ("15/13/1998", "impossible_date"),  # never guessed as month first
        ("00/03/1998", "impossible_date"),
        ("1998-00-00", "impossible_date"),
        ("0000-03-15", "impossible_date"),
        ("1899-12-31", "out_of_range"),
        ("02/06/2025", "out_of_range"),  # the day after today
        ("2030-01-01", "out_of_range"),
        (datetime.date(1850, 1, 1), "out_of_range"),
        (datetime.datetime(2030, 1, 1), "out_of_range"),
    ],
)
def test_birth_date_issues(raw: object, issue: str) -> None:
    assert parse_birth_date(raw, today=TODAY) == BirthDateResult(None, issue)
    assert issue in BIRTH_DATE_ISSUES


@pytest.mark.parametrize("raw", [None, "", "   ", b""])
def test_missing_birth_date_is_no_issue(raw: object) -> None:
    assert parse_birth_date(raw, today=TODAY) == BirthDateResult(None, None)


def test_birth_date_defaults_today_to_the_current_date() -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert parse_birth_date(tomorrow).issue == "out_of_range"
    assert parse_birth_date("15/03/1998").value == BIRTH


def test_unbounded_today_keeps_two_digit_years_in_the_past() -> None:
    result = parse_birth_date("15/03/98", today=datetime.date.max)
    assert result == BirthDateResult(BIRTH, None)


def _library_accepts(text: str) -> bool:
    try:
        normalize.validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except normalize.EmailNotValidError:
        return False
    return True


def _generated_addresses(count: int, seed: int = 11) -> list[str]:
    """Address-shaped strings built to probe every rule the fast path relies on: separators at
    the edges or doubled, over-long parts, hyphens at label edges, numeric and special-use
    top-level domains, upper case, odd characters."""
    rng = random.Random(seed)
    local_chars = "abcXYZ019._+-~!#%'"
    label_chars = "abcQRS0189-_"

    def part(chars: str, longest: int) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(1, longest)))

    tlds = [
        "com",
        "dz",
        "fr",
        "COM",
        "local",
        "localhost",
        "test",
        "onion",
        "arpa",
        "invalid",
        "x",
        "c0m",
        "123",
        "museum",
        "a" * 30,
    ]

    def words(separators: str, longest: int) -> str:
        joined = rng.choice(separators).join(part("abcXYZ0189", longest) for _ in range(rng.randint(1, 3)))
        return joined if rng.random() < 0.9 else rng.choice(separators) + joined

    addresses = []
    for _ in range(count):
        tidy = rng.random() < 0.6
        local = words("._+-", 9) if tidy else part(local_chars, 8 if rng.random() < 0.7 else 70)
        labels = [
            words("-", 8) if tidy else part(label_chars, 8 if rng.random() < 0.9 else 70)
            for _ in range(rng.randint(0, 3))
        ]
        domain = ".".join([*labels, rng.choice(tlds)])
        addresses.append(f"{local}@{domain}" if rng.random() < 0.97 else f"{local}{domain}")
    return addresses


def test_the_email_fast_path_never_accepts_what_the_library_refuses() -> None:
    addresses = _generated_addresses(15_000)
    fast = [a for a in addresses if normalize._is_plain_email(a)]
    assert len(fast) > 1_000  # the fast path is really exercised (about a tenth)
    assert [a for a in fast if not _library_accepts(a)] == []
    assert any(not _library_accepts(a) for a in addresses)  # and so are refusals
    assert [normalize._is_email(a) for a in addresses] == [_library_accepts(a) for a in addresses]
