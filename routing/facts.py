"""A lead's facts as rule conditions see them: its fields plus derived facts (territory, account)."""

from leads.matching import account_by_domain
from leads.models import Lead
from routing.conditions import ATTRIBUTE_PREFIX, FIELD_TYPES

# The country is read apart: its field builds a Country object at every read, and the facts need only its code.
LEAD_FIELDS = [name for name in FIELD_TYPES
               if hasattr(Lead, name) and "." not in name and name not in ("account", "country")]


class AttributeFacts(dict):
    """Facts dict that resolves "attributes.a.b" lazily from the lead's JSON attributes."""

    def __init__(self, values, attributes):
        super().__init__(values)
        self._attributes = attributes if isinstance(attributes, dict) else {}

    def get(self, key, default=None):
        if key.startswith(ATTRIBUTE_PREFIX):
            value = self._attributes
            for part in key[len(ATTRIBUTE_PREFIX):].split("."):
                if not isinstance(value, dict) or part not in value:
                    return default
                value = value[part]
            return value
        return super().get(key, default)


def matched_account(lead: Lead, accounts=None):
    """The lead's account: the one set on it, else the one leads.matching finds by its company or email domain.

    `accounts` (a routing batch) remembers domains already looked up in the same transaction.
    """
    if lead.account_id:
        return lead.account
    if accounts is not None:
        return accounts.account_for(lead)
    return account_by_domain(domain=lead.domain, email=lead.email)


def lead_facts(lead: Lead, territory_index, accounts=None) -> AttributeFacts:
    """Everything conditions may test, computed once per routing run."""
    values = {name: getattr(lead, name) for name in LEAD_FIELDS}
    country = lead.country
    values["country"] = country.code if country else ""
    territory = territory_index.match(country=values["country"], region=lead.region, postal_code=lead.postal_code)
    values["territory"] = territory.name if territory else ""
    values["territory_id"] = territory.pk if territory else None
    values["territory_chain"] = territory_index.ancestors_and_self(territory) if territory else []
    account = matched_account(lead, accounts)
    values["account_obj"] = account
    values["account"] = account.name if account else ""
    values["account.is_customer"] = bool(account and account.is_customer)
    values["account.parent"] = account.parent.name if account and account.parent_id else ""
    values["account.has_owner"] = bool(account and account.owner_id)
    return AttributeFacts(values, lead.attributes)
