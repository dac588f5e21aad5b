from django.contrib import admin
from django.contrib.auth.decorators import user_passes_test
from django.urls import include, path
from django.views.generic import RedirectView
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

# The queue dashboard can delete and requeue jobs: superusers only, not every staff user (reps are staff).
superuser_required = user_passes_test(lambda user: user.is_active and user.is_superuser, login_url="admin:login")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("django-rq/", include((get_api_urlpatterns() + get_admin_urlpatterns(view_wrapper=superuser_required),
                                "django_rq"))),
    path("", include("leads.urls")),
    path("", include("routing.urls")),
]
