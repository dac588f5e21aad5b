"""The UI in the users' languages: how the language is chosen, pages, forms, emails, and the catalogues themselves."""

import ast
import datetime as dt
import gettext
import html
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from leads.lifecycle import lead_mark_contacted
from leads.models import Lead, LeadEvent
from reps.models import Rep
from routing.models import RoutingDecision, RoutingRule
from routing.reassignment import sla_reassign_overdue
from routing.selectors import rep_open_leads, with_routing_reasons
from routing.services import route_pending_leads
from routing.timeline import event_text
from tests.factories import (
    ApiTokenFactory, IntakeFormFactory, LeadFactory, PoolFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory,
    TimeOffFactory, rep_named, sales_manager,
)

LOCALE = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ["de", "it", "pt", "pl", "ru"]
PLURAL_FORMS = {"de": 2, "it": 2, "pt": 2, "pl": 4, "ru": 4}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[srd]|%[sd]|\{\}|</?[a-z]+>")
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday


def visible_text(response) -> str:
    """What a person reads: the page without tags, scripts or styles, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", " ".join(text_pieces(response)))


def text_pieces(response) -> list:
    """Each piece of text between tags, and the labels of buttons and landmarks, as a screen reader meets them."""
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.content.decode())
    labels = re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page)
    pieces = [html.unescape(piece).strip() for piece in re.split(r"(?s)<[^>]+>", page)]
    return [piece for piece in pieces + [html.unescape(label) for label in labels] if piece]


def route(django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=50, worker="test")


@pytest.fixture
def intake(db):
    return IntakeFormFactory(slug="webinar", fields=["first_name", "email", "company"], required_fields=["email"])


# --- The public intake form ---------------------------------------------------------------------

def test_intake_form_follows_the_browsers_german(client, intake):
    response = client.get("/f/webinar/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})

    text = visible_text(response)
    assert "Vorname" in text and "E-Mail *" in text and "Unternehmen" in text
    assert '<button type="submit">Senden</button>' in response.content.decode()
    assert '<html lang="de">' in response.content.decode() and response["Content-Language"] == "de"


def test_intake_form_errors_are_in_german(client, intake):
    missing = client.post("/f/webinar/", {"first_name": "Anna"}, headers={"Accept-Language": "de"})
    wrong = client.post("/f/webinar/", {"email": "anna-at-acme"}, headers={"Accept-Language": "de"})

    assert missing.status_code == 400 and "Dieses Feld ist zwingend erforderlich." in visible_text(missing)
    assert wrong.status_code == 400
    assert "Geben Sie eine gültige E-Mail-Adresse ein, z. B. anna@acme.com." in visible_text(wrong)
    assert not Lead.objects.exists()


def test_lang_parameter_wins_over_the_browser_for_an_embedded_form(client, intake):
    page = client.get("/f/webinar/?lang=pl", headers={"Accept-Language": "de"})
    refused = client.post("/f/webinar/?lang=pl", {"email": "anna-at-acme"}, headers={"Accept-Language": "de"})

    assert "Imię" in visible_text(page) and "E-mail *" in visible_text(page) and "Firma" in visible_text(page)
    assert '<button type="submit">Wyślij</button>' in page.content.decode()
    assert page["Content-Language"] == "pl" and '<html lang="pl">' in page.content.decode()
    assert "Podaj poprawny adres e-mail, np. anna@acme.com." in visible_text(refused)


def test_the_thank_you_page_keeps_the_forms_language(client, intake):
    response = client.post("/f/webinar/?lang=pl", {"email": "anna@acme.com"})

    assert response.status_code == 302 and response["Location"] == "/f/webinar/thanks/?lang=pl"
    assert client.get(response["Location"])["Content-Language"] == "pl"


def test_the_standard_thank_you_is_in_each_visitors_language_whatever_was_active_when_the_form_was_made(client, db):
    with translation.override("de"):
        IntakeFormFactory(slug="fair", fields=["email"])

    german = client.get("/f/fair/thanks/?lang=de")
    english = client.get("/f/fair/thanks/", headers={"Accept-Language": "en"})

    assert "Vielen Dank" in visible_text(german)
    assert "Thank you! We will be in touch shortly." in visible_text(english)


def test_a_brazilian_browser_gets_the_portuguese_form(client, intake):
    response = client.get("/f/webinar/", headers={"Accept-Language": "pt-BR,pt;q=0.8"})

    assert response["Content-Language"] == "pt" and "Enviar" in visible_text(response)


def test_an_unknown_lang_parameter_falls_back_to_the_browser(client, intake):
    response = client.get("/f/webinar/?lang=xx", headers={"Accept-Language": "it"})

    assert response.status_code == 200 and response["Content-Language"] == "it"
    assert "Invia" in visible_text(response)


def test_a_submission_reads_in_each_readers_language_on_the_timeline(client, intake):
    client.post("/f/webinar/?lang=de", {"email": "anna@acme.com"})
    manager = sales_manager(sees_every_team=True)
    client.force_login(manager)

    lead = Lead.objects.get()
    page = client.get(reverse("routing:lead_detail", args=[lead.pk]), headers={"Accept-Language": "en"})
    italian = client.get(reverse("routing:lead_detail", args=[lead.pk]), headers={"Accept-Language": "it"})

    assert "Created from form webinar." in visible_text(page)
    assert "Creato dal modulo webinar." in visible_text(italian) and "Created from" not in visible_text(italian)


# --- The rep's pages ----------------------------------------------------------------------------

@pytest.fixture
def anna_with_a_lead(db, django_capture_on_commit_callbacks):
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team, sla_minutes=30)
    LeadFactory(first_name="Jana", last_name="Novak", company="Acme GmbH")
    route(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return anna


def test_rep_queue_in_russian(client, anna_with_a_lead):
    client.force_login(anna_with_a_lead.user)

    response = client.get(reverse("routing:queue"), headers={"Accept-Language": "ru"})

    text = visible_text(response)
    assert "Моя очередь" in text and "Мои лиды" in text and "Jana Novak" in text
    assert "Назначен" in text and "Почему вы:" in text and "Первый контакт до" in text
    assert "Принять" in text and "Отметить контакт" in text and "Добавить заметку" in text
    assert "Пул (0 ждут)" in text and "Отметить отсутствие" in text


@pytest.mark.parametrize(
    ("language", "waiting", "tab"),
    [("ru", 21, "Пул (21 ждёт)"), ("ru", 3, "Пул (3 ждут)"), ("pl", 22, "Pula (22 czekają)"),
     ("pl", 25, "Pula (25 czeka)"), ("de", 1, "Pool (1 wartet)")],
)
def test_the_pool_tab_counts_in_the_languages_plural(client, db, language, waiting, tab):
    rep = rep_named("Olga")
    pool = PoolFactory(name="EMEA")
    pool.reps.add(rep)
    LeadFactory.create_batch(waiting, pool=pool, routing_requested_at=None)
    client.force_login(rep.user)

    response = client.get(reverse("routing:pool"), headers={"Accept-Language": language})

    assert tab in visible_text(response)


def english_msgids() -> set:
    """The catalogue's English texts that German says differently (placeholders left out, and words such as
    "Team" or "Pool" that German writes the same)."""
    return {entry["msgid"] for entry in po_entries("de")
            if entry["msgid_plural"] is None and entry["msgid"] != entry["msgstr"]
            and not PLACEHOLDER.search(entry["msgid"])}


def test_nothing_is_left_in_english_on_the_reps_pages_and_the_form_in_german(client, anna_with_a_lead, intake):
    """Every label, button, heading and message; the lead's stored history is in the site's language by design."""
    client.force_login(anna_with_a_lead.user)
    client.post(reverse("set_language"), {"language": "de", "next": "/queue/"})
    lead = Lead.objects.get(owner=anna_with_a_lead)
    pages = [reverse("routing:queue"), reverse("routing:pool"), reverse("routing:lead_detail", args=[lead.pk]),
             "/f/webinar/", "/f/webinar/thanks/"]
    english = english_msgids()

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        assert [piece for piece in text_pieces(response) if {piece, piece.rstrip(" *:")} & english] == [], url
    assert "Meine Warteschlange" in visible_text(client.get(reverse("routing:queue")))


# --- Why a lead is where it is: explanations, timeline, "Why you" --------------------------------

@pytest.fixture
def routed_then_moved_on(db, django_capture_on_commit_callbacks):
    """A lead routed by a rule with conditions (one rep on leave, one chosen), moved on after its SLA, contacted."""
    team = TeamFactory(name="Sales")
    rep_named("Anna", teams=[team])
    ben = rep_named("Ben", teams=[team])
    carla = rep_named("Carla", teams=[team])
    TimeOffFactory(rep=ben, start=START - dt.timedelta(days=1), end=START + dt.timedelta(days=2), reason="")
    rule = RoutingRuleFactory(name="DACH", target_team=team, sla_minutes=30)
    RuleConditionFactory(rule=rule, field="country", operator="in", value="DE, AT, CH")
    RuleConditionFactory(rule=rule, field="employee_count", operator="gte", value="50")
    lead = LeadFactory(first_name="Jana", last_name="Novak", country="DE", employee_count=120)
    route(django_capture_on_commit_callbacks)
    with time_machine.travel(START + dt.timedelta(minutes=31), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        sla_reassign_overdue(now=START + dt.timedelta(minutes=31))
    lead_mark_contacted(lead_id=lead.pk, actor=carla.user)
    lead.refresh_from_db()
    assert lead.owner == carla and lead.decisions.count() == 2
    return lead


def english_sentences(lead) -> set:
    """Every line of the lead's explanations and timeline, as an English reader gets them."""
    with translation.override("en"):
        lines = {line.strip() for decision in RoutingDecision.objects.filter(lead=lead)
                 for line in decision.explained.splitlines()}
        lines |= {event_text(event) for event in LeadEvent.objects.filter(lead=lead)}
        lines |= {queued.routing_reason for queued in with_routing_reasons(rep_open_leads(lead.owner))}
    return {line for line in lines if line}


def test_explanations_timeline_and_why_you_are_rendered_in_the_readers_german(client, routed_then_moved_on):
    lead = routed_then_moved_on
    english = english_sentences(lead)
    assert {"Ben: on leave until 2026-03-04 10:00 UTC.", "Carla: chosen (no lead from this rule yet).",
            "SLA breach: not contacted within 30 minutes", "Assigned → Contacted"} <= english
    manager = sales_manager(is_staff=True, sees_every_team=True)
    decision = lead.decisions.order_by("created_at", "pk").first()
    pages = [
        (manager, reverse("routing:lead_detail", args=[lead.pk])),
        (manager, reverse("admin:routing_routingdecision_change", args=[decision.pk])),
        (manager, reverse("admin:leads_lead_change", args=[lead.pk])),
        (lead.owner.user, reverse("routing:queue")),
    ]

    for user, url in pages:
        client.force_login(user)
        in_english = visible_text(client.get(url, headers={"Accept-Language": "en"}))
        in_german = client.get(url, headers={"Accept-Language": "de"})
        assert in_german.status_code == 200 and in_german["Content-Language"] == "de"
        shown = [sentence for sentence in english if sentence in in_english]
        assert shown, url  # the English page shows them: the German one is compared on something
        assert [sentence for sentence in shown if sentence in visible_text(in_german)] == [], url
    lead_page = visible_text(client.get(reverse("routing:lead_detail", args=[lead.pk]), headers={"Accept-Language": "de"}))
    assert "Ben: im Urlaub bis" in lead_page and "Regel 1 „DACH“ hat gepasst" in lead_page


def test_the_admin_headings_of_the_audit_tables_are_in_german(client, routed_then_moved_on):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))

    decisions = visible_text(client.get(reverse("admin:routing_routingdecision_changelist"), headers={"Accept-Language": "de"}))
    assignments = visible_text(client.get(reverse("admin:routing_assignment_changelist"), headers={"Accept-Language": "de"}))
    rotation = visible_text(client.get(reverse("admin:routing_rotationstate_changelist"), headers={"Accept-Language": "de"}))

    assert "Ergebnis" in decisions and "Gewählter Vertriebsmitarbeiter" in decisions and "Dauer (ms)" in decisions
    assert "Art" in assignments and "Aktuell" in assignments and "Beendet am" in assignments
    assert "Zuletzt zugewiesen am" in rotation and "Zugewiesene Leads" in rotation


# --- Choosing the language ----------------------------------------------------------------------

def test_the_language_switcher_remembers_the_choice(client, anna_with_a_lead):
    client.force_login(anna_with_a_lead.user)
    queue = client.get(reverse("routing:queue"))
    assert "My queue" in visible_text(queue) and 'action="/i18n/setlang/"' in queue.content.decode()

    response = client.post(reverse("set_language"), {"language": "it", "next": "/queue/"})

    assert response.status_code == 302 and response["Location"] == "/queue/"
    assert response.cookies["django_language"]["max-age"] == 365 * 24 * 60 * 60
    again = client.get(reverse("routing:queue"), headers={"Accept-Language": "de"})  # the choice beats the browser
    assert "La mia coda" in visible_text(again)
    assert '<option value="it" lang="it" selected>Italiano</option>' in again.content.decode()


def test_the_login_page_offers_the_switcher_too(client):
    client.post(reverse("set_language"), {"language": "pt", "next": reverse("routing:login")})

    response = client.get(reverse("routing:login"))

    assert "Iniciar sessão" in visible_text(response) and "Palavra-passe" in visible_text(response)


def test_a_language_outside_the_list_is_refused_and_nothing_changes(client, anna_with_a_lead):
    client.force_login(anna_with_a_lead.user)

    client.post(reverse("set_language"), {"language": "fr", "next": "/queue/"})

    assert "My queue" in visible_text(client.get(reverse("routing:queue")))


# --- The API --------------------------------------------------------------------------------------

def test_api_errors_keep_field_names_and_speak_the_requests_language(client, db):
    token = ApiTokenFactory(source="chat")
    headers = {"Authorization": f"Bearer {token.secret}"}

    german = client.post("/api/v1/leads", json.dumps({"email": "nope", "score": "high"}),
                         content_type="application/json", headers={**headers, "Accept-Language": "de"})
    english = client.post("/api/v1/leads", json.dumps({"email": "nope"}), content_type="application/json",
                          headers=headers)

    assert german.status_code == 400
    assert german.json() == {"errors": {"score": ["Muss eine ganze Zahl oder null sein."]}}
    assert english.status_code == 422
    assert english.json() == {"errors": {"email": ["Enter a valid email address, e.g. anna@acme.com."]}}


# --- Emails ---------------------------------------------------------------------------------------

def test_assignment_email_to_an_italian_rep_is_in_italian(db, django_capture_on_commit_callbacks):
    team = TeamFactory(name="Vendite")
    rep_named("Giulia", teams=[team], language="it")
    RoutingRuleFactory(name="Tutti", target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN, sla_minutes=30)
    LeadFactory(first_name="Jana", last_name="Novak", company="Acme GmbH", country="DE")

    route(django_capture_on_commit_callbacks)

    [email] = mail.outbox
    assert email.subject == "Nuovo lead per te: Jana Novak"
    assert email.body.startswith("Ciao Giulia,")
    assert "Ti è stato assegnato un nuovo lead (Regola 'Tutti')." in email.body
    assert "Contattalo entro 10:30 (UTC), Lun 2 Mar; dopo passerà a un altro commerciale." in email.body
    assert "Paese:  Germania" in email.body and "Aprilo:" in email.body
    html_body, _mimetype = email.alternatives[0]
    assert "<strong>Contattalo entro 10:30 (UTC), Lun 2 Mar</strong>" in html_body and "Apri il lead" in html_body


def test_a_rep_without_a_language_gets_the_sites_language(db, settings, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "de"
    team = TeamFactory(name="Vertrieb")
    rep_named("Jonas", teams=[team])
    RoutingRuleFactory(name="Alle", target_team=team, sla_minutes=30)
    LeadFactory(first_name="Jana", last_name="Novak")

    route(django_capture_on_commit_callbacks)

    [email] = mail.outbox
    assert email.subject == "Neuer Lead für Sie: Jana Novak" and "Hallo Jonas," in email.body


def test_the_rep_admin_saves_a_language_and_refuses_an_unknown_one(client, db):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    rep = rep_named("Piotr")
    url = reverse("admin:reps_rep_change", args=[rep.pk])
    form = {"user": rep.user.pk, "is_active": "on", "seniority": "mid", "weight": "1", "status": "available",
            "time_zone": "Europe/Warsaw", "skill_levels-TOTAL_FORMS": "0", "skill_levels-INITIAL_FORMS": "0",
            "time_off-TOTAL_FORMS": "0", "time_off-INITIAL_FORMS": "0",
            "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0"}

    refused = client.post(url, {**form, "language": "fr"})
    saved = client.post(url, {**form, "language": "pl"})

    assert refused.status_code == 200 and "language" in refused.context["adminform"].form.errors
    assert saved.status_code == 302 and Rep.objects.get(pk=rep.pk).language == "pl"


# --- The catalogues -------------------------------------------------------------------------------

def po_entries(language: str) -> list:
    """The entries of locale/<language>/LC_MESSAGES/django.po (header left out), read as plain text."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry = {"flags": [], "msgid": None, "msgid_plural": None, "msgstr": None, "forms": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif match := re.match(r'^(msgid_plural|msgid|msgstr)(?:\[(\d)\])? (".*")$', line):
                key = int(match[2]) if match[2] else match[1]
                value = ast.literal_eval(match[3])
                entry["forms" if isinstance(key, int) else key] = (
                    {**entry["forms"], key: value} if isinstance(key, int) else value)
            elif line.startswith('"'):
                if isinstance(key, int):
                    entry["forms"][key] += ast.literal_eval(line)
                else:
                    entry[key] += ast.literal_eval(line)
        entries.append(entry)
    assert entries[0]["msgid"] == "", "the first entry is the header"
    return entries


def po_header(language: str) -> dict:
    header = po_entries(language)[0]
    assert "fuzzy" not in header["flags"]
    return dict(line.split(": ", 1) for line in header["msgstr"].splitlines() if ": " in line)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    entries = po_entries(language)[1:]
    untranslated = [e["msgid"] for e in entries if (e["msgstr"] == "" if e["msgid_plural"] is None
                                                      else not all(e["forms"].values()))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]

    assert len(entries) > 500
    assert untranslated == [] and fuzzy == []
    assert po_header(language)["Language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_markup_and_all_plural_forms(language):
    plural_form = gettext.c2py(po_header(language)["Plural-Forms"].split("plural=", 1)[1].rstrip(";"))
    # Only a form used for the number 1 alone may leave the number out ("this lead"); Russian's first form is 21 too.
    forms_only_for_one = {form for form in range(PLURAL_FORMS[language])
                          if [n for n in range(1000) if plural_form(n) == form] == [1]}
    for entry in po_entries(language)[1:]:
        if entry["msgid_plural"] is None:
            assert sorted(PLACEHOLDER.findall(entry["msgstr"])) == sorted(PLACEHOLDER.findall(entry["msgid"])), entry
            continue
        assert len(entry["forms"]) == PLURAL_FORMS[language], entry["msgid"]
        for index, form in entry["forms"].items():
            allowed = [PLACEHOLDER.findall(entry["msgid_plural"])]
            if index in forms_only_for_one:
                allowed.append(PLACEHOLDER.findall(entry["msgid"]))
            assert sorted(PLACEHOLDER.findall(form)) in [sorted(tokens) for tokens in allowed], (index, entry)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_is_in_sync_with_its_po(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)

    for entry in po_entries(language)[1:]:
        if entry["msgid_plural"] is None:
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]
        else:
            assert catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["forms"][0]
            assert catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 5) in entry["forms"].values()
