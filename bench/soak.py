"""A reliability soak of `watchdog run` against real processes: a throwaway PostgreSQL cluster
(initdb/pg_ctl, as tests/conftest.py starts one), `watchdog run` daemons, and an HTTP receiver on
127.0.0.1 that records every webhook. Each case breaks one thing for real (the database stopped or
frozen, the receiver failing, kill -9, the state file read-only (at start, and its file system turned
read-only under the running daemon) or its disk full, the leader of two
replicas killed, hostile rule files), prints one line of what it did and saw, and asserts that no
page was lost or sent twice (by fingerprint and status).

    python bench/soak.py [--minutes N] [--cases 1,2,...]

Rounds of the selected cases run until N minutes have passed (at least one round). Every wait has a
deadline; every process and directory started here is removed in a finally block. Exit 0 when every
case held, 1 when one failed (its line says which assertion), as root or as a user initdb accepts.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from artifacts.servers import eventually  # noqa: E402 (the tests' own helpers)
from conftest import _free_port, _unprivileged  # noqa: E402

INTERVAL = 1.0
JOBS_TABLE = "CREATE TABLE jobs (id serial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL)"
INCIDENT = "INSERT INTO jobs (status, created_at) VALUES ('pending', now() - interval '1 hour')"
FIX = "UPDATE jobs SET status = 'done'"


class CaseFailed(AssertionError):
    """An assertion of a case, with what was seen (`eventually` raises a plain AssertionError)."""


def check(condition: bool, message: str) -> None:
    """A case's assertion; unlike `assert`, not stripped by `python -O`."""
    if not condition:
        raise CaseFailed(message)


class Cluster:
    """A PostgreSQL cluster of its own (initdb + pg_ctl in a fresh directory) that a case may stop,
    start, freeze and thaw."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            raise SystemExit("soak: initdb/pg_ctl not on PATH")
        self.workdir = Path(tempfile.mkdtemp(prefix="watchdog-soak-pg-"))
        prefix = _unprivileged(self.workdir)
        if prefix is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise SystemExit("soak: running as root without a 'postgres' user for initdb")
        self.prefix, self.data, self.port = prefix, self.workdir / "pgdata", _free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        try:
            subprocess.run([*prefix, self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust"],
                           check=True, capture_output=True, timeout=120)
            self.start()
        except BaseException:  # the caller never gets the cluster to close: leave nothing behind
            self.close()
            raise

    def _ctl(self, *argv: str) -> None:
        subprocess.run([*self.prefix, self.pg_ctl, "-D", str(self.data), *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._ctl("-l", str(self.workdir / "server.log"), "-o",
                  f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1", "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def processes(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == postmaster]
        return [postmaster, *children]

    def signal_all(self, signum: int) -> int:
        """`signum` to the postmaster and its children; how many there were."""
        pids = self.processes()
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        return len(pids)

    def schema(self, name: str) -> str:
        """A fresh schema holding the scheduler's `jobs` table; the DSN whose search_path is it."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{name}"')
        dsn = f"{self.dsn}?options=-csearch_path%3D{name}"
        sql(dsn, JOBS_TABLE)
        return dsn

    def close(self) -> None:
        """Thawed (a frozen server ignores pg_ctl), stopped and removed, whatever state a case left it in."""
        try:
            self.signal_all(signal.SIGCONT)
        except (OSError, ValueError, IndexError):  # not running: no postmaster.pid
            pass
        subprocess.run([*self.prefix, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _ppid(proc: Path) -> int:
    """The parent pid of a /proc entry (-1 once it is gone): the command is in parentheses and may hold spaces."""
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def sql(dsn: str, statement: str) -> None:
    """One statement, committed, as the scheduler would write it."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


class Receiver:
    """Records every webhook as (fingerprint, status, starts_at, alertname) in arrival order. `status`
    is what it answers (503 for an outage); `hang` holds the answer that many seconds (a delivery
    under way when the sender dies). `refused` counts the requests answered with an error."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, str, str, str]] = []
        self.status, self.hang, self.refused = 200, 0.0, 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                doc = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status = owner.status
                if status == 200:
                    owner.pages.append((doc["fingerprint"], doc["status"], doc["starts_at"], doc["alertname"]))
                else:
                    owner.refused += 1
                if owner.hang:
                    time.sleep(owner.hang)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def of(self, rule: str, status: str) -> list[tuple[str, str, str, str]]:
        return [p for p in self.pages if p[3] == rule and p[1] == status]

    def duplicates(self) -> int:
        """Pages received more than once, by (fingerprint, status, starts_at): the idempotency key."""
        return sum(n - 1 for n in Counter(p[:3] for p in self.pages).values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Watchdog:
    """`watchdog run` on a rule file and a state; its output read through a pipe (a full disk for
    the process must not silence its log) into `lines`."""

    def __init__(self, workdir: Path, name: str, rules: Path, state: str, wrap: list[str] | None = None,
                 ready: str = "/-/ready") -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        argv = [sys.executable, "-m", "watchdog", "run", "-c", str(rules), "--state", state,
                "--listen", f"127.0.0.1:{self.port}", "--shutdown-timeout", "3s"]
        if wrap:  # a shell command that ends in `exec `: the daemon started by it, under the same pid
            argv = [*wrap[:-1], wrap[-1] + shlex.join(argv)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = workdir / f"{name}.log"
        threading.Thread(target=self._read, daemon=True).start()
        try:
            eventually(lambda: self._answers(ready), f"{name} to answer 200 on {ready}", timeout=30)
        except BaseException:
            self.kill()
            raise

    def _read(self) -> None:
        assert self.process.stdout
        with self.log.open("w", encoding="utf-8") as out:
            for line in self.process.stdout:
                self.lines.append(line)
                out.write(line)
                out.flush()

    def text(self) -> str:
        return "".join(self.lines)

    def _answers(self, path: str) -> bool:
        if self.process.poll() is not None:
            raise CaseFailed(f"watchdog exited {self.process.returncode}: {self.text()[-1500:]}")
        return self.status(path) == 200

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=3) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def metric(self, name: str) -> float:
        """The sum of a metric's samples on /metrics (0 when it does not answer)."""
        try:
            with urllib.request.urlopen(f"{self.url}/metrics", timeout=3) as response:
                body = response.read().decode()
        except OSError:
            return 0.0
        return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith((name + " ", name + "{")))

    def evaluations(self) -> int:
        """Probe-duration samples counted so far, all rules: the daemon's own clock of work done."""
        return int(self.metric("watchdog_probe_duration_seconds_count"))

    def settle(self, more: int = 3) -> None:
        """Returns after `more` further evaluations: what a case waits for before saying nothing else came."""
        target = self.evaluations() + more
        eventually(lambda: self.evaluations() >= target, f"{more} more evaluations", timeout=10 + 5 * more)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def rules(workdir: Path, dsn: str, hook: str, names: tuple[str, ...] = ("jobs_stuck",), interval: float = INTERVAL,
          target: str = "") -> Path:
    """A rule file: one `stuck` rule per name on the `jobs` table, each its own alert, webhook to `hook`."""
    body = "".join(f"""
  - name: {name}
    check: stuck
    table: jobs
    where: {{status: pending}}
    time_column: created_at
    older_than: {5 + i}m
    severity: critical
""" for i, name in enumerate(names))
    path = workdir / "rules.yaml"
    path.write_text(f"""version: 1
targets:
  main: {{dsn: "{dsn}", connect_timeout: 1s{target}}}
defaults: {{interval: {interval:g}s, for: 0s}}
notify:
  webhook: {{url: "{hook}"}}
rules:{body}""", encoding="utf-8")
    return path


def exactly_once(receiver: Receiver, expected: list[tuple[str, str]]) -> None:
    """Each (rule, status) in `expected` received once, nothing else received."""
    seen = Counter((p[3], p[1]) for p in receiver.pages)
    check(seen == Counter(expected), f"pages {dict(seen)}, expected each of {expected} once and nothing else")


@contextmanager
def scene(name: str) -> Iterator[tuple[Path, Receiver, list[Watchdog]]]:
    """A case's working directory, receiver and daemons, all gone after it; the directory (with the
    daemons' logs) is kept when the case fails, and named in its line."""
    workdir = Path(tempfile.mkdtemp(prefix=f"watchdog-soak-{name}-"))
    receiver, daemons, failed = Receiver(), [], False
    try:
        yield workdir, receiver, daemons
    except AssertionError as exc:
        failed = True
        pages = ", ".join(f"{alertname} {status}" for _, status, _, alertname in receiver.pages)
        raise CaseFailed(f"{exc} (pages in order: {pages}; logs kept in {workdir})") from None
    finally:
        for daemon in daemons:
            daemon.stop()
        receiver.close()
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)


def database_outage(cluster: Cluster, seconds: float) -> str:
    with scene("outage") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_outage")
        sql(dsn, INCIDENT)
        daemons.append(wd := Watchdog(workdir, "watchdog", rules(workdir, dsn, receiver.url), str(workdir / "state.db")))
        eventually(lambda: receiver.of("jobs_stuck", "firing"), "the incident's page", timeout=15)
        cluster.stop()
        try:
            eventually(lambda: receiver.of("target_down", "firing"), "target_down firing", timeout=30)
            time.sleep(max(0.0, seconds - 5))  # the outage goes on: nothing more may be paged
        finally:
            cluster.start()
        down = time.monotonic()
        eventually(lambda: receiver.of("target_down", "resolved"), "target_down resolved", timeout=30)
        back = time.monotonic() - down
        wd.settle()
        exactly_once(receiver, [("jobs_stuck", "firing"), ("target_down", "firing"), ("target_down", "resolved")])
        return (f"database stopped {seconds:.0f}s: target_down firing+resolved once ({back:.1f}s after the start), "
                f"jobs_stuck firing once, {len(receiver.pages)} pages, 0 duplicates")


def receiver_outage(cluster: Cluster, seconds: float) -> str:
    with scene("receiver") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_receiver")
        receiver.status = 503
        daemons.append(wd := Watchdog(workdir, "watchdog", rules(workdir, dsn, receiver.url), str(workdir / "state.db")))
        sql(dsn, INCIDENT)
        eventually(lambda: receiver.refused >= 1, "a refused delivery", timeout=15)
        sql(dsn, FIX)
        eventually(lambda: "alert jobs_stuck resolved" in wd.text(), "the resolve to be queued", timeout=15)
        time.sleep(seconds)
        refused = receiver.refused
        receiver.status = 200
        eventually(lambda: len(receiver.pages) >= 2, "both pages after the outage", timeout=60)
        wd.settle()
        exactly_once(receiver, [("jobs_stuck", "firing"), ("jobs_stuck", "resolved")])
        check([p[1] for p in receiver.pages] == ["firing", "resolved"], f"out of order: {receiver.pages}")
        return (f"receiver answered 503 for {seconds:.0f}s ({refused} refused attempts): firing then resolved, "
                f"each delivered once, in order")


def kill_mid_delivery(cluster: Cluster, seconds: float) -> str:
    names = ("stuck_a", "stuck_b", "stuck_c")
    with scene("kill") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_kill")
        path, state = rules(workdir, dsn, receiver.url, names), str(workdir / "state.db")
        daemons.append(first := Watchdog(workdir, "first", path, state))
        receiver.hang = seconds  # the first delivery is received and left unanswered
        sql(dsn, INCIDENT)
        eventually(lambda: receiver.pages, "a delivery under way", timeout=15)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        in_flight = len(receiver.pages)
        receiver.hang = 0.0
        sql(dsn, FIX)
        daemons.append(second := Watchdog(workdir, "second", path, state))
        eventually(lambda: all(receiver.of(n, "resolved") for n in names), "every resolve after the restart", timeout=60)
        second.settle()
        keys = {(p[3], p[1]) for p in receiver.pages}
        check(keys == {(n, s) for n in names for s in ("firing", "resolved")}, f"lost or unexpected pages: {sorted(keys)}")
        duplicates = receiver.duplicates()
        return (f"kill -9 with {in_flight} delivery(ies) unanswered, restart: all {len(names)} firing + {len(names)} "
                f"resolved delivered, {duplicates} duplicate(s) (at least once: the unanswered one may come again)")


def frozen_database(cluster: Cluster, seconds: float) -> str:
    with scene("frozen") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_frozen")
        path = rules(workdir, dsn, receiver.url, target=", statement_timeout: 1s")
        daemons.append(wd := Watchdog(workdir, "watchdog", path, str(workdir / "state.db")))
        stopped, healthy, frozen_until = cluster.signal_all(signal.SIGSTOP), Counter[int](), time.monotonic() + seconds
        try:
            while time.monotonic() < frozen_until:  # /-/healthy as a probe would see it, every half second
                healthy[wd.status("/-/healthy")] += 1
                time.sleep(0.5)
        finally:
            cluster.signal_all(signal.SIGCONT)
        eventually(lambda: receiver.of("target_down", "resolved"), "target_down resolved after SIGCONT", timeout=30)
        eventually(lambda: wd.status("/-/healthy") == 200, "/-/healthy 200 again", timeout=30)
        wd.settle()
        check("no answer from the database" in wd.text(), "no rule error saying the database did not answer")
        firing = Counter(p[3] for p in receiver.pages if p[1] == "firing")
        resolved = Counter(p[3] for p in receiver.pages if p[1] == "resolved")
        check(firing["target_down"] == 1 and firing == resolved, "target_down not paged and resolved once, or a page left firing")
        check(healthy[503] > 0, f"/-/healthy never 503 while frozen: {dict(healthy)}")
        twice = {(k[2], k[1]): n for k, n in Counter((p[0], p[1], p[3]) for p in receiver.pages).items() if n > 1}
        check(not twice, f"paged more than once by fingerprint and status: {twice} (firing {dict(firing)})")
        return (f"SIGSTOP of {stopped} server processes for {seconds:.0f}s: rules errored (no answer), "
                f"pages {dict(firing)} each fired and resolved once, /-/healthy {dict(healthy)} while frozen, 200 after")


def state_unwritable(cluster: Cluster, seconds: float) -> str:
    """A full disk while running (RLIMIT_FSIZE 0 on the daemon: every write of a file fails with
    EFBIG, as tests/runtime does), then room again; a read-only state at start, as tests/commands
    does (a read-only bind mount for root, who ignores modes). A file system cannot turn read-only
    under a running daemon without privileges, nor be remounted so while it holds the file open."""
    with scene("state") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_state")
        path, state = rules(workdir, dsn, receiver.url), workdir / "state.db"
        daemons.append(wd := Watchdog(workdir, "watchdog", path, str(state)))
        resource.prlimit(wd.process.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        sql(dsn, INCIDENT)
        eventually(lambda: receiver.of("jobs_stuck", "firing"), "the page with the disk full", timeout=20)
        eventually(lambda: receiver.of("state_unwritable", "firing"), "state_unwritable paged", timeout=20)
        eventually(lambda: wd.status("/-/healthy") == 503, "/-/healthy 503", timeout=20)
        time.sleep(seconds)
        resource.prlimit(wd.process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        eventually(lambda: receiver.of("state_unwritable", "resolved"), "state_unwritable resolved", timeout=20)
        eventually(lambda: wd.status("/-/healthy") == 200, "/-/healthy 200 again", timeout=20)
        errors = wd.metric("watchdog_state_errors_total")
        wd.stop()
        check(wd.process.returncode == 0, f"SIGTERM exit {wd.process.returncode}")
        sql(dsn, FIX)  # what was kept in memory is on disk now: a restart resolves the incident once
        daemons.append(again := Watchdog(workdir, "again", path, str(state)))
        eventually(lambda: receiver.of("jobs_stuck", "resolved"), "the resolve after the restart", timeout=20)
        again.settle()
        exactly_once(receiver, [(name, status) for name in ("jobs_stuck", "state_unwritable")
                                for status in ("firing", "resolved")])
        full = (f"disk full (RLIMIT_FSIZE 0) for {seconds:.0f}s: jobs_stuck and state_unwritable paged once, "
                f"{errors:.0f} state errors counted, /-/healthy 503, then 200; after a restart the fix resolved once")
    with scene("readonly") as (workdir, receiver, daemons):
        path, state = rules(workdir, cluster.schema("soak_readonly"), receiver.url), workdir / "state" / "state.db"
        state.parent.mkdir()
        argv = [sys.executable, "-m", "watchdog", "run", "--once", "-c", str(path), "--state", str(state)]
        check(subprocess.run(argv, capture_output=True, timeout=60).returncode == 0, "the first --once failed")
        if os.geteuid() == 0:
            d = shlex.quote(str(state.parent))
            argv = ["unshare", "--mount", "sh", "-c", f"mount --bind {d} {d} && mount -o remount,bind,ro {d} && "
                    f"exec {shlex.join(argv)}"]
        else:
            state.parent.chmod(0o555)
            state.chmod(0o444)
        try:
            began = time.monotonic()
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            took = time.monotonic() - began
        finally:
            state.parent.chmod(0o755)
        check(done.returncode == 2 and done.stderr.startswith(f"watchdog: error: cannot use state file {state}: "),
              f"read-only state at start: exit {done.returncode}, {done.stderr[:300]!r}")
    return f"{full}; read-only state at start: exit 2 naming the file in {took:.1f}s"


@contextmanager
def ext4_volume(workdir: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A 16 MiB ext4 file system on a loop device, mounted with errors=remount-ro, and the way to turn
    it read-only under whoever has files open on it: an ext4 error raised through sysfs
    (trigger_fs_error), after which the kernel refuses every write with EROFS, as when a disk fails.
    (A plain `mount -o remount,ro` is refused while a file is open for writing.) Root only."""
    image, mountpoint = workdir / "ext4.img", workdir / "volume"
    with image.open("wb") as out:
        out.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    mountpoint.mkdir()
    subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mountpoint)], check=True, capture_output=True)
    try:
        device = Path(subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(mountpoint)], check=True,
                                     capture_output=True, text=True).stdout.strip()).name

        def fail() -> None:
            Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("watchdog soak\n")

        yield mountpoint, fail
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def readonly_while_running(cluster: Cluster, seconds: float) -> str:
    """The state's file system turns read-only under a running daemon (a real ext4 error): the page is
    still delivered, once, from memory; state_unwritable is paged and /-/healthy turns 503; SIGTERM
    then ends the daemon without hanging, and its last log line says what was never written (a
    daemon started on a new state pages that alert again: at least once, as README says)."""
    if os.geteuid() != 0:
        return "skipped: a loop device and mount need root"
    with scene("rofs") as (workdir, receiver, daemons), ext4_volume(workdir) as (volume, fail):
        dsn = cluster.schema("soak_rofs")
        path, state = rules(workdir, dsn, receiver.url), volume / "state.db"
        daemons.append(wd := Watchdog(workdir, "watchdog", path, str(state)))
        wd.settle()
        fail()
        sql(dsn, INCIDENT)
        eventually(lambda: receiver.of("jobs_stuck", "firing"), "the page on a read-only file system", timeout=20)
        eventually(lambda: receiver.of("state_unwritable", "firing"), "state_unwritable paged", timeout=20)
        eventually(lambda: wd.status("/-/healthy") == 503, "/-/healthy 503", timeout=20)
        time.sleep(seconds)
        wd.settle()
        errors = wd.metric("watchdog_state_errors_total")
        exactly_once(receiver, [("jobs_stuck", "firing"), ("state_unwritable", "firing")])
        began = time.monotonic()
        wd.stop()
        took = time.monotonic() - began
        check(wd.process.returncode is not None and took < 10, f"SIGTERM took {took:.1f}s, exit {wd.process.returncode}")
        check("they are lost" in wd.text(), f"no log line at exit says what the state could not take: {wd.text()[-800:]}")
    return (f"ext4 turned read-only under the daemon: jobs_stuck and state_unwritable paged once each from memory, "
            f"{errors:.0f} state errors counted, /-/healthy 503; SIGTERM ended it in {took:.1f}s (exit {wd.process.returncode})")


def two_replicas(cluster: Cluster, seconds: float) -> str:
    interval = 2.0
    with scene("replicas") as (workdir, receiver, daemons):
        dsn = cluster.schema("soak_replicas")
        path, state = rules(workdir, dsn, receiver.url, interval=interval), f"{dsn}&schema=soak_replicas_state"
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS soak_replicas_state CASCADE")
        daemons.append(leader := Watchdog(workdir, "leader", path, state))
        daemons.append(standby := Watchdog(workdir, "standby", path, state, ready="/-/healthy"))
        eventually(lambda: "standing by" in standby.text(), "the second replica to stand by", timeout=15)
        sql(dsn, INCIDENT)
        eventually(lambda: receiver.of("jobs_stuck", "firing"), "the page from the leader", timeout=15)
        leader.settle(2)
        leader.process.send_signal(signal.SIGKILL)
        leader.process.wait(timeout=10)
        killed = time.monotonic()
        sql(dsn, FIX)
        eventually(lambda: receiver.of("jobs_stuck", "resolved"), "the resolve from the standby", timeout=30)
        took = time.monotonic() - killed
        standby.settle()
        check("taking over" in standby.text(), "the standby never said it was taking over")
        check(took <= 2 * interval, f"resolved {took:.1f}s after the kill, more than 2 intervals ({2 * interval:g}s)")
        exactly_once(receiver, [("jobs_stuck", "firing"), ("jobs_stuck", "resolved")])
        return (f"two replicas on a PostgreSQL state: firing paged once; kill -9 of the leader; the standby "
                f"resolved {took:.1f}s later (interval {interval:g}s); no duplicate")


HOSTILE = {
    "billion-laughs": "version: 1\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" if i else "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in range(10)) + "rules: []\n",
    "recursive-alias": "version: 1\nrules: &r\n  - *r\n",
    "interval-0s": "version: 1\ntargets:\n  main: {dsn: \"sqlite:///x.db\"}\nrules:\n  - {name: x, check: sql, query: SELECT 1, interval: 0s}\n",
}


def hostile_files(cluster: Cluster, seconds: float) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="watchdog-soak-hostile-"))
    seen = []
    try:
        files = {name: workdir / f"{name}.yaml" for name in [*HOSTILE, "100MB"]}
        for name, text in HOSTILE.items():
            files[name].write_text(text, encoding="utf-8")
        with files["100MB"].open("w", encoding="utf-8") as big:
            big.write("version: 1\nrules: []\n")
            line = "# " + "x" * 1021 + "\n"
            big.writelines(line for _ in range(100 * 1024))
        for name, path in files.items():
            began = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "watchdog", "validate", "-c", str(path)],
                                  capture_output=True, text=True, timeout=60)
            took = time.monotonic() - began
            out = done.stdout + done.stderr
            located = any(line.startswith(f"{path}:") and line[len(str(path)) + 1:].split(":")[0].isdigit()
                          for line in out.splitlines())
            check(done.returncode == 2 and located and "Traceback" not in out and took < 10,
                  f"{name}: exit {done.returncode} in {took:.1f}s, output {out[:300]!r}")
            seen.append(f"{name} {took:.1f}s")
        return f"hostile files, each exit 2 with FILE:LINE:COL: {', '.join(seen)}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


CASES: dict[int, tuple[str, Callable[[Cluster, float], str], float]] = {
    1: ("database outage", database_outage, 15),
    2: ("receiver outage", receiver_outage, 10),
    3: ("kill -9 mid-delivery", kill_mid_delivery, 5),
    4: ("frozen database", frozen_database, 20),
    5: ("state unwritable", state_unwritable, 5),
    6: ("two replicas", two_replicas, 0),
    7: ("hostile files", hostile_files, 0),
    8: ("read-only file system while running", readonly_while_running, 5),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="run rounds of the cases this long (at least one)")
    parser.add_argument("--cases", default=",".join(map(str, CASES)), help="comma-separated case numbers")
    args = parser.parse_args()
    chosen = [int(n) for n in args.cases.split(",")]
    cluster = Cluster()
    failures, rounds, began = 0, 0, time.monotonic()
    try:
        while rounds == 0 or time.monotonic() - began < args.minutes * 60:
            rounds += 1
            for number in chosen:
                title, case, seconds = CASES[number]
                started = time.monotonic()
                try:
                    line = f"ok   {case(cluster, seconds)}"
                except AssertionError as exc:
                    failures += 1
                    line = f"FAIL {exc}"
                print(f"[{rounds}.{number}] {title} ({time.monotonic() - started:.0f}s) {line}", flush=True)
    finally:
        cluster.close()
    print(f"{rounds} round(s) in {time.monotonic() - began:.0f}s, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
