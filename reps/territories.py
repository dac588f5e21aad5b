"""Which territory a lead belongs to: country, region and postal code matching."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

_POSTAL_TOKEN = re.compile(r"^[A-Z0-9]+(?:[ -]?[A-Z0-9]+)*$")


@dataclass(frozen=True)
class PostalRange:
    low: str
    high: str

    def contains(self, code: str) -> bool:
        # Compare on the range's own length so "80331" is inside "80000-89999"
        # and a longer code such as "803311" still falls inside by its prefix.
        width = len(self.low)
        return len(code) >= width and self.low <= code[:width] <= self.high


def _normalise_postal(code: str) -> str:
    return re.sub(r"\s+", "", (code or "").upper())


def parse_postal_codes(text: str) -> list:
    """Parse a territory's postal spec into prefixes (str) and PostalRange items; raise ValueError naming the bad entry."""
    entries = []
    for raw in re.split(r"[,\n;]+", text or ""):
        token = raw.strip().upper()
        if not token:
            continue
        if re.fullmatch(r"[A-Z0-9]+\s*-\s*[A-Z0-9]+", token):
            low, high = (part.strip() for part in token.split("-"))
            if len(low) != len(high):
                raise ValueError(
                    _("Postal range %(range)s: both ends need the same number of characters.") % {"range": token}
                )
            if low > high:
                raise ValueError(_("Postal range %(range)s: the start is after the end.") % {"range": token})
            entries.append(PostalRange(low, high))
        elif _POSTAL_TOKEN.fullmatch(token):
            entries.append(_normalise_postal(token))
        else:
            raise ValueError(
                _("%(token)s is not a postal prefix (letters and digits) or a range such as 80000-89999.")
                % {"token": token}
            )
    return entries


def postal_code_matches(spec_entries, postal_code: str) -> bool:
    code = _normalise_postal(postal_code)
    if not code:
        return False
    for entry in spec_entries:
        if isinstance(entry, PostalRange):
            if entry.contains(code):
                return True
        elif code.startswith(entry):
            return True
    return False


def _split_regions(text: str) -> set:
    return {part.strip().upper() for part in (text or "").split(",") if part.strip()}


def _region_forms(region: str, country: str) -> set:
    """A lead's region as territories may spell it: "CA" and "US-CA" (ISO 3166-2, as many web forms send it)."""
    region = (region or "").strip().upper()
    if not region:
        return set()
    if country and region.startswith(f"{country}-"):
        return {region, region[len(country) + 1:]}
    return {region, f"{country}-{region}"} if country else {region}


@dataclass(frozen=True)
class _Criteria:
    """A territory's own criteria, parsed once per index rather than once per lead."""

    countries: frozenset
    regions: frozenset
    postal: tuple

    @classmethod
    def of(cls, territory):
        return cls(
            frozenset(country.code for country in territory.countries),
            frozenset(_split_regions(territory.regions)),
            tuple(parse_postal_codes(territory.postal_codes)),
        )

    @property
    def breadth(self) -> tuple:
        """Sorts narrow criteria first: a postal code beats a region, a region beats a country."""
        return (not self.postal, not self.regions, not self.countries)

    def verdict(self, *, country: str, region: str, postal_code: str) -> bool | None:
        """True/False on the territory's own criteria; None when it sets none (a pure grouping)."""
        if not (self.countries or self.regions or self.postal):
            return None
        country = (country or "").strip().upper()
        if self.countries and country not in self.countries:
            return False
        if self.regions and not self.regions & _region_forms(region, country):
            return False
        if self.postal and not postal_code_matches(self.postal, postal_code):
            return False
        return True


class TerritoryIndex:
    """All territories loaded once; finds the most specific territory for a location."""

    def __init__(self, territories):
        """`territories`: Territory rows (reps.selectors.territory_index reads them all)."""
        self.by_id = {t.pk: t for t in territories}
        self.criteria = {pk: _Criteria.of(t) for pk, t in self.by_id.items()}
        self.children = {}
        for territory in self.by_id.values():
            self.children.setdefault(territory.parent_id, []).append(territory)

    def match(self, *, country: str, region: str = "", postal_code: str = ""):
        """The deepest territory whose criteria (and all its ancestors' criteria) match, or None.

        Between matches at the same depth the narrower criteria win (postal code, then
        region, then country), then the name, so the answer never depends on load order.
        """
        best, best_key = None, None
        stack = [(t, 0) for t in self.children.get(None, [])]
        while stack:
            territory, depth = stack.pop()
            criteria = self.criteria[territory.pk]
            verdict = criteria.verdict(country=country, region=region, postal_code=postal_code)
            if verdict is False:
                continue
            if verdict is True:
                key = (-depth, criteria.breadth, territory.name)
                if best_key is None or key < best_key:
                    best, best_key = territory, key
            stack.extend((child, depth + 1) for child in self.children.get(territory.pk, []))
        return best

    def ancestors_and_self(self, territory):
        """Territory ids from the given one up to the root."""
        seen = []
        while territory is not None and territory.pk not in seen:
            seen.append(territory.pk)
            territory = self.by_id.get(territory.parent_id)
        return seen
