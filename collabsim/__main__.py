"""``python -m collabsim``: the command line."""

from collabsim.cli import app

app()
