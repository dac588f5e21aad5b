"""People and organisation: teams, reps, skills, territories, calendars, time off."""

import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from reps.territories import parse_postal_codes


def validate_time_zone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone; use an IANA name such as Europe/Berlin."),
            params={"value": value},
        ) from None


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True, on_delete=models.PROTECT, related_name="sub_teams"
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("managers"), blank=True, related_name="managed_teams"
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        # Without it a sales manager sees only the teams they manage (reps.scoping.manager_scope).
        permissions = [("view_all_teams", _("Can see every team's leads and reps"))]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name

    def ancestors(self):
        """Parents from the nearest up; stops on a cycle instead of looping."""
        seen, team = set(), self.parent
        while team is not None and team.pk not in seen:
            seen.add(team.pk)
            yield team
            team = team.parent

    def clean(self):
        if self.pk and self.parent_id:
            if self.parent_id == self.pk or any(t.pk == self.pk for t in self.ancestors()):
                raise ValidationError(
                    {"parent": _("A team cannot be inside itself: %(parent)s is already below %(team)s.")
                     % {"parent": self.parent, "team": self}}
                )


class Skill(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        INDUSTRY = "industry", _("Industry")
        LANGUAGE = "language", _("Language")
        USE_CASE = "use_case", _("Use case")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PRODUCT)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="skill_unique_kind_name")]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"


class AvailabilityCalendar(models.Model):
    """Weekly working hours in one time zone, shared by many reps."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ["name"]
        verbose_name = _("availability calendar")
        verbose_name_plural = _("availability calendars")

    def __str__(self):
        return f"{self.name} ({self.time_zone})"


SECONDS_PER_DAY = 24 * 60 * 60
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY


def _seconds_of_day(time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


class WorkingHours(models.Model):
    """One working interval on a weekday; an end at or before the start runs past midnight."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(
        AvailabilityCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("An end at or before the start means the shift ends the next day."))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def is_overnight(self):
        return self.end <= self.start

    def clean(self):
        if self.start is not None and self.start == self.end:
            raise ValidationError(
                {"end": _("A shift needs a length: the end equals the start. For a night shift, end it the next morning.")}
            )

    def seconds_of_week(self) -> tuple:
        """(start, end) in seconds from Monday 00:00; an overnight shift ends on the next day."""
        day_start = self.weekday * SECONDS_PER_DAY
        start = day_start + _seconds_of_day(self.start)
        end = day_start + _seconds_of_day(self.end) + (SECONDS_PER_DAY if self.is_overnight else 0)
        return start, end

    def overlaps(self, other) -> bool:
        """True when the two shifts share any time; a Sunday night shift runs into Monday."""
        start, end = self.seconds_of_week()
        other_start, other_end = other.seconds_of_week()
        return any(
            start < other_end + week_shift and other_start + week_shift < end
            for week_shift in (-SECONDS_PER_WEEK, 0, SECONDS_PER_WEEK)
        )


def first_overlapping_shifts(shifts) -> tuple | None:
    """The first pair of working hours that share time, or None when they all fit together."""
    shifts = list(shifts)
    for index, shift in enumerate(shifts):
        for other in shifts[index + 1:]:
            if shift.overlaps(other):
                return shift, other
    return None


class Holiday(models.Model):
    calendar = models.ForeignKey(
        AvailabilityCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_calendar_date")]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self):
        return f"{self.date} {self.name}".strip()


# The columns rep_name reads, from the rep: what a list that names reps must read of them.
REP_NAME_COLUMNS = ("user__first_name", "user__last_name", "user__username")


def rep_name(*, first_name: str, last_name: str, username: str) -> str:
    """A rep's name wherever it is shown: the user's full name, else the username (User.get_full_name, get_username).

    A function of the columns, so a list of plain values (the reassignment CSV) names reps as Rep.name does.
    """
    return f"{first_name} {last_name}".strip() or username


class Rep(models.Model):
    class Seniority(models.TextChoices):
        JUNIOR = "junior", _("Junior")
        MID = "mid", _("Mid")
        SENIOR = "senior", _("Senior")
        ACCOUNT_MANAGER = "account_manager", _("Account manager")

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        AWAY = "away", _("Away")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="rep"
    )
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True, related_name="members")
    seniority = models.CharField(_("seniority"), max_length=20, choices=Seniority.choices, default=Seniority.MID)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Share in weighted distribution: 2 gets twice as many leads as 1, 0.5 half as many."),
    )
    max_open_leads = models.IntegerField(
        _("max open leads"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    max_new_leads_per_day = models.IntegerField(
        _("max new leads per day"), null=True, blank=True, help_text=_("Counted in the rep's time zone. Empty: no limit.")
    )
    max_new_leads_per_hour = models.IntegerField(
        _("max new leads per hour"), null=True, blank=True,
        help_text=_("In any 60 minutes, so a burst is spread out. Empty: no limit."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AVAILABLE)
    away_until = models.DateTimeField(
        _("away until"), null=True, blank=True, help_text=_("When set, the rep is back automatically at this time.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("The language of the emails the rep gets. Empty: the site's language."),
    )
    calendar = models.ForeignKey(
        AvailabilityCalendar,
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reps",
        help_text=_("Working hours; a rep without a calendar is available at any hour."),
    )
    skills = models.ManyToManyField(
        Skill, verbose_name=_("skills"), through="RepSkill", blank=True, related_name="reps"
    )

    class Meta:
        ordering = ["user__first_name", "user__last_name", "user__username"]
        verbose_name = _("rep")
        verbose_name_plural = _("reps")

    def __str__(self):
        return self.name

    @property
    def name(self):
        return rep_name(first_name=self.user.first_name, last_name=self.user.last_name, username=self.user.username)

    def clean(self):
        errors = {}
        if self.max_open_leads is not None and self.max_open_leads < 0:
            errors["max_open_leads"] = _("The open-lead limit cannot be negative; leave it empty for no limit.")
        if self.max_new_leads_per_day is not None and self.max_new_leads_per_day < 0:
            errors["max_new_leads_per_day"] = _("The daily limit cannot be negative; leave it empty for no limit.")
        if self.max_new_leads_per_hour is not None and self.max_new_leads_per_hour < 0:
            errors["max_new_leads_per_hour"] = _("The hourly limit cannot be negative; leave it empty for no limit.")
        if errors:
            raise ValidationError(errors)


class RepStatusChange(models.Model):
    """Who set a rep away or available, when, and until when: the audit of availability switches."""

    rep = models.ForeignKey(Rep, verbose_name=_("rep"), on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(_("status"), max_length=20, choices=Rep.Status.choices)
    away_until = models.DateTimeField(_("away until"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The rep's history, newest first (the rep admin's inline).
        indexes = [models.Index(fields=["rep", "-created_at"], name="repstatus_rep_created")]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self):
        return f"{self.rep}: {self.get_status_display()}"


class RepSkill(models.Model):
    rep = models.ForeignKey(Rep, verbose_name=_("rep"), on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.CASCADE, related_name="rep_levels")
    level = models.PositiveSmallIntegerField(
        _("level"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)], help_text=_("1 (basic) to 5 (expert).")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rep", "skill"], name="repskill_unique_rep_skill"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="repskill_level_1_to_5"),
        ]
        verbose_name = _("rep skill")
        verbose_name_plural = _("rep skills")

    def __str__(self):
        return f"{self.skill.name} {self.level}/5"


class TimeOff(models.Model):
    rep = models.ForeignKey(Rep, verbose_name=_("rep"), on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["rep", "end"], name="timeoff_rep_end")]  # "is rep X off now?"
        verbose_name = _("time off")
        verbose_name_plural = _("time off")

    def __str__(self):
        return f"{self.rep}: {self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The end of the time off must be after its start.")})


class Territory(models.Model):
    """A region of the market; a lead belongs to the most specific territory that matches it."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent territory"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    countries = CountryField(_("countries"), multiple=True, blank=True)
    regions = models.CharField(
        _("regions / states"), max_length=500, blank=True, help_text=_("Comma-separated region or state codes, e.g. CA, NY, BY.")
    )
    postal_codes = models.TextField(
        _("postal codes"),
        blank=True,
        help_text=_("Comma or line separated prefixes (80, 81) or ranges (80000-89999)."),
    )
    reps = models.ManyToManyField(Rep, verbose_name=_("covering reps"), blank=True, related_name="territories")
    teams = models.ManyToManyField(Team, verbose_name=_("covering teams"), blank=True, related_name="territories")

    class Meta:
        ordering = ["name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self):
        return self.name

    def ancestors(self):
        seen, territory = set(), self.parent
        while territory is not None and territory.pk not in seen:
            seen.add(territory.pk)
            yield territory
            territory = territory.parent

    def clean(self):
        if self.pk and self.parent_id:
            if self.parent_id == self.pk or any(t.pk == self.pk for t in self.ancestors()):
                raise ValidationError({"parent": _("A territory cannot be inside itself.")})
        try:
            parse_postal_codes(self.postal_codes)
        except ValueError as error:
            raise ValidationError({"postal_codes": str(error)}) from None
