"""`python -m minigrad ...`: see minigrad.cli."""
from .cli import main

raise SystemExit(main())
