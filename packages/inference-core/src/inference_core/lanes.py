"""Which runtime runner a call uses, so concurrent calls keep every core busy without oversubscribing.

A backend that can run a model in two shapes hands both to :class:`Lanes`:

* *wide* runners use every core for one call (lowest latency for a call that runs alone);
* *narrow* runners use a share of the cores each (one per core on a CPU), so calls that overlap
  run side by side instead of queueing for one runner whose threads wait on each other.

A call takes a wide runner only when no other call is running and none has overlapped another
for `calm_seconds`; otherwise it takes a free narrow runner, or waits for one. So one client at a
time gets all cores, and many clients get one runner per core: under steady concurrent load the
moments when nothing happens to be running do not hand out the wide runner, which would then
share the cores with the narrow calls that follow it. A backend with one shape passes it as
`narrow` (used whenever free).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

R = TypeVar("R")


class Lanes(Generic[R]):
    def __init__(
        self,
        wide: Sequence[R] = (),
        narrow: Sequence[R] = (),
        calm_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not wide and not narrow:
            raise ValueError("Lanes need at least one runner.")
        self.calm_seconds = calm_seconds
        self._clock = clock
        self._overlapped_at = float("-inf")
        self._free_wide = list(wide)
        self._free_narrow = list(narrow)
        self.wide_count = len(self._free_wide)
        self.narrow_count = len(self._free_narrow)
        self._running = 0
        self._changed = threading.Condition()

    @property
    def size(self) -> int:
        """How many calls can run at once."""
        return self.wide_count + self.narrow_count

    @contextmanager
    def take(self) -> Iterator[R]:
        """A runner for one call, held until the block ends."""
        with self._changed:
            if self._running:
                self._overlapped_at = self._clock()
            runner, pool = self._wait_for_runner()
            self._running += 1
        try:
            yield runner
        finally:
            with self._changed:
                pool.append(runner)
                self._running -= 1
                self._changed.notify_all()

    def _wait_for_runner(self) -> tuple[R, list[R]]:
        while True:
            # Wide only for a call that runs alone, unless wide is all there is.
            calm = self._clock() - self._overlapped_at >= self.calm_seconds
            if self._free_wide and ((self._running == 0 and calm) or not self.narrow_count):
                return self._free_wide.pop(), self._free_wide
            if self._free_narrow:
                return self._free_narrow.pop(), self._free_narrow
            self._changed.wait()
