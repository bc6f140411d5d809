"""`make bench`: wall time and peak memory of real ansible-playbook runs, in one run, with ratios.

For the embedded store (sqlite) and the Identity emulator, with declared configs of 1, 100,
1,000 and 10,000 organizations (each with its own password): the empty playbook (the floor),
the first apply, a re-apply with no change, and the drift check (check mode). The baseline is
the naive approach a user would otherwise write, one `settings` task per organization in a loop,
at 100 organizations. Peak memory is the largest resident set of a module process, recorded by
a wrapper interpreter. Prints a table and writes benchmarks/results.md.

    python benchmarks/bench.py [--sizes 1,100,1000,10000] [--identity-sizes 1,100,1000] [--naive 100]
"""
import argparse
import datetime
import json
import os
import platform
import resource
import stat
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)

from tests.lib.ansible_runner import build_and_install  # noqa: E402
from tests.lib.identity_emulator import IdentityEmulator  # noqa: E402

WRAPPER = """#!%(python)s
import resource, subprocess, sys
code = subprocess.call([%(python)r] + sys.argv[1:])
with open(%(log)r, "a") as handle:
    handle.write("%%d\\n" %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


class Bench(object):
    def __init__(self, workdir):
        self.workdir = workdir
        self.collections = build_and_install(os.path.join(workdir, "collections"))
        self.rss_log = os.path.join(workdir, "rss.log")
        wrapper = os.path.join(workdir, "python-rss")
        with open(wrapper, "w") as handle:
            handle.write(WRAPPER % {"python": sys.executable, "log": self.rss_log})
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
        self.inventory = os.path.join(workdir, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % wrapper)
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_NOCOLOR="1")
        self.count = 0

    def play(self, tasks, defaults=None):
        self.count += 1
        path = os.path.join(self.workdir, "play%03d.yml" % self.count)
        play = {"hosts": "localhost", "gather_facts": False, "tasks": tasks}
        if defaults:
            play["module_defaults"] = {"group/mailops.orchestrator_email.orchestrator_email": defaults}
        with open(path, "w") as handle:
            yaml.safe_dump([play], handle)
        return path

    def run(self, playbook, *args):
        """(wall seconds, peak module RSS in MB, CPU seconds of every process of the run)."""
        if os.path.exists(self.rss_log):
            os.unlink(self.rss_log)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, playbook] + list(args),
                              env=self.env, capture_output=True, text=True, cwd=self.workdir, check=False)
        elapsed = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit("bench: %s failed:\n%s" % (playbook, (proc.stdout + proc.stderr)[-3000:]))
        peak = 0
        if os.path.exists(self.rss_log):
            with open(self.rss_log) as handle:
                peak = max([int(x) for x in handle.read().split()] or [0])
        return elapsed, peak / 1024.0, cpu

    def best(self, repeat, playbook, *args):
        """The fastest of ``repeat`` runs (the machine is shared: the minimum is the least disturbed)."""
        runs = [self.run(playbook, *args) for _attempt in range(max(1, repeat))]
        return min(runs)


def declared(n, partitions=False):
    orgs = {}
    for i in range(n):
        org = {"smtp_host": "relay%d.example.com" % (i % 50), "smtp_port": 587, "secure": True,
               "smtp_username": "mailer%d@example.com" % i, "smtp_password": "Org-%05d-Secret" % i,
               "from_address": "mailer%d@example.com" % i, "from_display_name": "Org %d" % i}
        if partitions:
            org["partition_id"] = "00000000-0000-4000-8000-%012d" % i
        orgs["org%05d" % i] = org
    return {"host": {"smtp_host": "smtp.example.com", "smtp_port": 587, "secure": True, "smtp_username": "mailer",
                     "smtp_password": "Host-Secret", "from_address": "mailer@example.com"},
            "organizations": orgs}


def measure(bench, label, defaults, n, partitions, rows, repeat=1):
    path = os.path.join(bench.workdir, "%s-%d.yml" % (label.replace(" ", "").replace(",", "-"), n))
    with open(path, "w") as handle:
        yaml.safe_dump(declared(n, partitions), handle)
    play = bench.play([{"mailops.orchestrator_email.settings": {"path": path}}], defaults)
    for step, args in (("first apply", ()), ("re-apply, no change", ()), ("drift check", ("--check", "--diff"))):
        # the first apply can only be measured once; the no-change runs are the best of ``repeat``
        elapsed, peak, cpu = bench.run(play, *args) if step == "first apply" else bench.best(repeat, play, *args)
        rows.append({"store": label, "orgs": n, "step": step, "seconds": elapsed, "peak_mb": peak, "cpu": cpu})
        print("%-8s %6d  %-20s %7.2f s  %6.1f MB  cpu %5.2f s" % (label, n, step, elapsed, peak, cpu), flush=True)


def naive(bench, label, defaults, n, partitions):
    orgs = declared(n, partitions)["organizations"]
    items = []
    for name, org in orgs.items():
        item = dict(org, organization=name)
        items.append(item)
    task = {"mailops.orchestrator_email.settings": dict(
        (key, "{{ item.%s }}" % key) for key in items[0]), "loop": items}
    play = bench.play([task], defaults)
    first, peak, _cpu = bench.run(play)
    again, _peak, _cpu = bench.run(play)
    return first, again, peak


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ansible = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()[0]
    load = os.getloadavg()
    return ("%s, %d cores, Python %s, %s, load average %.2f/%.2f/%.2f at start"
            % (cpu, os.cpu_count(), platform.python_version(), ansible, load[0], load[1], load[2]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100,1000,10000")
    parser.add_argument("--identity-sizes", default="1,100,1000")
    parser.add_argument("--naive", type=int, default=100, help="0: no naive baseline")
    parser.add_argument("--repeat", type=int, default=3, help="no-change runs and floor: best of N")
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "results.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    identity_sizes = [int(s) for s in args.identity_sizes.split(",") if s]
    description = machine()
    with tempfile.TemporaryDirectory(prefix="oe-bench-") as workdir:
        bench = Bench(workdir)
        empty = bench.play([])
        floors = [bench.run(empty) for _attempt in range(args.repeat)]
        print("floor (empty playbook): %.2f s" % min(floors)[0], flush=True)
        rows = []
        sqlite = {"store_path": os.path.join(workdir, "settings.db")}
        for n in sizes:
            sqlite = {"store_path": os.path.join(workdir, "settings-%d.db" % n)}
            measure(bench, "sqlite", sqlite, n, False, rows, args.repeat)
        naive_rows = {}
        if args.naive:
            naive_rows["sqlite"] = naive(bench, "sqlite", {"store_path": os.path.join(workdir, "naive.db")},
                                         args.naive, False)
        # Two identity set-ups: one application that the server lets manage every scope (one token
        # per run), and a real deployment's - the host as the host administrator and each
        # organization with its own external application (one token per application and run).
        with IdentityEmulator(single_client=True) as emulator:
            identity = {"store_type": "identity", "identity_url": emulator.url, "client_id": emulator.client_id,
                        "client_secret": emulator.client_secret}
            for n in identity_sizes:
                measure(bench, "identity", identity, n, True, rows, args.repeat)
                emulator.state.clear()
            if args.naive:
                naive_rows["identity"] = naive(bench, "identity", identity, args.naive, True)
        with IdentityEmulator() as emulator:
            clients = []
            for i in range(max(identity_sizes + [1])):
                client = {"organization": "org%05d" % i, "client_id": "app-%05d" % i,
                          "client_secret": "App-Secret-%05d" % i}
                emulator.add_application(client["client_id"], client["client_secret"],
                                         "00000000-0000-4000-8000-%012d" % i)
                clients.append(client)
            per_org = {"store_type": "identity", "identity_url": emulator.url,
                       "host_admin_username": emulator.host_admin[0], "host_admin_password": emulator.host_admin[1],
                       "organization_clients": clients}
            for n in identity_sizes:
                measure(bench, "identity, app per org", per_org, n, True, rows, args.repeat)
                emulator.state.clear()
        # The floor again at the end: the fastest empty run of the whole benchmark is the floor.
        floors += [bench.run(empty) for _attempt in range(args.repeat)]
        floor, _peak, floor_cpu = min(floors)
        print("floor (empty playbook, best of %d): %.2f s" % (len(floors), floor), flush=True)
        load_end = "%.2f/%.2f/%.2f" % os.getloadavg()

    lines = ["# Benchmark results", "",
             "Generated by `make bench` (benchmarks/bench.py) on %s." % datetime.date.today().isoformat(), "",
             "Machine: %s." % description, "",
             "Floor (an empty playbook): **%.2f s**. Every row is one real `ansible-playbook` run of one "
             "`settings` task with `path:` (host + N organizations, each with its own password); the no-change "
             "runs and the floor are the best of %d. CPU is user + system time of every process of the run "
             "(less sensitive than wall time to other load on the machine; the floor's CPU time is %.2f s). "
             "Load average at the end: %s." % (floor, args.repeat, floor_cpu, load_end), "",
             "| store | organizations | step | wall time (s) | ours / floor | CPU (s) | CPU / floor CPU "
             "| peak module RSS (MB) |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append("| %s | %d | %s | %.2f | %.1fx | %.2f | %.1fx | %.0f |" % (
            row["store"], row["orgs"], row["step"], row["seconds"], row["seconds"] / floor, row["cpu"],
            row["cpu"] / floor_cpu, row["peak_mb"]))
    if naive_rows:
        lines += ["", "Naive baseline: one `settings` task per organization in a loop, %d organizations." % args.naive,
                  "", "| store | step | naive (s) | ours (s) | naive / ours per organization |", "|---|---|---:|---:|---:|"]
        for store, (first, again, _peak) in naive_rows.items():
            ours = dict(((r["store"], r["step"]), r["seconds"]) for r in rows if r["orgs"] == args.naive)
            for step, value in (("first apply", first), ("re-apply, no change", again)):
                mine = ours.get((store, step))
                ratio = "%.0fx" % (value / mine) if mine else "n/a (size %d not measured)" % args.naive
                lines.append("| %s | %s | %.2f | %s | %s |" % (store, step, value, "%.2f" % mine if mine else "-", ratio))
    targets = []
    drift = dict(((r["store"], r["orgs"]), r) for r in rows if r["step"] == "drift check")
    if ("sqlite", 10000) in drift:
        row = drift[("sqlite", 10000)]
        met = row["seconds"] <= 3 * floor and row["peak_mb"] < 150
        values = (row["seconds"] / floor, row["cpu"] / floor_cpu, row["peak_mb"], "met" if met else "missed")
        targets.append("| sqlite, 10,000 organizations, drift check | <= 3x floor, < 150 MB | %.1fx (CPU %.1fx), "
                       "%.0f MB | %s |" % values)
    if ("identity", 1000) in drift:
        row = drift[("identity", 1000)]
        targets.append("| identity emulator, 1,000 organizations, drift check | <= 5x floor | %.1fx (CPU %.1fx) | %s |" % (
            row["seconds"] / floor, row["cpu"] / floor_cpu, "met" if row["seconds"] <= 5 * floor else "missed"))
    if ("identity, app per org", 1000) in drift:
        row = drift[("identity, app per org", 1000)]
        targets.append("| identity emulator, 1,000 organizations with an application each (1,001 token requests), "
                       "drift check | <= 5x floor | %.1fx (CPU %.1fx) | %s |" % (
                           row["seconds"] / floor, row["cpu"] / floor_cpu,
                           "met" if row["seconds"] <= 5 * floor else "missed"))
    if targets:
        lines += ["", "| target | wanted | measured | |", "|---|---|---|---|"] + targets
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    with open(args.output, "w") as handle:
        handle.write(text)
    with open(args.output.replace(".md", ".json"), "w") as handle:
        json.dump({"floor": floor, "rows": rows, "naive": naive_rows, "machine": description}, handle, indent=1)


if __name__ == "__main__":
    main()
