"""Run by _common.ensure_org_database in a process of its own (DATABASE_URL set to the database being built):
`python bench/_build_org.py <leads>` sets Django up on that database and runs organisation.generate;
`--derived-only` brings the app's derived data up to date on a kept database after its migrations."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main():
    import django

    django.setup()
    from django_rq import get_connection

    import organisation

    if sys.argv[1] == "--derived-only":
        organisation.rebuild_derived_data()
        return
    organisation.generate(int(sys.argv[1]))
    # The profile leads' post_save wake-ups queued drain jobs; nobody should run them later.
    get_connection("routing").flushdb()


if __name__ == "__main__":
    assert os.environ["DATABASE_URL"].rsplit("/", 1)[1].startswith("lr_bench")
    main()
