from csp.decorators import csp_exempt
from django.contrib import admin
from django.contrib.auth.decorators import user_passes_test
from django.urls import URLPattern, include, path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from routing import views as routing_views

# The admin's "View site" leads to the app (the person's home), not back into the admin.
admin.site.site_url = "/"
admin.site.site_header = admin.site.site_title = "leadrouting"

# The queue dashboard can delete and requeue jobs: superusers only, not every staff user (reps are staff).
superuser_required = user_passes_test(lambda user: user.is_active and user.is_superuser, login_url="admin:login")


def rq_dashboard_view(view):
    # django-rq's templates carry inline scripts, which the site's Content-Security-Policy would block.
    return csp_exempt()(superuser_required(view))


def superusers_only(patterns):
    """Every django-rq URL wrapped, its JSON stats too: django-rq lets any staff user (every rep) read those."""
    return [URLPattern(pattern.pattern, rq_dashboard_view(pattern.callback), pattern.default_args, pattern.name)
            for pattern in patterns]


urlpatterns = [
    path("", routing_views.home),  # a person's home: the queue, the dashboard, or the app's login
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switcher posts here
    path("django-rq/", include((superusers_only(get_api_urlpatterns() + get_admin_urlpatterns()), "django_rq"))),
    path("", include("leads.urls")),
    path("", include("routing.urls")),
]

# JSON under /api/, Django's pages elsewhere (leadrouting/errors.py).
handler400 = "leadrouting.errors.bad_request"
handler403 = "leadrouting.errors.permission_denied"
handler404 = "leadrouting.errors.page_not_found"
handler500 = "leadrouting.errors.server_error"
