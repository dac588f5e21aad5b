"""Routing configuration as a file: territories, pools and rules as JSON that reads well in a git diff.

The file holds every territory (criteria, parent, covering reps and teams), every pool (who may
claim) and every rule, active or not, in priority order with its conditions and required skills.
Other objects are named by natural key, never by database id: a rep by username, a team, pool or
territory by name, a skill by kind and name. Reps, teams, skills and calendars are people data kept
in the admin: the file names them but never creates them.

Import matches territories, pools and rules by name: it creates, updates and (with
`delete_missing`) deletes, in one transaction, checking every rule with the admin's own
validation. One problem anywhere and nothing is changed. Objects the file leaves as they are
are not written at all, so a rule's rotation (who is next) survives the import.

One module per job: `schema` (the file's keys and the checked reader), `export` and `importer`.
"""

from routing.config_file.export import routing_config_export, routing_config_json
from routing.config_file.importer import ImportReport, SectionReport, routing_config_import
from routing.config_file.schema import FORMAT_VERSION, RULE_KEYS, ConfigFileError, routing_config_from_json

__all__ = [
    "FORMAT_VERSION", "RULE_KEYS", "ConfigFileError", "ImportReport", "SectionReport", "routing_config_export",
    "routing_config_from_json", "routing_config_import", "routing_config_json",
]
