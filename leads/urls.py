from django.urls import path

from leads import api, views

app_name = "leads"

urlpatterns = [
    path("f/<slug:slug>/", views.intake_form, name="intake_form"),
    path("f/<slug:slug>/thanks/", views.intake_thanks, name="intake_thanks"),
    path("api/v1/leads", api.leads_collection, name="api_leads"),
    path("api/v1/leads/<int:lead_id>", api.lead_detail, name="api_lead_detail"),
    path("api/v1/submissions/<str:reference>", api.submission_detail, name="api_submission_detail"),
]
