"""Entry point for ``python -m soundscape``."""

from soundscape.cli.main import main

raise SystemExit(main())
