"""Leads, the accounts they belong to, and each lead's timeline."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext
from django_countries.fields import CountryField

from leads.domains import is_free_mail_domain, normalise_domain


class Account(models.Model):
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent account"), null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries"
    )
    owner = models.ForeignKey(
        "reps.Rep", verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    is_customer = models.BooleanField(_("customer"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # The accounts admin list and the account pickers, both in their default order (by name).
        indexes = [models.Index(fields=["name"], name="account_name")]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self):
        return self.name

    def ancestors(self):
        seen, account = set(), self.parent
        while account is not None and account.pk not in seen:
            seen.add(account.pk)
            yield account
            account = account.parent

    def clean(self):
        if self.pk and self.parent_id:
            if self.parent_id == self.pk or any(a.pk == self.pk for a in self.ancestors()):
                raise ValidationError(
                    {"parent": _("An account cannot be above itself: %(parent)s is already a subsidiary of %(account)s.")
                     % {"parent": self.parent, "account": self}}
                )


_domain_validator = DomainNameValidator(
    message=_("Enter a company domain such as acme.com: letters, digits and hyphens, with a dot before the ending.")
)


class AccountDomain(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True, help_text=_("e.g. acme.com, without www."))

    class Meta:
        ordering = ["domain"]
        verbose_name = _("account domain")
        verbose_name_plural = _("account domains")

    def __str__(self):
        return self.domain

    def clean(self):
        self.domain = normalise_domain(self.domain)
        try:
            _domain_validator(self.domain)
        except ValidationError as error:
            raise ValidationError({"domain": error.messages}) from None
        if is_free_mail_domain(self.domain):
            # Matching ignores it anyway (leads.matching): listing it would only look as if it worked.
            raise ValidationError({"domain": _(
                "%(domain)s is a free email provider: anyone can have an address there, so it cannot tell which "
                "account a lead belongs to. Add the company's own domain, e.g. acme.com."
            ) % {"domain": self.domain}})


# The lead columns the admin's search reads, joined into one text with one trigram index (see Lead.Meta).
LEAD_SEARCH_COLUMNS = ("email", "first_name", "last_name", "company")


class LeadSearchText(models.Func):
    """The columns the admin's search reads as one text, a space between them (see `lead_search_text`).

    A search word holds no space (the search splits the term on spaces), so it cannot match across two columns:
    a word found in this text is a word found in one of them.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()


def lead_search_text() -> LeadSearchText:
    return LeadSearchText(*LEAD_SEARCH_COLUMNS)


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        ACCEPTED = "accepted", _("Accepted")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        CONVERTED = "converted", _("Converted")
        LOST = "lost", _("Lost")
        UNROUTABLE = "unroutable", _("Unroutable")
        NURTURE = "nurture", _("Nurture")

    # A rep's open leads count towards their capacity.
    OPEN_STATUSES = (Status.ASSIGNED, Status.ACCEPTED, Status.CONTACTED, Status.QUALIFIED)
    CLOSED_STATUSES = (Status.CONVERTED, Status.LOST)

    # Contact
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # Company
    company = models.CharField(_("company"), max_length=200, blank=True)
    website = models.CharField(_("website"), max_length=253, blank=True)
    domain = models.CharField(_("company domain"), max_length=253, blank=True)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    # Location
    country = CountryField(_("country"), blank=True)
    region = models.CharField(_("region / state"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    # Qualification
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    deal_value = models.DecimalField(
        _("deal value"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    product_interest = models.CharField(_("product interest"), max_length=150, blank=True)
    use_case = models.CharField(_("use case"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    score = models.IntegerField(_("score"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    # Ownership and lifecycle
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        "reps.Rep", verbose_name=_("owner"), null=True, blank=True, on_delete=models.PROTECT, related_name="leads",
        db_index=False,  # lead_owner_status_with_id serves every lookup by owner
    )
    # The rep of the lead's latest assignment, kept when the lead is released to a pool or its rep leaves: the
    # unowned leads a manager's reps left stay that manager's to sort out (reps.scoping). Written with the owner
    # by routing.ownership, the one writer of a lead's owner.
    last_owner = models.ForeignKey(
        "reps.Rep", verbose_name=_("last owner"), null=True, blank=True, editable=False, on_delete=models.PROTECT,
        related_name="+", db_index=False,  # read only for unowned leads: the partial index lead_left_by_rep serves it
    )
    pool = models.ForeignKey(
        "routing.Pool", verbose_name=_("waiting in pool"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    account_match_method = models.CharField(_("account match method"), max_length=20, blank=True)
    account_match_score = models.FloatField(_("account match score"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_touch_at = models.DateTimeField(_("first touch"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Non-null while the lead waits for the routing engine: PostgreSQL is the queue.
    # Every path that creates a lead (forms, API, admin, imports, even bulk_create) queues it by default.
    routing_requested_at = models.DateTimeField(_("routing requested"), null=True, blank=True, default=timezone.now)
    routing_attempts = models.PositiveIntegerField(default=0)
    # Time to first touch: an untouched lead past this instant is reassigned (routing.reassignment).
    sla_due_at = models.DateTimeField(_("first touch due"), null=True, blank=True)
    reassignment_count = models.PositiveIntegerField(_("reassignments"), default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The routing queue: "oldest pending leads", served by workers with SKIP LOCKED.
            models.Index(
                fields=["routing_requested_at"],
                name="lead_routing_pending",
                condition=models.Q(routing_requested_at__isnull=False),
            ),
            # "Open leads of rep X": a rep's queue, and routing_check_loads counting them against the
            # counters (routing.RepLoad) the capacity checks read. With the id: a manager's scope, "leads of
            # reps X, Y" (reps.scoping), is read from the index alone (45,000 leads of a team: 47 -> 4 ms).
            models.Index(fields=["owner", "status"], include=["id"], name="lead_owner_status_with_id"),
            # The SLA sweep: "untouched leads whose first-touch deadline has passed".
            models.Index(
                fields=["sla_due_at"], name="lead_sla_due_untouched", condition=models.Q(first_touch_at__isnull=True)
            ),
            # Intake dedupe, and the admin's lead search for a whole address (leads.selectors.lead_search_q).
            models.Index(fields=["email"], name="lead_email"),
            # Intake dedupe: "open leads with this phone number" (leads.dedupe).
            models.Index(fields=["phone"], name="lead_phone", condition=~models.Q(phone="")),
            # The dashboard's "unroutable leads, oldest first" (routing.dashboard_figures), and the admin's leads list
            # filtered by a status in its default order (newest first).
            models.Index(fields=["status", "created_at"], name="lead_status_created"),
            # The admin's lead search (leads, assignments, routing decisions; leads.selectors.lead_search_q): a word
            # anywhere in the email, name or company, `UPPER(search text) LIKE '%WORD%'` as Django's icontains writes it.
            # One index over the four columns joined, not one per column: routing rewrites every lead's row (a new owner
            # is not a HOT update), so each lead paid four trigram index insertions twice (at intake and when routed).
            GinIndex(OpClass(Upper(lead_search_text()), name="gin_trgm_ops"), name="lead_search_trgm"),
            # The admin's country and source filters: the values leads have, read by skipping along these
            # indexes (leads.selectors.lead_column_values) instead of a DISTINCT over every lead.
            models.Index(fields=["country"], name="lead_country"),
            models.Index(fields=["source"], name="lead_source"),
            # The rep's queue, a page at a time (routing.selectors.rep_open_leads): "open leads of rep X, untouched
            # ones by first-touch deadline, then by age". The expression is the queue's QUEUE_URGENT_AT and the
            # condition is OPEN_STATUSES, in the same order, so PostgreSQL reads a page off the index, no sort.
            models.Index(
                models.F("owner"),
                models.Case(models.When(first_touch_at__isnull=True, then=models.F("sla_due_at"))),
                models.F("created_at"), models.F("id"),
                name="lead_queue_order",
                condition=models.Q(status__in=["assigned", "accepted", "contacted", "qualified"]),
            ),
            # A manager's scope (reps.scoping._leads_in_scope_q): "unowned leads whose last owner is one of reps X",
            # the leads the manager's reps left behind; on every scoped page (lists, dashboards, logs, experiments).
            models.Index(fields=["last_owner"], name="lead_left_by_rep", condition=models.Q(owner__isnull=True)),
            # The pool (routing.selectors.pool_leads_for): "unowned leads of pools P, longest waiting first".
            models.Index(fields=["pool", "created_at", "id"], name="lead_pool_waiting",
                         condition=models.Q(owner__isnull=True, pool__isnull=False)),
        ]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")

    def __str__(self):
        return lead_label(pk=self.pk, first_name=self.first_name, last_name=self.last_name, email=self.email,
                          company=self.company)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


# The columns lead_label reads: what a list that names leads must read of them.
LEAD_LABEL_COLUMNS = ("first_name", "last_name", "email", "company")


def lead_label(*, pk: int, first_name: str, last_name: str, email: str, company: str) -> str:
    """A lead's name wherever it is shown: the person's, else the email, the company, or its number.

    A function of the columns, so a list of plain values (the reassignment CSV) names leads as str(lead) does.
    """
    return f"{first_name} {last_name}".strip() or email or company or _("Lead #%(id)s") % {"id": pk}


class LeadEvent(models.Model):
    """One line of a lead's timeline: created, routed, reassigned, status change, note."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ROUTED = "routed", _("Routed")
        REASSIGNED = "reassigned", _("Reassigned")
        STATUS = "status", _("Status change")
        NOTE = "note", _("Note")
        MERGED = "merged", _("Duplicate merged")
        ESCALATED = "escalated", _("Escalated to a manager")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", verbose_name=_("lead"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # In the site's language when written, for the admin's search; readers get `routing.timeline.event_text`.
    message = models.TextField(_("message"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=_("by"))
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The admin's lead events list in its default order, and its date filter.
            models.Index(fields=["created_at", "id"], name="leadevent_created"),
        ]
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")

    def __str__(self):
        # The line itself is rendered by routing.timeline.event_text in the reader's language (the admin, the pages):
        # a model of leads never imports routing.
        return f"{self.get_kind_display()} #{self.pk}"


# --- Intake ---------------------------------------------------------------
# Lead fields a form, the API or a CSV file may fill (ownership and lifecycle never come from outside).
INTAKE_FIELDS = [
    "first_name", "last_name", "email", "phone", "company", "website", "job_title", "country", "region",
    "postal_code", "city", "industry", "employee_count", "deal_value", "seats", "product_interest", "use_case",
    "source", "score", "language",
]


def _validate_intake_field_list(value, name):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError({name: _("Enter a list of field names, e.g. [\"email\", \"company\"].")})
    unknown = [item for item in value if item not in INTAKE_FIELDS]
    if unknown:
        raise ValidationError({name: _("Unknown field(s): %(unknown)s. Choose from: %(known)s.")
                               % {"unknown": ", ".join(unknown), "known": ", ".join(INTAKE_FIELDS)}})


class IntakeForm(models.Model):
    """A public lead form at /f/<slug>/, configured by managers."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True, help_text=_("The form is served at /f/<slug>/."))
    is_active = models.BooleanField(_("active"), default=True)
    fields = models.JSONField(
        _("fields"), default=list, help_text=_('Lead fields shown, in order, e.g. ["first_name", "email", "company"].')
    )
    required_fields = models.JSONField(_("required fields"), default=list, blank=True,
                                       help_text=_('Fields the prospect must fill, e.g. ["email"].'))
    labels = models.JSONField(_("labels"), default=dict, blank=True,
                              help_text=_('Custom labels, e.g. {"company": "Your company"}.'))
    help_texts = models.JSONField(_("help texts"), default=dict, blank=True,
                                  help_text=_('Help under a field, e.g. {"phone": "With country code"}.'))
    hidden_values = models.JSONField(
        _("hidden / default values"), default=dict, blank=True,
        help_text=_('Values set on every lead from this form, e.g. {"source": "webinar", '
                    '"product_interest": "Email marketing"}.'),
    )
    # Blank by default: the standard message is then shown in the visitor's language. A default stored as text
    # would be written once, in whatever language was active when the form was created.
    thank_you_message = models.TextField(
        _("thank-you message"), blank=True,
        help_text=_("Empty: \"Thank you! We will be in touch shortly.\" in the visitor's language."),
    )
    redirect_url = models.URLField(_("redirect URL"), blank=True,
                                   help_text=_("If set, the prospect is sent here after submitting instead."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("intake form")
        verbose_name_plural = _("intake forms")

    def __str__(self):
        return self.name

    @property
    def thank_you_text(self) -> str:
        """What the prospect reads after submitting: the manager's message, else the standard one in their language."""
        return self.thank_you_message or gettext("Thank you! We will be in touch shortly.")

    def clean(self):
        _validate_intake_field_list(self.fields, "fields")
        _validate_intake_field_list(self.required_fields, "required_fields")
        if not self.fields:
            raise ValidationError({"fields": _("Show at least one field, e.g. [\"email\"].")})
        missing = [name for name in self.required_fields if name not in self.fields]
        if missing:
            raise ValidationError({"required_fields": _("Required but not shown: %(missing)s. Add them to the fields.")
                                   % {"missing": ", ".join(missing)}})
        for name in ("labels", "help_texts", "hidden_values"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise ValidationError({name: _("Enter an object such as {\"email\": \"...\"}.")})
            _validate_intake_field_list(list(value), name)


class ApiToken(models.Model):
    """A per-source API key; only its SHA-256 is stored, the key itself is shown once when created."""

    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source"), max_length=100, help_text=_("Set as the source of every lead it sends."))
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Off by default: a token that only sends leads must not learn who owns them, nor that a person was already a lead.
    can_read_routing = models.BooleanField(
        _("may read routing results"), default=False,
        help_text=_("Lets this token read the status, owner, rule and reasons of the leads its submissions reached. "
                    "Leave it off for tokens that only send leads."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None


class ApiSubmission(models.Model):
    """One lead sent through the API, known to its token by an opaque reference, never by the lead's id.

    The answer to a submission is the same whether it created a lead or was merged into another source's lead;
    a retry with the same Idempotency-Key and body is answered with the first submission again.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="submissions")
    # Random, so a reference says nothing about other submissions; unique: serves GET /api/v1/submissions/<reference>.
    reference = models.CharField(max_length=40, unique=True, editable=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="api_submissions")
    merged = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Serves the replay lookup "(token, idempotency_key)" and makes a second lead for one key impossible;
            # submissions without a key (NULL) are not compared.
            models.UniqueConstraint(fields=["token", "idempotency_key"],
                                    name="api_submission_one_per_token_idempotency_key"),
        ]
