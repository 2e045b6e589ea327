"""Allow `python -m executor_app`."""

from executor_app.cli import main

main()
