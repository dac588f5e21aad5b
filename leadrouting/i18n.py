"""Which language a text is written in: a page in its reader's, an email in its recipient's, history in the site's."""

from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


@contextmanager
def site_language():
    """Text stored in a lead's history is written once, whoever's request writes it, and read by everyone:
    it is in the site's language (LANGUAGE_CODE), not in the language of the page that caused it."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def language_of(rep):
    """The rep's own language for what is sent to them; the site's when they have none set."""
    return translation.override(rep.language or settings.LANGUAGE_CODE)


def language_of_user(user):
    """A user's language for what is sent to them: their rep's language when they are also a rep, else the site's."""
    rep = getattr(user, "rep", None)
    return language_of(rep) if rep else site_language()
