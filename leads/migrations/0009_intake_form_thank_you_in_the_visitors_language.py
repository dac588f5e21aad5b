"""The thank-you message is blank unless a manager wrote one: the standard message is shown in the visitor's language.

Forms still holding the old default (stored in whichever language was active when they were created) are emptied,
so they show it in each visitor's language from now on; a message a manager wrote is kept.
"""

from django.conf import settings
from django.db import migrations, models
from django.utils import translation

STANDARD = "Thank you! We will be in touch shortly."


def forget_the_stored_default(apps, schema_editor):
    IntakeForm = apps.get_model("leads", "IntakeForm")
    stored_defaults = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            stored_defaults.add(translation.gettext(STANDARD))
    IntakeForm.objects.using(schema_editor.connection.alias).filter(
        thank_you_message__in=stored_defaults
    ).update(thank_you_message="")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0008_lead_event_headings_translated"),
    ]

    operations = [
        migrations.AlterField(
            model_name="intakeform",
            name="thank_you_message",
            field=models.TextField(
                blank=True,
                help_text="Empty: \"Thank you! We will be in touch shortly.\" in the visitor's language.",
                verbose_name="thank-you message",
            ),
        ),
        migrations.RunPython(forget_the_stored_default, migrations.RunPython.noop),
    ]
