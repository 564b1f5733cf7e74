"""Run one command and record its wall-clock and CPU time (for scripts/bench-freqtrade.sh).

Usage: python3 timecmd.py --out TIMES.json --stdout FILE --stderr FILE -- COMMAND ARGS...

Writes {"wall_s", "user_s", "sys_s", "exit_code"} to TIMES.json and exits with the command's
exit code. Wall time is read with a monotonic clock around the child's whole life (start to
exit); CPU time is the child's user and system time (getrusage of the waited-for children).
CPU time is less disturbed than wall time when other work shares the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if "--" not in argv:
        sys.exit("usage: timecmd.py --out FILE --stdout FILE --stderr FILE -- COMMAND...")
    split = argv.index("--")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--stdout", type=Path, required=True)
    p.add_argument("--stderr", type=Path, required=True)
    opts = p.parse_args(argv[:split])
    cmd = argv[split + 1 :]
    if not cmd:
        sys.exit("timecmd.py: no command after --")

    with opts.stdout.open("wb") as out, opts.stderr.open("wb") as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        try:
            code = subprocess.call(cmd, stdout=out, stderr=err)
        except OSError as e:
            sys.exit(f"timecmd.py: cannot run {cmd[0]}: {e}")
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    times = {
        "wall_s": wall,
        "user_s": after.ru_utime - before.ru_utime,
        "sys_s": after.ru_stime - before.ru_stime,
        "exit_code": code,
    }
    opts.out.write_text(json.dumps(times) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
