"""``python -m tests.emulator``: print the three base URLs and serve until Ctrl-C or max lifetime."""

from __future__ import annotations

import argparse
import json
import sys

from tests.emulator.server import ProviderEmulator


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to sleep before each reply")
    parser.add_argument("--max-lifetime", type=float, default=900.0, help="stop after this many seconds")
    args = parser.parse_args(argv)
    emu = ProviderEmulator(latency_s=args.latency, max_lifetime_s=args.max_lifetime)
    print(json.dumps(emu.base_urls, indent=2), flush=True)
    try:
        emu.wait_closed()
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
