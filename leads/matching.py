"""Lead-to-account matching: by company domain first, then by fuzzy company name."""

import re
from dataclasses import dataclass

from django.conf import settings
from rapidfuzz import fuzz, process, utils

from leads.models import Account, AccountDomain
from leads.normalise import fold_text

# Legal forms dropped before names are compared: "ACME GmbH" and "Acme Inc." are both "acme".
LEGAL_SUFFIXES = [
    "gmbh & co. kg", "gmbh & co kg", "sp. z o.o.", "sp. z o. o.", "sp z oo", "s.r.l.", "s.p.a.", "s.a.", "n.v.",
    "b.v.", "ltda.", "ltda", "gmbh", "mbh", "ag", "kg", "se", "inc.", "inc", "incorporated", "corp.", "corp",
    "corporation", "co.", "company", "ltd.", "ltd", "limited", "llc", "l.l.c.", "llp", "plc", "sa", "srl", "spa",
    "sas", "sarl", "bv", "nv", "oy", "ab", "as", "aps", "ooo", "ооо", "оао", "зао", "пао", "ao", "zao", "oao",
]
_SUFFIX_PATTERN = re.compile(
    r"(?:[\s,]+(?:" + "|".join(re.escape(s) for s in sorted(LEGAL_SUFFIXES, key=len, reverse=True)) + r"))+\s*$"
)
_PREFIX_PATTERN = re.compile(r"^(?:ооо|оао|зао|пао|ooo|oao|zao|ao)\s+")


@dataclass(frozen=True)
class AccountMatch:
    account: Account
    method: str  # "domain" or "name"
    score: float


def company_name_key(name: str) -> str:
    """'ACME GmbH' -> 'acme', 'OOO «Ромашка»' -> 'ромашка': the part of a name that identifies the company."""
    text = fold_text(name).replace("«", "").replace("»", "").replace('"', "")
    text = _PREFIX_PATTERN.sub("", text)
    text = _SUFFIX_PATTERN.sub("", text)
    return utils.default_process(text)


def _domain_and_parents(domain: str) -> list:
    """'eu.shop.acme.com' -> ['eu.shop.acme.com', 'shop.acme.com', 'acme.com']."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def account_by_domain(domain: str):
    if not domain:
        return None
    candidates = _domain_and_parents(domain)
    found = {d.domain: d.account for d in AccountDomain.objects.select_related("account").filter(domain__in=candidates)}
    return next((found[d] for d in candidates if d in found), None)


def account_by_name(company: str, *, threshold: float):
    """The account whose name is closest to `company`, if at least `threshold` (0-100) alike."""
    key = company_name_key(company)
    if not key:
        return None, 0.0
    # Every account name is compared: fine for thousands of accounts; beyond that a trigram index would pre-filter.
    names = {pk: company_name_key(name) for pk, name in Account.objects.values_list("pk", "name")}
    best = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=threshold)
    if best is None:
        return None, 0.0
    _name, score, pk = best
    return Account.objects.get(pk=pk), round(score, 1)


def account_match(*, domain: str, company: str) -> AccountMatch | None:
    """The lead's account by domain (email or website), else by fuzzy company name; None when nothing is close."""
    account = account_by_domain(domain)
    if account is not None:
        return AccountMatch(account=account, method="domain", score=100.0)
    account, score = account_by_name(company, threshold=settings.ACCOUNT_MATCH_THRESHOLD)
    if account is not None:
        return AccountMatch(account=account, method="name", score=score)
    return None
