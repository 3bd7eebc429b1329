"""The training loop in a child process, and the window's end of the pipe to it.

Why a process: the trainer and the window are both Python. On one interpreter they take
turns with the GIL, so every millisecond spent drawing is a millisecond not spent
training, and the other way round (measured: the window drew 5 frames a second while the
trainer ran at half its headless speed). In a child process the trainer has its own
interpreter and core, and the window draws on the other.

The child runs :class:`~nnviz.training.loop.TrainingLoop` unchanged: its events go down
a :func:`multiprocessing.Pipe` as ``(Event, args)`` tuples, in order, and commands come up
as ``(Command, args)`` tuples (:mod:`nnviz.training.protocol`) that a small reader thread
hands to the loop's queue. Two messages belong to the transport alone (:class:`Wire`):
``START`` hands the child its session, ``COPIED`` answers ``Command.COPY_SESSION``. Pickle is
used only on this private pipe between two copies of the same program, never for files.
:func:`freeze` makes every array that arrives read-only, so views may keep them as they do
in the threaded mode.

Large arrays travel out of band (:func:`send_message`): the pickle holds only their
place, and their bytes go down the pipe straight from the array and are read straight
into the buffer the new array lives in. A session of millions of examples is then never
held a second time as one big pickle on either side (measured with 5,000,000 rows: a
267 MB pickle beside the session in the window, and another in the child while it was
unpickled).

Qt-free: the child imports NumPy and the core, nothing else (it starts in a fraction of
a second).
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from enum import Enum
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

from nnviz.core.session import Session
from nnviz.training.protocol import Command, Event

if TYPE_CHECKING:
    from nnviz.training.loop import TrainingLoop


class Wire(Enum):
    """The transport's own messages, beside the protocol's commands and events."""

    #: window to child, first of all: ``(session, generation, label)``
    START = "start"
    #: child to window: ``(request, session or None, error or None)``, the answer to
    #: ``(Command.COPY_SESSION, (request,))``
    COPIED = "copied"


def freeze(obj: Any) -> Any:
    """Make every NumPy array reachable from ``obj`` read-only (in place); returns ``obj``.

    Walks tuples, lists, dict values and dataclass fields, which is what snapshots, step
    rows and run descriptions are made of."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            freeze(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            freeze(item)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            freeze(getattr(obj, f.name))
    return obj


#: arrays of at least this many bytes go out of band (smaller ones stay in the pickle:
#: one pipe message each would cost more than the copy)
OUT_OF_BAND_BYTES = 64 * 1024
#: an out-of-band array goes down the pipe in parts of at most this many bytes: the
#: receiving connection reads a whole part into a temporary buffer before copying it
PART_BYTES = 8 * 1024 * 1024


def send_message(conn: Connection, message: Any) -> None:
    """Send ``message`` with its large arrays out of band; one writer at a time per
    connection (the parts of one message must not interleave with another's)."""
    buffers: list[memoryview] = []

    def out_of_band(buf: pickle.PickleBuffer) -> bool:
        raw = buf.raw()
        if raw.nbytes < OUT_OF_BAND_BYTES:
            return True  # true: into the pickle stream
        buffers.append(raw)
        return False

    head = pickle.dumps(message, protocol=5, buffer_callback=out_of_band)
    conn.send_bytes(pickle.dumps((head, [(b.nbytes, b.readonly) for b in buffers]), protocol=5))
    for b in buffers:
        flat = b.cast("B")
        for start in range(0, flat.nbytes, PART_BYTES):
            conn.send_bytes(flat[start : start + PART_BYTES])


def recv_message(conn: Connection) -> Any:
    """The next message :func:`send_message` sent; its arrays live in fresh buffers
    (read-only where the sender's were)."""
    head, layout = pickle.loads(conn.recv_bytes())
    buffers = []
    for nbytes, readonly in layout:
        buf = bytearray(nbytes)
        done = 0
        while done < nbytes:  # parts of PART_BYTES: the connection reads each into a copy first
            got = conn.recv_bytes_into(buf, done)
            if got == 0 or got > PART_BYTES:
                raise EOFError(f"a message part of {got} bytes where at most {PART_BYTES} belong")
            done += got
        buffers.append(memoryview(buf).toreadonly() if readonly else buf)
    return pickle.loads(head, buffers=buffers)


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# --- the child ---------------------------------------------------------------------------
def child_main(conn: Connection) -> None:
    """The training process: wait for ``START``, run the loop, end after ``stop``."""
    from nnviz.blas import limit_blas_threads
    from nnviz.training.loop import TrainingLoop

    limit_blas_threads(1)
    # events leave through a sender thread: a snapshot is several times the pipe's buffer,
    # and writing it from the loop would stall training until the window's process (busy
    # drawing, holding its GIL) has read it all
    outbox: queue.SimpleQueue = queue.SimpleQueue()

    def send(event: Event | Wire, *args: Any) -> None:
        outbox.put((event, args))

    def deliver() -> None:
        while True:
            message = outbox.get()
            if message is None:
                return
            try:
                send_message(conn, message)
            except (BrokenPipeError, ConnectionError, EOFError, OSError):
                loop.stop()  # the window is gone: nobody is listening
                return

    sender = threading.Thread(target=deliver, name="nnviz-events", daemon=True)

    try:
        kind, args = recv_message(conn)
    except (EOFError, ConnectionError):
        return
    if kind is not Wire.START:
        return
    session, generation, label = args
    loop = TrainingLoop(session, send, generation, label)

    def read_commands() -> None:
        while True:
            try:
                command, cargs = recv_message(conn)
            except (EOFError, ConnectionError, OSError):
                loop.stop()
                return
            if command is Command.COPY_SESSION:
                _answer_copy(loop, cargs[0], send)
            elif isinstance(command, Command):
                loop.send(command, *cargs)
            if command is Command.STOP:
                return

    reader = threading.Thread(target=read_commands, name="nnviz-commands", daemon=True)
    sender.start()
    reader.start()
    try:
        loop.run()
    finally:
        outbox.put(None)  # after STOPPED: everything the loop said is delivered first
        sender.join(10.0)
        conn.close()


def _answer_copy(loop: TrainingLoop, request: int, send: Callable[..., None]) -> None:
    def done(fut: Future) -> None:
        exc = fut.exception()
        if exc is None:
            send(Wire.COPIED, request, fut.result(), None)
        else:
            send(Wire.COPIED, request, None, str(exc))

    loop.copy_session().add_done_callback(done)


# --- the window's end --------------------------------------------------------------------
class TrainingProcess:
    """Starts the child and carries commands to it and events back.

    ``send`` may be called from any thread; ``receive`` from one thread only (the
    worker's pump)."""

    def __init__(self, session: Session, generation: int, label: str):
        ctx = multiprocessing.get_context("spawn")  # fork would copy Qt's threads' locks
        self._conn, self._child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=child_main, args=(self._child_conn,), name="nnviz-trainer",
                                   daemon=True)
        self._lock = threading.Lock()
        self._requests: dict[int, Future] = {}
        self._ids = itertools.count(1)
        self._start_args: tuple | None = (session, generation, label)
        self._early: list[tuple[Command, tuple]] | None = []  # commands sent before begin()

    def begin(self) -> bool:
        """Start the child, hand it its session, then any commands that came meanwhile.

        Called by the worker's thread, not in the constructor: the session is larger than
        the pipe's buffer, so sending it waits until the child has started Python and
        NumPy, and the window (still opening) must not wait with it."""
        args, self._start_args = self._start_args, None
        if args is None:
            return True
        self.process.start()
        self._child_conn.close()
        ok = self._write((Wire.START, args))
        with self._lock:
            early, self._early = self._early, []
            for message in early:
                ok = ok and self._write(message)
            self._early = None  # from now on commands go straight to the pipe
        return ok

    def send(self, command: Command, *args: Any) -> bool:
        """Queue ``command`` for the child; False when the child is gone."""
        if not isinstance(command, Command):
            raise TypeError(f"not a training command: {command!r}")
        with self._lock:
            if self._early is not None:
                self._early.append((command, args))
                return True
            return self._write((command, args))

    def _write(self, message: tuple) -> bool:
        try:
            send_message(self._conn, message)
            return True
        except (BrokenPipeError, ConnectionError, EOFError, OSError, ValueError):
            return False

    def copy_session(self) -> Future:
        fut: Future = Future()
        request = next(self._ids)
        with self._lock:
            self._requests[request] = fut
        if not self.send(Command.COPY_SESSION, request):
            self._settle(request, None, "the training process has stopped")
        return fut

    def receive(self, timeout: float) -> tuple[Event, tuple] | None:
        """The next event (arrays read-only), or None after ``timeout`` seconds.

        Copies of the session are settled here and not returned. Raises EOFError when
        the child has gone."""
        if not self._conn.poll(timeout):
            return None
        kind, args = recv_message(self._conn)
        if kind is Wire.COPIED:
            self._settle(*args)
            return None
        return kind, freeze(args)

    def _settle(self, request: int, session: Session | None, error: str | None) -> None:
        with self._lock:
            fut = self._requests.pop(request, None)
        if fut is None or fut.done():
            return
        if error is None:
            fut.set_result(session)
        else:
            fut.set_exception(RuntimeError(error))

    def fail_pending(self, message: str) -> None:
        with self._lock:
            pending = list(self._requests)
        for request in pending:
            self._settle(request, None, message)

    def close(self, timeout: float = 5.0) -> None:
        """Wait for the child to end (after ``stop``), then end it by force if it hangs."""
        if self._start_args is not None:  # never begun: there is no child
            with self._lock:
                self._conn.close()
                self._child_conn.close()
            self.fail_pending("the training process has stopped")
            return
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        with self._lock:
            self._conn.close()
        self.fail_pending("the training process has stopped")
