"""Admin pages for the routing configuration as a file: export it, import one (upload, preview, confirm)."""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing.config_file import (
    ConfigFileError,
    routing_config_export,
    routing_config_from_json,
    routing_config_import,
    routing_config_json,
)

# The file holds rules, pools and territories: whoever imports it changes all three.
EXPORT_PERMISSIONS = ["routing.view_routingrule", "routing.view_pool", "reps.view_territory"]
IMPORT_PERMISSIONS = ["routing.add_routingrule", "routing.change_routingrule", "routing.add_pool",
                      "routing.change_pool", "reps.add_territory", "reps.change_territory"]
DELETE_PERMISSIONS = ["routing.delete_routingrule", "routing.delete_pool", "reps.delete_territory"]
# The uploaded file waits in the session between the preview and the confirmation.
SESSION_KEY = "routing_config_import"
MAX_BYTES = 5 * 1024 * 1024
TEMPLATE = "admin/routing/routingrule/config_import.html"


class ConfigUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("configuration file"),
                           help_text=gettext_lazy("A JSON file written by Export configuration or export_routing."))
    delete_missing = forms.BooleanField(
        label=gettext_lazy("delete what the file leaves out"), required=False,
        help_text=gettext_lazy("Rules, pools and territories that are not in the file are deleted."))

    def __init__(self, *args, may_delete: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_delete:
            del self.fields["delete_missing"]

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB; a routing configuration is far smaller."))
        return file


class ConfigFileAdminMixin:
    """For the routing rule admin: the changelist's Export configuration and Import configuration."""

    def get_urls(self):
        export_view = self.admin_site.admin_view(config_export_view)
        import_view = self.admin_site.admin_view(partial(config_import_view, self))
        return [
            path("export-configuration/", export_view, name="routing_routingrule_config_export"),
            path("import-configuration/", import_view, name="routing_routingrule_config_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_export_config": request.user.has_perms(EXPORT_PERMISSIONS),
                         "may_import_config": request.user.has_perms(IMPORT_PERMISSIONS)}
        return super().changelist_view(request, extra_context)


def config_export_view(request):
    if not request.user.has_perms(EXPORT_PERMISSIONS):
        raise PermissionDenied
    response = HttpResponse(routing_config_json(routing_config_export()), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="routing-configuration-{timezone.localdate()}.json"'
    return response


def config_import_view(model_admin, request):
    """Upload -> preview (a dry run) -> confirm, which imports the file kept in the session."""
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    context = {**model_admin.admin_site.each_context(request), "title": _("Import routing configuration"),
               "opts": model_admin.model._meta}
    if request.method == "POST" and "confirm" in request.POST:
        stored = request.session.pop(SESSION_KEY, None)
        if stored is None:
            messages.error(request, _("The uploaded file is no longer here (the session ended): upload it again."))
            return redirect("admin:routing_routingrule_config_import")
        context.update(file_name=stored["name"], applied=True)
        _run_import(request, context, stored["content"], delete_missing=stored["delete_missing"], dry_run=False)
        return TemplateResponse(request, TEMPLATE, context)
    upload = ConfigUploadForm(request.POST or None, request.FILES or None,
                              may_delete=request.user.has_perms(DELETE_PERMISSIONS))
    context["upload"] = upload
    if request.method == "POST" and upload.is_valid():
        file, delete_missing = upload.cleaned_data["file"], upload.cleaned_data.get("delete_missing", False)
        content = file.read()
        context["file_name"] = file.name
        if _run_import(request, context, content, delete_missing=delete_missing, dry_run=True):
            # The file parsed, so it is UTF-8 text.
            request.session[SESSION_KEY] = {"name": file.name, "content": content.decode("utf-8-sig"),
                                            "delete_missing": delete_missing}
    return TemplateResponse(request, TEMPLATE, context)


def _run_import(request, context: dict, content, *, delete_missing: bool, dry_run: bool) -> bool:
    """Puts the import's report, or the file's problems, on the page; True when the file imports."""
    context["delete_missing"] = delete_missing
    try:
        context["report"] = routing_config_import(routing_config_from_json(content), dry_run=dry_run,
                                                  delete_missing=delete_missing, actor=request.user)
    except ConfigFileError as error:
        context["problems"] = error.messages
        return False
    return True
