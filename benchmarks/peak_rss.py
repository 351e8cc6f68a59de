"""Run a command and write its peak RSS (KiB) to a file: `python -S peak_rss.py OUT_FILE ARGV...`.

Linux carries the resident set of the process that forks a child into the child's `ru_maxrss`
(at exec, the maximum of the old memory map is kept), so a child spawned straight from a big
benchmark process reports at least the benchmark's own size. This trampoline is small (stdlib
only, no site): it forks and execs the command, waits for it with `os.wait4`, and exits with
its exit code. Its own ~10 MB is then the floor of the figure, below any real command's peak.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    out_file, command = argv[0], argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out_file, "w", encoding="ascii") as out:
        out.write(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
