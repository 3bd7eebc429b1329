"""The child-process transport without Qt: the pipe's framing, the protocol's commands and
events across it, and a child that never imports a GUI library."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nnviz.core.session import demo_session
from nnviz.training.process import PART_BYTES, TrainingProcess, Wire, recv_message, send_message
from nnviz.training.protocol import Command, Event, StepColumn

#: the longest a test waits for the child (a loaded machine starts a process late), s
WAIT_S = 60.0


def test_the_training_process_side_imports_no_qt():
    """The child starts from these modules; Qt would add a second to every start."""
    import subprocess
    import sys

    code = ("import sys, nnviz.training.process, nnviz.training.loop, nnviz.training.protocol; "
            "sys.exit(any(m.startswith('PySide6') or m.startswith('pyqtgraph') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


class _Wire:
    """A connection's two ends in one object: what is sent is received, in order."""

    def __init__(self):
        self.parts: list[bytes] = []

    def send_bytes(self, data) -> None:
        self.parts.append(bytes(data))

    def recv_bytes(self) -> bytes:
        return self.parts.pop(0)

    def recv_bytes_into(self, buf, offset=0) -> int:
        data = self.parts.pop(0)
        memoryview(buf)[offset : offset + len(data)] = data
        return len(data)


def test_large_arrays_cross_the_pipe_out_of_band():
    """A session's big arrays are never pickled into one buffer beside themselves: the
    pickle holds their place, their bytes follow in bounded parts."""
    big = np.arange(3 * PART_BYTES // 8 + 5, dtype=np.float64)  # three parts and a bit
    big.flags.writeable = False
    params = np.ones((300, 300))  # writable, as a network's weights are
    small = np.arange(7)
    wire = _Wire()
    send_message(wire, ("start", (big, params, small, {"col": params[:, 0]}), {}))
    sizes = [len(p) for p in wire.parts]
    assert sizes[0] < 16 * 1024  # the pickle: small arrays (and a strided column) only
    assert max(sizes) <= PART_BYTES and len(sizes) == 1 + 4 + 1
    kind, (b, p, s, d), _ = recv_message(wire)
    assert not wire.parts
    assert kind == "start" and np.array_equal(b, big) and np.array_equal(p, params)
    assert np.array_equal(s, small) and np.array_equal(d["col"], params[:, 0])
    assert not b.flags.writeable and p.flags.writeable  # as they were sent


def test_a_string_is_not_a_command():
    proc = TrainingProcess(demo_session(), 0, "run 1")
    try:
        with pytest.raises(TypeError):
            proc.send("play")
    finally:
        proc.close()


def test_commands_and_events_cross_the_pipe_as_the_protocol_s_members():
    """A real child: a command sent before it starts applies, its events arrive as
    :class:`Event` members, a copy comes back, and STOPPED is the last word."""
    proc = TrainingProcess(demo_session(), 3, "run 3")
    proc.send(Command.STEP_ONCE, 4)  # before begin(): kept and sent after START
    try:
        assert proc.begin()
        events: list[tuple] = []
        copy = None
        deadline = time.monotonic() + WAIT_S
        stopping = False
        while True:
            assert time.monotonic() < deadline, events
            if copy is not None and copy.done() and not stopping:
                proc.send(Command.STOP)  # after the answer: a stop drops what is queued
                stopping = True
            event = proc.receive(0.05)
            if event is None:
                continue
            events.append(event)
            kind = event[0]
            assert isinstance(kind, Event)
            if kind is Event.SNAPSHOT:
                proc.send(Command.ACK_SNAPSHOT)
            steps = [r for k, a in events if k is Event.STEPS for r in a[1][:, StepColumn.STEP]]
            if len(steps) == 4 and copy is None:
                copy = proc.copy_session()  # settled by receive(), not returned by it
            if kind is Event.STOPPED:
                break
        assert steps == [1, 2, 3, 4]
        assert all(a[0] == 3 for k, a in events if k is Event.STEPS)
        assert events[-1] == (Event.STOPPED, (4,))
        assert copy.result(timeout=WAIT_S).trainer.step_count == 4
    finally:
        proc.close()


def test_the_transport_s_own_messages_are_not_commands():
    assert not set(m.value for m in Wire) & set(c.value for c in Command)
