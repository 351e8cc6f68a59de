"""Run a command and write its peak RSS (KiB) to a file: `python -S peak_rss.py OUT_FILE ARGV...`.

The figure is the peak of the resident sets of the command *and its descendants* added up (an
import runs helper processes), sampled every 100 ms from /proc, or the command's own
`ru_maxrss` from `os.wait4` when that is higher (a peak between two samples).

Linux carries the resident set of the process that forks a child into the child's `ru_maxrss`
(at exec, the maximum of the old memory map is kept), so a child spawned straight from a big
benchmark process reports at least the benchmark's own size. This trampoline is small (stdlib
only, no site): it forks and execs the command and waits for it. Its own ~10 MB is then the
floor of the figure, below any real command's peak.
"""

from __future__ import annotations

import os
import sys
import time

SAMPLE_SECONDS = 0.1  # one sample costs ~2 ms of a core: keep the measuring light


def main(argv: list[str]) -> int:
    out_file, command = argv[0], argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    peak_kib = 0
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            break
        peak_kib = max(peak_kib, tree_rss_kib(pid))
        time.sleep(SAMPLE_SECONDS)
    with open(out_file, "w", encoding="ascii") as out:
        out.write(str(max(peak_kib, usage.ru_maxrss)))
    return os.waitstatus_to_exitcode(status)


def tree_rss_kib(root: int) -> int:
    """The resident sets of `root` and all its descendants, added up (KiB)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat:  # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(_rss_kib(pid) for pid in tree)


def _rss_kib(pid: int) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError:  # the process ended meanwhile
        return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
