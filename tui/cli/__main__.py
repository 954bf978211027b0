"""``python -m tui.cli``: the ``timeloom`` command."""

from tui.cli import main

raise SystemExit(main())
