"""Sends random and malformed payloads to the intake API and the public form; there must be no 500 and no half-saved lead.

    .venv/bin/python bench/fuzz_intake.py [--requests 10000] [--seed 5]

Runs Django's test Client in process against a throwaway database (lr_fuzz, recreated each run) and
Redis db 8. Prints the number of requests, a status-code histogram, server errors and partially
saved leads (a lead without its "created" audit row, without email and phone, or whose stored values
are not already normalised). Exits 1 if either of the last two is not 0.
"""

import argparse
import collections
import json
import os
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Pinned before Django starts: this script drops and recreates its database.
os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lr_fuzz"
os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/8"
os.environ["DJANGO_SETTINGS_MODULE"] = "leadrouting.settings"
os.environ["DEBUG"] = "false"
os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test Client speaks plain http
os.environ.setdefault("SECRET_KEY", "fuzz-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["INTAKE_API_AUTH_FAILURE_RATE"] = "1000000/m"  # wrong tokens are part of the fuzz
os.environ["INTAKE_API_RATE"] = "1000000/m"  # one token sends everything; the form's per-IP limit stays as configured
os.environ.setdefault("ROUTING_LOG_LEVEL", "CRITICAL")

FIELDS = ["first_name", "last_name", "email", "phone", "company", "website", "job_title", "country", "region",
          "postal_code", "city", "industry", "employee_count", "deal_value", "seats", "product_interest", "use_case",
          "score", "language"]
NASTY_STRINGS = [
    "", " ", "\x00", "a\x00b", "\u202e", "😀" * 50, "Ω≈ç√", "' OR 1=1 --", "<script>alert(1)</script>", "%s%s%n",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "\r\n\t", "../../etc/passwd", "NaN",
    "Infinity", "-1", "1e999", "99999999999999999999999", "0x10", "DE", "Deutschland", "Narnia", "+49 30 1234567",
    "gmail.com", "https://www.acme.de/x", "ООО Ромашка", "x" * 300, "x" * 5000, "@", "a@", "@b.c", "a@b", "a@b.c",
]


def random_text(rng):
    kind = rng.random()
    if kind < 0.4:
        return rng.choice(NASTY_STRINGS)
    if kind < 0.7:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40)))
    # Any code point but lone surrogates, which no UTF-8 request can carry (raw bytes are sent separately).
    return "".join(chr(rng.choice([rng.randint(1, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
                   for _ in range(rng.randint(0, 20)))


def random_value(rng, depth=0):
    kind = rng.randint(0, 9)
    if kind <= 4:
        return random_text(rng)
    if kind == 5:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**70), 10**30])
    if kind == 6:
        return rng.choice([0.5, -0.0, 1e308, 3.14, 1e-9])
    if kind == 7:
        return rng.choice([True, False, None])
    if depth < 3 and kind == 8:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))} if depth < 3 else None


def valid_lead(rng, n):
    lead = {"email": f"person{rng.randint(0, 3000)}@company{rng.randint(0, 50)}.example", "first_name": "Anna",
            "company": rng.choice(["Acme GmbH", "Globex", "Initech LLC", ""]),
            "country": rng.choice(["DE", "Germany", "Deutschland", "it", "Polska", ""])}
    if rng.random() < 0.5:
        lead["phone"] = rng.choice(["030 1234567", "+39 06 1234567", "+48 22 123 45 67", f"+4930{n:07d}"])
        lead["country"] = lead["country"] or "DE"
    if rng.random() < 0.3:
        lead["employee_count"] = rng.randint(1, 10000)
    return lead


def api_request(rng, client, token, n, idempotency_bodies):
    """One random request to the API; returns the response."""
    auth = {"Authorization": f"Bearer {token}"}
    roll = rng.random()
    if roll < 0.05:
        return client.get(f"/api/v1/leads/{rng.choice([1, 2, -1, 0, 10**25, rng.randint(1, 5000)])}", headers=auth)
    if roll < 0.08:
        bad_auth = rng.choice(["", "Bearer", "Bearer lr_x", "Basic abc", f"bearer {token}x", "Bearer " + "x" * 500])
        return client.post("/api/v1/leads", "{}", content_type="application/json", headers={"Authorization": bad_auth})
    if roll < 0.30:
        body = valid_lead(rng, n)
    elif roll < 0.55:
        body = {rng.choice(FIELDS): random_value(rng) for _ in range(rng.randint(0, 6))}
        if rng.random() < 0.5:
            body["email"] = f"fuzz{n}@example.org"
    elif roll < 0.65:
        body = {random_text(rng): random_value(rng) for _ in range(rng.randint(0, 4))}
    else:
        body = None
    headers = dict(auth)
    if rng.random() < 0.15:
        key = rng.choice(["k1", "k2", "k3", f"k{n}", "", " ", "ä", "x" * 300, "\t"])
        headers["Idempotency-Key"] = key
        if body is not None and key in idempotency_bodies and rng.random() < 0.5:
            body = idempotency_bodies[key]  # a true retry
        elif body is not None:
            idempotency_bodies.setdefault(key, body)
    if body is not None:
        data = json.dumps(body)
        content_type = "application/json" if rng.random() < 0.95 else rng.choice(
            ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"])
    else:
        data = rng.choice([
            b"", b"{", b"null", b"[]", b'"text"', b"\xff\xfe\x00", b'{"email": NaN}', b"[" * 70000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000, bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200))),
            json.dumps({"email": "big@example.org", "company": "x" * 70000}).encode(),
        ])
        content_type = "application/json"
    method = client.post if rng.random() < 0.97 else rng.choice([client.put, client.patch, client.delete])
    return method("/api/v1/leads", data, content_type=content_type, headers=headers)


def form_request(rng, client, n):
    address = f"10.{rng.randint(0, 7)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
    slug = "fuzz" if rng.random() < 0.95 else rng.choice(["nope", "fuzz-off", "x" * 80])
    if rng.random() < 0.1:
        return client.get(f"/f/{slug}/", REMOTE_ADDR=address)
    if rng.random() < 0.05:  # raw bodies: broken escapes, invalid UTF-8, a multipart body without its boundary
        body, content_type = rng.choice([
            (b"email=%ff%fe&first_name=%C3%28", "application/x-www-form-urlencoded"),
            (b"email=a%40b.org&&&=&%%%", "application/x-www-form-urlencoded"),
            (bytes(rng.randint(0, 255) for _ in range(200)), "application/x-www-form-urlencoded"),
            (b"--x\r\nContent-Disposition: form-data; name=email\r\n\r\na@b.org", "multipart/form-data"),
            (b"email=" + b"a" * 3_000_000, "application/x-www-form-urlencoded"),
        ])
        return client.post(f"/f/{slug}/", body, content_type=content_type, REMOTE_ADDR=address)
    if rng.random() < 0.3:
        data = {key: str(value) for key, value in valid_lead(rng, n).items()}
    else:
        data = {rng.choice(FIELDS + ["nickname", "source", "csrfmiddlewaretoken"]): random_text(rng).replace("\x00", "")
                for _ in range(rng.randint(0, 8))}
    if rng.random() < 0.05:
        data["nickname"] = "i am a bot"
    if rng.random() < 0.05:
        data["email"] = [f"a{n}@b.org", "second@b.org"]
    return client.post(f"/f/{slug}/", data, REMOTE_ADDR=address)


def partially_saved_leads():
    """Leads that break what intake promises: an audit row, a contact, already normalised values."""
    from django.core.exceptions import ValidationError

    from leads.models import Lead, LeadEvent
    from leads.normalise import lead_data_normalise

    broken = []
    for lead in Lead.objects.all().iterator():
        if not LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CREATED).exists():
            broken.append((lead.pk, "no created event"))
            continue
        if not lead.email and not lead.phone:
            broken.append((lead.pk, "no email and no phone"))
            continue
        stored = {name: getattr(lead, name) for name in FIELDS}
        stored["country"] = lead.country.code if lead.country else ""
        try:
            again = lead_data_normalise({k: ("" if v is None else str(v)) for k, v in stored.items()})
            lead.full_clean()
        except ValidationError as error:
            broken.append((lead.pk, f"stored values invalid: {error.message_dict}"))
            continue
        differing = [k for k in FIELDS if (again.get(k) if again.get(k) not in ("", None) else None)
                     != (stored[k] if stored[k] not in ("", None) else None)]
        if differing:
            broken.append((lead.pk, f"not normalised: {differing}"))
    return broken


def recreate_database():
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS lr_fuzz WITH (FORCE)")
        connection.execute("CREATE DATABASE lr_fuzz")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    recreate_database()

    import django

    django.setup()
    import django_rq
    from django.core.management import call_command
    from django.test import Client

    from leads.models import Lead, LeadEvent
    from leads.services import api_token_create
    from tests.factories import AccountDomainFactory, AccountFactory, IntakeFormFactory

    call_command("migrate", verbosity=0)
    django_rq.get_connection("routing").flushdb()
    _token, secret = api_token_create(name="Fuzz", source="fuzz")
    acme = AccountFactory(name="Acme GmbH")
    AccountDomainFactory(account=acme, domain="company1.example")
    IntakeFormFactory(slug="fuzz", fields=FIELDS, required_fields=["email"], hidden_values={"source": "fuzz form"})
    IntakeFormFactory(slug="fuzz-off", is_active=False)

    rng = random.Random(args.seed)
    client = Client(raise_request_exception=False)
    histogram, server_errors, api_created, idempotency_bodies = collections.Counter(), [], 0, {}
    started = time.perf_counter()
    for n in range(args.requests):
        channel = "api" if n % 2 == 0 else "form"
        try:
            response = (api_request(rng, client, secret, n, idempotency_bodies) if channel == "api"
                        else form_request(rng, client, n))
            status = response.status_code
            if channel == "api" and status == 201 and not response.has_header("Idempotent-Replayed"):
                api_created += 1
        except Exception as error:  # noqa: BLE001 — the client re-raising is a server error too
            status, response = 500, error
        histogram[f"{channel} {status}"] += 1
        if status >= 500:
            server_errors.append((channel, n, getattr(response, "content", repr(response))[:300]))
    elapsed = time.perf_counter() - started

    broken = partially_saved_leads()
    api_created_events = LeadEvent.objects.filter(kind=LeadEvent.Kind.CREATED, data__channel="api").count()
    print(f"requests: {args.requests} in {elapsed:.1f} s (seed {args.seed})")
    print("status codes:")
    for key, count in sorted(histogram.items()):
        print(f"  {key}: {count}")
    print(f"leads saved: {Lead.objects.count()} (API 201 answers: {api_created}, API leads created: {api_created_events})")
    print(f"server errors: {len(server_errors)}")
    for error in server_errors[:10]:
        print("  ", error)
    if api_created != api_created_events:
        broken.append((None, f"{api_created} API 201 answers but {api_created_events} API leads"))
    print(f"partially saved leads: {len(broken)}")
    for item in broken[:10]:
        print("  ", item)
    django_rq.get_connection("routing").flushdb()
    return 1 if server_errors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
