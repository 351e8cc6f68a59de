"""Property tests: no legacy value makes a normalizer raise, and results keep their shape."""

from __future__ import annotations

import datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.legacy_import.normalize import (
    BIRTH_DATE_ISSUES,
    EARLIEST_BIRTH_DATE,
    EMAIL_STATUSES,
    PHONE_STATUSES,
    clean_name,
    fold_text,
    name_key,
    normalize_email,
    normalize_phone,
    parse_birth_date,
    repair_text,
)

TODAY = datetime.date(2025, 6, 1)
quick = settings(max_examples=150, deadline=None)

any_text = st.text(st.characters(codec=None, exclude_categories=()))  # surrogates too
raw_values = st.one_of(
    st.none(),
    any_text,
    st.text(),
    st.binary(),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
phone_like = st.text(alphabet="0123456789٠٥٩۰۵۹+-./() \n,;et", max_size=60)
date_like = st.text(alphabet="0123456789-/. :tT", max_size=25)
mojibake = st.text().map(lambda text: text.encode("utf-8").decode("latin-1"))


@quick
@given(raw_values)
@example("0559446168")
@example(b"\xff\xfe")
@example("\ud800")
def test_no_value_makes_any_normalizer_raise(raw: object) -> None:
    normalize_phone(raw)
    normalize_email(raw)
    repair_text(raw)
    clean_name(raw)
    fold_text(raw)
    name_key(raw, raw)
    parse_birth_date(raw, today=TODAY)


@quick
@given(st.one_of(raw_values, phone_like))
def test_phone_result_shape(raw: object) -> None:
    result = normalize_phone(raw)
    assert result.status in PHONE_STATUSES
    assert (result.status == "valid") == (result.normalized is not None)
    numbers = [result.normalized, *result.alternates] if result.normalized else []
    assert all(number.isascii() and number.isdigit() for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert result.normalized or not result.alternates


@quick
@given(st.one_of(st.text(), phone_like))
def test_phone_is_missing_exactly_when_the_text_is_blank(raw: str) -> None:
    assert (normalize_phone(raw).status == "missing") == (not raw.strip())


@quick
@given(
    national=st.from_regex(r"(?:55|6[0-9]|7[7-9])[0-9]{7}", fullmatch=True),
    shape=st.sampled_from(["0{}", "+213 {}", "00213{}", "213{}", "{}", "0{} / 0559446168"]),
)
def test_every_written_form_of_a_mobile_gives_the_same_number(national: str, shape: str) -> None:
    assert normalize_phone(shape.format(national)).normalized == f"213{national}"


@quick
@given(st.one_of(raw_values, st.emails(), st.emails().map(str.upper)))
def test_email_result_shape(raw: object) -> None:
    result = normalize_email(raw)
    assert result.status in EMAIL_STATUSES
    assert (result.status == "valid") == (result.normalized is not None)
    if result.normalized is not None:
        assert result.normalized == result.normalized.lower()
    if isinstance(raw, str) and result.normalized is not None:
        assert result.normalized == raw.strip().lower()


@quick
@given(st.one_of(raw_values, mojibake))
def test_fold_text_is_idempotent_and_trimmed(raw: object) -> None:
    folded = fold_text(raw)
    assert fold_text(folded) == folded
    assert folded == " ".join(folded.split())


# Letters of French and Algerian names written in Latin script, but not "œ", "ÿ" or "â":
# "Œ", "Ÿ" are UTF-8 continuation bytes in Windows-1252 and "Â " is a mangled no-break
# space, so "çœ", "ÎŸ" or "Â " can honestly be mojibake while "Çœ", "îÿ" or "â " cannot.
name_letters = "abcdeklmnorsyzéèêëàçîïôöùûüABCDEKLMNORSYZÉÈÊËÀÇÎÏÔÖÙÛÜ -'"


@quick
@given(st.text(alphabet=name_letters, max_size=30))
def test_fold_text_ignores_case_and_accents(text: str) -> None:
    assert fold_text(text) == fold_text(text.upper()) == fold_text(text.lower())
    assert fold_text(text).isascii()


@quick
@given(st.one_of(raw_values, mojibake))
def test_clean_name_is_trimmed_collapsed_and_stable(raw: object) -> None:
    cleaned, _ = clean_name(raw)
    if cleaned is not None:
        assert cleaned == " ".join(cleaned.split())
        assert cleaned
        assert clean_name(cleaned)[0] == cleaned


@quick
@given(st.text(), st.text())
def test_name_key_ignores_which_field_holds_which_token(first: str, last: str) -> None:
    key = name_key(first, last)
    assert key == name_key(last, first)
    if key is not None:
        tokens = key.split(" ")
        assert tokens == sorted(tokens)
        assert all(tokens)


@quick
@given(st.one_of(raw_values, date_like))
def test_birth_date_result_shape(raw: object) -> None:
    result = parse_birth_date(raw, today=TODAY)
    assert result.issue is None or result.issue in BIRTH_DATE_ISSUES
    assert result.value is None or result.issue is None
    if result.value is not None:
        assert EARLIEST_BIRTH_DATE <= result.value <= TODAY


@quick
@given(
    st.dates(min_value=EARLIEST_BIRTH_DATE, max_value=TODAY),
    st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"]),
)
def test_every_written_form_of_a_date_reads_back(value: datetime.date, form: str) -> None:
    assert parse_birth_date(value.strftime(form), today=TODAY).value == value
