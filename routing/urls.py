from django.contrib.auth import views as auth_views
from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="routing/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("queue/pool/", views.pool, name="pool"),
    path("queue/away/", views.away, name="away"),
    path("queue/pool/<int:lead_id>/claim/", views.claim, name="claim"),
    path("queue/pool/claim-next/", views.claim_next, name="claim_next"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/reassign/", views.lead_reassign_view, name="lead_reassign"),
    path("leads/<int:lead_id>/<slug:action>/", views.lead_action, name="lead_action"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("fairness/", views.fairness, name="fairness"),
    path("pools/ageing/", views.pool_ageing_view, name="pool_ageing"),
    path("dashboard/trends/", views.trends, name="trends"),
    path("capacity/", views.capacity, name="capacity"),
    path("reassignments/", views.reassignments, name="reassignments"),
    path("reassignments/export.csv", views.reassignments_csv, name="reassignments_csv"),
    path("experiments/<int:experiment_id>/", views.experiment_results, name="experiment_results"),
    path("experiments/<int:experiment_id>/make-variant-default/", views.experiment_make_variant_default,
         name="experiment_make_variant_default"),
]
