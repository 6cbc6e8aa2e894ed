"""``python -m stackit_chutes_core``: the ``stackit-chutes`` command line."""

from stackit_chutes_core._cli import run

if __name__ == "__main__":
    run()
