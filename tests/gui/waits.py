"""How long window tests wait for a condition.

Tests wait on conditions, never on the clock: a condition that holds returns at once,
so a generous limit costs nothing on a fast machine and keeps a loaded one (two cores, one
taken by another process) from failing a test that has no fault. 60 s is more than ten
times the slowest normal figure seen (a first snapshot under a CPU hog: ~2 s).
"""

#: the longest a test waits for a condition (qtbot.waitUntil / waitSignal), ms
WAIT_MS = 60_000
#: the same for a future (a session copy from the trainer), seconds
WAIT_S = WAIT_MS / 1000
