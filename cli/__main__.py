"""`python -m cli` runs the `newsdesk` command."""

from .main import run

run()
