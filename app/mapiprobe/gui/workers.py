"""Background work for the window: every network call runs on a worker thread, never on the Qt main thread.

:class:`Job` is a :class:`QRunnable` whose signals live on a separate :class:`QObject`
(:class:`JobSignals`), as superqt's ``WorkerBase`` does: the runnable is owned by the pool, the signals object
by the main thread, so a result is delivered there by a queued connection. The work function never touches a
widget (Anki's ``taskman`` rule); it returns a value or raises, and the window shows either in the pane
the job concerns.

:class:`Runner` owns a private :class:`QThreadPool` (network calls block, so the global pool's two threads on
a two-core machine would starve), hands out jobs, and cancels them: every job receives the runner's current
:class:`threading.Event`, which the sessions take as their ``cancel=`` and check between requests (and
watch during one). :meth:`Runner.cancel_all` sets it and starts a fresh one for the next run; results of
cancelled jobs are dropped.

:class:`AskMainThread` lets a worker ask the user something (Autodiscover's redirect consent): the worker
blocks on an event while the question is shown by the main thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("mapiprobe.gui")

Work = Callable[[threading.Event], Any]


class JobSignals(QObject):
    """The signals of one :class:`Job`. They are emitted from the worker thread; this object lives in the
    main thread, so its slots (which call the callbacks) run there, by a queued connection."""

    finished = Signal(object)  # the work function's return value
    failed = Signal(object)  # the exception it raised
    done = Signal()  # after finished or failed

    def __init__(
        self,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_done: Callable[[], None],
    ) -> None:
        super().__init__()
        self._on_result = on_result
        self._on_error = on_error
        self._on_done = on_done
        self.finished.connect(self._deliver_result)
        self.failed.connect(self._deliver_error)
        self.done.connect(self._deliver_done)

    @Slot(object)
    def _deliver_result(self, value: Any) -> None:
        if self._on_result is not None:
            self._on_result(value)

    @Slot(object)
    def _deliver_error(self, exc: Any) -> None:
        if self._on_error is not None:
            self._on_error(exc)

    @Slot()
    def _deliver_done(self) -> None:
        self._on_done()


class Job(QRunnable):
    """Runs ``work(cancel)`` on a pool thread; the outcome comes back through :attr:`signals`."""

    def __init__(self, work: Work, cancel: threading.Event, signals: JobSignals, name: str = "job") -> None:
        super().__init__()
        self.work = work
        self.cancel = cancel
        self.name = name
        self.signals = signals
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        signals = self.signals
        try:
            result = self.work(self.cancel)
        except BaseException as exc:
            if not self.cancel.is_set():
                log.info("%s failed: %s", self.name, "".join(traceback.format_exception_only(exc)).strip())
            if not self.cancel.is_set():
                signals.failed.emit(exc)
        else:
            if not self.cancel.is_set():
                signals.finished.emit(result)
        signals.done.emit()


class Runner(QObject):
    """Starts jobs on a private pool and cancels them together."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, threads: int = 6) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.cancel_event = threading.Event()
        self._running = 0
        self._keep: set[JobSignals] = set()

    @property
    def busy(self) -> bool:
        return self._running > 0

    def submit(
        self,
        work: Work,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        name: str = "job",
    ) -> Job:
        """Run ``work(cancel)`` off the main thread; ``on_result`` / ``on_error`` are called in the main
        thread
        (never for a job cancelled by :meth:`cancel_all`)."""
        signals: JobSignals

        def done() -> None:
            self._keep.discard(signals)
            self._running -= 1
            if self._running == 0:
                self.busyChanged.emit(False)

        signals = JobSignals(on_result, on_error, done)
        job = Job(work, self.cancel_event, signals, name)
        self._keep.add(signals)
        self._running += 1
        if self._running == 1:
            self.busyChanged.emit(True)
        self.pool.start(job)
        return job

    def cancel_all(self) -> threading.Event:
        """Cancel every running job (their results are dropped) and start a fresh cancel event."""
        self.cancel_event.set()
        self.cancel_event = threading.Event()
        return self.cancel_event

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for the pool's threads (at shutdown, after :meth:`cancel_all`)."""
        return bool(self.pool.waitForDone(msecs))


class AskMainThread(QObject):
    """A question from a worker thread answered in the main thread (e.g. a consent dialog).

    ``ask(value)`` is called in the worker: it emits :attr:`asked` and blocks until the main thread calls
    :meth:`answer` (or the cancel event is set: then the answer is ``default``).
    """

    asked = Signal(object, object)  # (question, reply box)

    def __init__(self, handler: Callable[[Any], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handler = handler
        self.asked.connect(self._on_asked)

    @Slot(object, object)
    def _on_asked(self, question: Any, box: _ReplyBox) -> None:
        try:
            box.value = self._handler(question)
        finally:
            box.event.set()

    def ask(self, question: Any, cancel: threading.Event, default: Any = False) -> Any:
        box = _ReplyBox(default)
        self.asked.emit(question, box)
        while not box.event.wait(0.1):
            if cancel.is_set():
                return default
        return box.value


class _ReplyBox:
    def __init__(self, default: Any) -> None:
        self.value = default
        self.event = threading.Event()


__all__ = ["AskMainThread", "Job", "JobSignals", "Runner"]
