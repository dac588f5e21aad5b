"""CSV import of leads: read a file, map its columns to lead fields, check every row, create the valid ones."""

import codecs
import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from leads.models import INTAKE_FIELDS, Lead
from leads.normalise import fold_text, lead_data_normalise
from leads.services import lead_submit

MAX_ROWS = 20_000
# Header spellings seen in exports from CRMs and event tools, besides the field names and their labels.
HEADER_ALIASES = {
    "e-mail": "email", "mail": "email", "email address": "email", "telephone": "phone", "tel": "phone",
    "mobile": "phone", "phone number": "phone", "firstname": "first_name", "first": "first_name",
    "given name": "first_name", "lastname": "last_name", "surname": "last_name", "last": "last_name",
    "family name": "last_name", "organisation": "company", "organization": "company", "company name": "company",
    "url": "website", "web": "website", "title": "job_title", "position": "job_title", "zip": "postal_code",
    "zip code": "postal_code", "postcode": "postal_code", "state": "region", "employees": "employee_count",
}


class CsvFileError(ValueError):
    """The file cannot be read as CSV; the message says why."""


@dataclass
class RowOutcome:
    line: int
    values: dict
    errors: dict = field(default_factory=dict)
    lead_id: int | None = None
    merged: bool = False


@dataclass
class ImportReport:
    rows: list

    @property
    def created(self):
        return [row for row in self.rows if row.lead_id and not row.merged]

    @property
    def merged(self):
        return [row for row in self.rows if row.merged]

    @property
    def failed(self):
        return [row for row in self.rows if row.errors]


def csv_decode(content: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252; CsvFileError otherwise.

    Every path that reads an uploaded file goes through here, so the encoding is decided once, strictly: a
    character replaced by "�" would be a name stored wrong without anyone being told.
    """
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]  # the codec reads the BOM and drops it
    else:
        encodings = ["utf-8-sig", "cp1252"]  # cp1252 leaves five bytes undefined: real garbage still fails
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        # No one means to write a NUL in a CSV: it is what UTF-16 without a BOM (or UTF-32) looks like read wrongly.
        if "\x00" not in text:
            return text
    raise CsvFileError(_("The file's encoding cannot be read. Save it as UTF-8, UTF-16 (with a byte order mark) "
                         "or Windows-1252 and try again."))


def csv_read(content: bytes | str) -> tuple[list, list]:
    """(headers, rows as lists) of the file's text or bytes (see csv_decode); comma, semicolon or tab separated."""
    if isinstance(content, bytes):
        content = csv_decode(content)
    try:
        dialect = csv.Sniffer().sniff(content[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        table = [row for row in csv.reader(io.StringIO(content), dialect) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise CsvFileError(_("The file is not valid CSV: %(error)s") % {"error": error}) from None
    if not table:
        raise CsvFileError(_("The file is empty. The first line must name the columns, e.g. email,company."))
    if len(table) - 1 > MAX_ROWS:
        raise CsvFileError(_("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS})
    headers = [cell.strip() for cell in table[0]]
    return headers, table[1:]


def mapping_suggest(headers: list) -> dict:
    """{column index: lead field} for headers named like a field ('E-mail', 'Company name', 'country')."""
    known = {fold_text(name): name for name in INTAKE_FIELDS}
    known.update({fold_text(name.replace("_", " ")): name for name in INTAKE_FIELDS})
    known.update({fold_text(str(Lead._meta.get_field(name).verbose_name)): name for name in INTAKE_FIELDS})
    known.update(HEADER_ALIASES)
    mapping, taken = {}, set()
    for index, header in enumerate(headers):
        name = known.get(fold_text(header))
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def rows_map(rows: list, mapping: dict) -> list:
    """[(line number, {field: text})]: line 2 is the first row under the header."""
    return [(line, {name: (row[index] if index < len(row) else "") for index, name in mapping.items()})
            for line, row in enumerate(rows, start=2)]


def rows_check(mapped: list) -> list:
    """Each row normalised without saving: what the import would create, and why a row would fail."""
    outcomes = []
    for line, values in mapped:
        try:
            cleaned = lead_data_normalise(values)
            if not cleaned.get("email") and not cleaned.get("phone"):
                raise ValidationError({"email": [_("Give an email address or a phone number.")]})
            outcomes.append(RowOutcome(line=line, values=cleaned))
        except ValidationError as error:
            outcomes.append(RowOutcome(line=line, values=values, errors=error.message_dict))
    return outcomes


def leads_import(*, mapped: list, source: str) -> ImportReport:
    """Creates (or merges) one lead per valid row, each row in its own transaction; failed rows save nothing."""
    outcomes = []
    for line, values in mapped:
        try:
            result = lead_submit(raw=values, channel="csv", hidden_values={"source": source} if source else None)
        except ValidationError as error:
            outcomes.append(RowOutcome(line=line, values=values, errors=error.message_dict))
        else:
            outcomes.append(RowOutcome(line=line, values=values, lead_id=result.lead.pk, merged=result.merged))
    return ImportReport(rows=outcomes)
