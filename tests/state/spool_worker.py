"""Subprocess of the engine kill -9 test: an engine journaling to PostgreSQL through the
spool decides events in batches and acknowledges each batch's event ids on stdout, then
keeps draining until its stdin closes. At ``pause`` events it says so and waits for a
line on stdin (the test stops the server meanwhile)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.servers import PostgresServer
from tests.state.outage import spooling_engine
from tests.state.worker import events


class _Dsn(PostgresServer):
    def __init__(self, dsn: str) -> None:  # only the address of a server started elsewhere
        self._dsn = dsn

    @property
    def dsn(self) -> str:
        return self._dsn


def main() -> None:
    data_dir, dsn, schema = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    start, stop, batch, pause = (int(a) for a in sys.argv[4:8])
    engine = spooling_engine(_Dsn(dsn), data_dir, schema)
    out = sys.stdout
    print("ready", flush=True)
    stream = events(stop)
    for i in range(start, stop, batch):
        if i == pause:
            print("pause", flush=True)
            sys.stdin.readline()
        decisions = engine.decide_many(stream[i : i + batch])
        out.write("".join(f"ack {d.event_id}\n" for d in decisions))  # durable: acknowledged
        out.flush()
    print("done", flush=True)
    sys.stdin.read()  # the drainer drains meanwhile
    engine.close()


if __name__ == "__main__":
    main()
