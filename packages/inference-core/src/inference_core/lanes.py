"""Which runtime runner a call uses, so concurrent calls keep every core busy without oversubscribing.

A backend that can run a model in two shapes hands both to :class:`Lanes`:

* *wide* runners use every core for one call (lowest latency for a call that runs alone);
* *narrow* runners use a share of the cores each (one per core on a CPU), so calls that overlap
  run side by side instead of queueing for one runner whose threads wait on each other.

A call takes a wide runner only when no other call is running; otherwise it takes a free narrow
runner, or waits for one. So one client at a time gets all cores, and many clients get one
runner per core; a wide call and narrow calls overlap only while the load shifts. A backend with
one shape passes it as `narrow` (used whenever free).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

R = TypeVar("R")


class Lanes(Generic[R]):
    def __init__(self, wide: Sequence[R] = (), narrow: Sequence[R] = ()) -> None:
        if not wide and not narrow:
            raise ValueError("Lanes need at least one runner.")
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
            if self._free_wide and (self._running == 0 or not self.narrow_count):
                return self._free_wide.pop(), self._free_wide
            if self._free_narrow:
                return self._free_narrow.pop(), self._free_narrow
            self._changed.wait()
