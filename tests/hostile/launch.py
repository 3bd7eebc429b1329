"""Start one case and report its exit status and its own peak RSS.

    python launch.py RESULT.json ADDRESS_LIMIT -- ARGV...

Linux carries a process's peak RSS across ``exec`` from the process that forked it, so a
case started straight from a large parent (pytest) would report the parent's memory as
its own. Started from this small launcher, the figure is the case's. The case runs under
the address-space limit (``ulimit -v``); this launcher waits for it and writes
``{"code": ..., "maxrss": bytes}``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys


def main(argv: list[str]) -> int:
    result, limit, sep, *command = argv
    assert sep == "--" and command
    limit_bytes = int(limit)

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    proc = subprocess.Popen(command, preexec_fn=limits)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(result, "w") as f:
        json.dump({"code": proc.returncode, "maxrss": usage.ru_maxrss * 1024}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
