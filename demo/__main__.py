"""``python -m demo``: backfill the demo organizations from the simulator into DuckDB, then summarize."""

from demo.run import main

raise SystemExit(main())
