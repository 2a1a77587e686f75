"""``python -m centauro`` is the ``centauro`` command."""

from centauro.cli.main import run

run()
