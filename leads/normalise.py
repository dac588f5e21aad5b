"""One cleaning pass for every intake source (form, API, CSV): trimmed text, ISO countries, E.164 phones, domains.

`lead_data_normalise` is the only entry point; it returns the values to set on a Lead or raises a
ValidationError naming each bad field with a message a prospect or a manager can act on.
"""

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from leads.domains import is_free_mail_domain, normalise_domain
from leads.models import INTAKE_FIELDS, Lead

# Names people type that are neither the English nor a translated ISO name (lower case, no accents).
COUNTRY_ALIASES = {
    "deutschland": "DE", "germany": "DE", "allemagne": "DE", "niemcy": "DE", "germania": "DE", "alemanha": "DE",
    "osterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "italia": "IT", "polska": "PL", "espana": "ES", "france": "FR", "nederland": "NL", "holland": "NL",
    "belgie": "BE", "belgique": "BE", "danmark": "DK", "sverige": "SE", "norge": "NO", "suomi": "FI",
    "россия": "RU", "российская федерация": "RU", "russia": "RU", "rossiya": "RU", "украина": "UA", "україна": "UA",
    "беларусь": "BY", "казахстан": "KZ", "brasil": "BR", "portugal": "PT", "ceska republika": "CZ", "cesko": "CZ",
    "czech republic": "CZ", "magyarorszag": "HU", "hellas": "GR", "turkiye": "TR", "turkey": "TR",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
    "united kingdom": "GB", "uae": "AE", "south korea": "KR", "korea": "KR",
}
# Languages whose country names are recognised: the languages of the UI.
COUNTRY_NAME_LANGUAGES = ("en", "de", "it", "pt", "pl", "ru", "fr", "es")

INTEGER_FIELDS = {"employee_count": (0, 10**9), "seats": (0, 10**9), "score": (-10**6, 10**6)}
DECIMAL_FIELDS = {"deal_value"}
TEXT_LIMITS = {name: Lead._meta.get_field(name).max_length for name in INTAKE_FIELDS
               if name not in INTEGER_FIELDS and name not in DECIMAL_FIELDS and name != "country"}

_SPACES = re.compile(r"\s+")
# A contact field of only these is "not given"; every regex engine counts them as whitespace (API spec: ^\s*$).
ASCII_SPACES = " \t\n\r\f\v"
CONTACT_FIELDS = {"email", "phone"}
PHONE_ERROR = gettext_lazy("Enter a phone number with its country code, e.g. +49 30 1234567.")
EMAIL_ERROR = gettext_lazy("Enter a valid email address, e.g. anna@acme.com.")
CONTACT_ERRORS = {"email": EMAIL_ERROR, "phone": PHONE_ERROR}


def clean_text(value) -> str:
    """Trims, collapses runs of whitespace (including tabs and newlines) and drops control characters."""
    text = "".join(ch for ch in str(value or "") if unicodedata.category(ch)[0] != "C" or ch in "\t\n\r")
    return _SPACES.sub(" ", text).strip()


def fold_text(text: str) -> str:
    """'Österreich ' -> 'osterreich': lower case without accents, for lookups."""
    text = unicodedata.normalize("NFKD", clean_text(text).lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@functools.cache
def _country_names() -> dict:
    names = {}
    for language in COUNTRY_NAME_LANGUAGES:
        with translation.override(language):
            for code, name in countries:
                names.setdefault(fold_text(str(name)), code)
    names.update({fold_text(alias): code for alias, code in COUNTRY_ALIASES.items()})
    return names


def normalise_country(value) -> str:
    """'Deutschland', 'Germany', 'de', 'DEU' -> 'DE'; '' for blank; ValueError when unknown."""
    text = clean_text(value)
    if not text:
        return ""
    if len(text) in (2, 3) and text.isalpha():
        code = countries.alpha2(text)
        if code:
            return code
    code = _country_names().get(fold_text(text))
    if code:
        return code
    raise ValueError(text)


def normalise_email(value) -> str:
    """Trimmed, lower-cased and validated; raises ValidationError."""
    email = clean_text(value).lower()
    if email:
        validate_email(email)
    return email


def normalise_phone(value, country: str) -> str:
    """E.164 ('+4930123456'), read in the lead's country unless it starts with +; raises NumberParseException."""
    text = clean_text(value)
    if not text:
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    number = phonenumbers.parse(text, country or None)
    if not phonenumbers.is_possible_number(number):
        raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, "impossible")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def company_domain(*, website: str, email: str) -> str:
    """The company's domain from its website, else from a business email; never a free-mail provider's."""
    for candidate in (website, email.rsplit("@", 1)[1] if "@" in email else ""):
        domain = normalise_domain(candidate)
        if domain and "." in domain and not is_free_mail_domain(domain) and " " not in domain:
            return domain[:253]
    return ""


def _parse_integer(name, text):
    low, high = INTEGER_FIELDS[name]
    try:
        number = int(text.replace(" ", "").replace("_", ""))
    except ValueError:
        raise ValidationError(_("Enter a whole number, e.g. 50.")) from None
    if not low <= number <= high:
        raise ValidationError(_("Enter a number between %(low)s and %(high)s.") % {"low": low, "high": high})
    return number


def _parse_decimal(text):
    try:
        number = Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter an amount, e.g. 12000.50.")) from None
    if not number.is_finite() or number < 0 or number >= Decimal(10) ** 12:
        raise ValidationError(_("Enter an amount between 0 and 999999999999.99."))
    return number.quantize(Decimal("0.01"))


def lead_data_normalise(raw: dict) -> dict:
    """Cleans intake values ({field: text}) into Lead field values; raises ValidationError({field: [message]})."""
    errors, data = {}, {}
    for name in INTAKE_FIELDS:
        if name not in raw or raw[name] is None:
            continue
        text = clean_text(raw[name])
        try:
            if name in CONTACT_FIELDS and not text and str(raw[name]).strip(ASCII_SPACES):
                # Only invisible characters (controls, zero-width spaces): a broken value, not "no email/phone".
                raise ValidationError(str(CONTACT_ERRORS[name]))
            if name in INTEGER_FIELDS:
                data[name] = _parse_integer(name, text) if text else None
            elif name in DECIMAL_FIELDS:
                data[name] = _parse_decimal(text) if text else None
            elif name == "email":
                data[name] = normalise_email(text)
            elif name == "country":
                data[name] = normalise_country(text)
            else:
                if len(text) > TEXT_LIMITS[name]:
                    raise ValidationError(_("Keep it under %(limit)s characters.") % {"limit": TEXT_LIMITS[name]})
                data[name] = text
        except ValidationError as error:
            # Any invalid email gets our message with an example, not the validator's bare one.
            errors[name] = [str(EMAIL_ERROR)] if name == "email" else error.messages
        except ValueError:
            errors[name] = [_("Unknown country %(value)r: enter a country name or its two-letter code, e.g. DE.")
                            % {"value": text[:60]}]
    if data.get("phone") and "country" not in errors:
        try:
            data["phone"] = normalise_phone(data["phone"], data.get("country", ""))
        except phonenumbers.NumberParseException:
            errors["phone"] = [str(PHONE_ERROR)]
    if errors:
        raise ValidationError(errors)
    data["domain"] = company_domain(website=data.get("website", ""), email=data.get("email", ""))
    return data
