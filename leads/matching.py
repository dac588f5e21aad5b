"""Lead-to-account matching: by company domain first, then by fuzzy company name.

The one place that decides which account a lead belongs to: intake calls `account_match`, and
routing, for a lead saved without an account, calls `account_by_domain`, so both ignore free-mail
domains and match subdomains alike.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from rapidfuzz import fuzz, process, utils

from leads.domains import is_free_mail_domain, normalise_domain
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


def account_domains(*, domain: str, email: str) -> list:
    """The domains that may name a lead's account, most specific first: its company domain, then its email's,
    each with its parent domains; never a free-mail provider's, even where an account lists one."""
    found = []
    for candidate in (normalise_domain(domain), normalise_domain(email) if "@" in email else ""):
        for name in _domain_and_parents(candidate):
            if name not in found and not is_free_mail_domain(name):
                found.append(name)
    return found


def accounts_look_up(domains, *, known: dict) -> None:
    """Reads the accounts listing these domains into `known` (domain -> Account, or None) in one query."""
    if not domains:
        return
    known.update(dict.fromkeys(domains))
    rows = AccountDomain.objects.select_related("account__parent", "account__owner").filter(domain__in=domains)
    known.update((row.domain, row.account) for row in rows)


def account_by_domain(*, domain: str, email: str, known: dict | None = None):
    """The account listing the lead's most specific domain (see `account_domains`), or None.

    `known` keeps what was looked up between calls: a routing batch passes its own.
    """
    candidates = account_domains(domain=domain, email=email)
    known = {} if known is None else known
    accounts_look_up([name for name in candidates if name not in known], known=known)
    return first_known_account(candidates, known)


def first_known_account(domains, known: dict):
    """The account listing the first of `domains` (most specific first) that has one, from `known`, or None."""
    return next((known[name] for name in domains if known[name] is not None), None)


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


def account_match(*, domain: str, email: str, company: str) -> AccountMatch | None:
    """The lead's account by domain (website or email), else by fuzzy company name; None when nothing is close."""
    account = account_by_domain(domain=domain, email=email)
    if account is not None:
        return AccountMatch(account=account, method="domain", score=100.0)
    account, score = account_by_name(company, threshold=settings.ACCOUNT_MATCH_THRESHOLD)
    if account is not None:
        return AccountMatch(account=account, method="name", score=score)
    return None
