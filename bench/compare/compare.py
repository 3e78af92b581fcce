#!/usr/bin/env python3
"""The side-by-side benchmark's driver (bench/compare/run.sh starts it): fills the
workload, then measures clevertap-sink, the kcat floor, the peer (Benthos) and
talon-ingest in interleaved rounds on this machine, and writes a table (stdout), a
Markdown report and a PNG chart. Every figure is the median of the rounds with min
and max. It never fails on timing; it fails when a drain does not deliver."""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PASSCODE = "bench-passcode"
CEILING_PER_ACCOUNT = 15 * 1000 / 0.3  # 15 requests of 1000 records every 300 ms


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def now_ms():
    return time.time() * 1000.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=3.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def cpu_seconds(pid, system_only=False):
    """utime + stime of a live process (and of its waited-for children); with
    system_only, stime (+ cstime) alone: the kernel's share."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = (fields[12], fields[14]) if system_only else fields[11:15]
    return sum(int(x) for x in ticks) / CLK_TCK


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def wait_for(predicate, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def stop(proc, timeout=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.tmp = tempfile.mkdtemp(prefix="tcb-compare-")
        self.procs = []
        self.runs = []  # one dict per measured run
        self.notes = []
        self.seq = 0

    # ---- helpers -------------------------------------------------------------
    def spawn(self, argv, name, **kw):
        out = open(os.path.join(self.tmp, self.name(name) + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                **kw)
        proc.log_path = out.name
        self.procs.append(proc)
        return proc

    def cleanup(self):
        for proc in self.procs:
            stop(proc, 5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def name(self, prefix):
        self.seq += 1
        return f"{prefix}-{os.getpid()}-{self.seq}"

    # ---- the pieces under test ------------------------------------------------
    def emulator(self, accounts, latency_ms):
        port_file = os.path.join(self.tmp, self.name("emu") + ".port")
        argv = [f"{self.bin}/clevertap-emulator", "--listen", "127.0.0.1:0", "--port-file", port_file,
                "--latency-ms", str(latency_ms), "--log-level", "error", "--max-connections", "256"]
        for k in range(accounts):
            argv += ["--account", f"BENCH-ACC-{k}:{PASSCODE}"]
        proc = self.spawn(argv, "emulator")
        port = wait_for(lambda: read_file(port_file).strip(), 10, "the emulator's port")
        proc.port = int(port)
        return proc

    def emu_stats(self, emu):
        return json.loads(http_get(f"http://127.0.0.1:{emu.port}/stats"))

    def sink_config(self, broker, topic, group, emu, accounts, latency_ms, tuning=None):
        tuning = tuning or {}
        props = ", ".join(f'{k}: "{v}"' for k, v in {**self.args.read_ahead, **tuning.get("props", {})}.items())
        lines = [
            "kafka:",
            f'  brokers: "{broker["bootstrap"]}"',
            f'  topic: "{topic}"',
            f'  dlq_topic: "{topic}.dlq"',
            f'  group_id: "{group}"',
            "  session_timeout_ms: 10000",
            f"  properties: {{ {props} }}",
            "clevertap:",
            "  accounts:",
        ]
        for k in range(accounts):
            lines.append(f'    - {{ name: "acct-{k}", account_id: "BENCH-ACC-{k}", passcode: "{PASSCODE}",'
                         f' region: "eu1", endpoint: "http://127.0.0.1:{emu.port}", max_in_flight: 15 }}')
        lines += [
            f"  request_timeout_ms: {10000 + latency_ms}",
            "sink:",
            '  metrics_listen: "127.0.0.1:0"',
            "  shutdown_timeout_ms: 5000",
        ]
        lines += self.args.sink_extra + tuning.get("sink", [])
        lines.append('log: { level: "info", format: "logfmt" }')
        path = os.path.join(self.tmp, self.name("sink") + ".yaml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start_sink(self, config):
        proc = self.spawn([f"{self.bin}/clevertap-sink", "--config", config], "sink")

        def port():
            if proc.poll() is not None:
                raise RuntimeError("clevertap-sink exited: " + read_file(proc.log_path)[-2000:])
            m = re.search(r"event=sink\.started.*?\(port (\d+)", read_file(proc.log_path))
            return int(m.group(1)) if m else None

        proc.ops_port = wait_for(port, 20, "clevertap-sink's operations port")
        return proc

    def benthos_config(self, broker, topic, group, emu):
        port = free_port()
        if broker["kind"] == "kafka":
            inp = (f"  kafka_franz:\n    seed_brokers: [ \"{broker['bootstrap']}\" ]\n"
                   f"    topics: [ \"{topic}\" ]\n    consumer_group: \"{group}\"\n"
                   "    start_from_oldest: true\n    checkpoint_limit: 8192\n    commit_period: 1s\n")
        else:  # franz-go cannot talk to the mock cluster; Sarama can
            inp = (f"  kafka:\n    addresses: [ \"{broker['bootstrap']}\" ]\n"
                   f"    topics: [ \"{topic}\" ]\n    consumer_group: \"{group}\"\n"
                   "    target_version: 0.10.2.0\n    start_from_oldest: true\n"
                   "    checkpoint_limit: 8192\n    commit_period: 1s\n")
        with open(os.path.join(os.path.dirname(__file__), "benthos.yaml")) as f:
            text = f.read()
        text = (text.replace("__HTTP__", f"127.0.0.1:{port}").replace("__INPUT__\n", inp)
                .replace("__URL__", f"http://127.0.0.1:{emu.port}/1/upload")
                .replace("__ACCOUNT__", "BENCH-ACC-0").replace("__PASSCODE__", PASSCODE))
        path = os.path.join(self.tmp, self.name("benthos") + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path, port

    # ---- one drain -------------------------------------------------------------
    def drain(self, system, broker, topic, records, accounts, members, latency_ms, tuning=None):
        """Drains the pre-filled topic with a fresh consumer group; returns one run."""
        emu = self.emulator(accounts, latency_ms)
        group = self.name(f"bench-{system}")
        watcher = subprocess.Popen(
            [f"{self.bin}/bench-kafka", "watch", broker["bootstrap"], topic, group, str(records),
             str(self.args.drain_timeout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        workers = []
        t_launch = now_ms()
        if system == "sink":
            config = self.sink_config(broker, topic, group, emu, accounts, latency_ms, tuning)
            for _ in range(members):
                workers.append(self.start_sink(config))
        else:
            config, port = self.benthos_config(broker, topic, group, emu)
            proc = self.spawn([self.args.benthos, "-c", config], "benthos")
            proc.ops_port = port
            workers.append(proc)
        t_first = None
        last_cpu = {}
        last_sys = {}
        last_rss = {}
        try:
            while watcher.poll() is None:
                for w in workers:
                    if w.poll() is not None:
                        raise RuntimeError(f"{system} exited early: " + read_file(w.log_path)[-2000:])
                    last_cpu[w.pid] = cpu_seconds(w.pid)
                    last_rss[w.pid] = peak_rss_mib(w.pid)
                if t_first is None and self.emu_stats(emu)["requests"] > 0:
                    t_first = now_ms()
                time.sleep(0.02)
            out, err = watcher.communicate()
            if watcher.returncode != 0:
                raise RuntimeError(f"{system}: the drain did not complete: {err.strip()} {out.strip()}")
            done = json.loads(out)
            for w in workers:
                last_cpu[w.pid] = cpu_seconds(w.pid)
                last_sys[w.pid] = cpu_seconds(w.pid, system_only=True)
                last_rss[w.pid] = peak_rss_mib(w.pid)
            metrics = [self.scrape(w) for w in workers]
            stats = self.emu_stats(emu)
            emu_cpu = cpu_seconds(emu.pid)
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
            for w in workers:
                stop(w)
            stop(emu)
        accepted = stats["records_accepted"]
        if accepted < records:
            raise RuntimeError(f"{system}: the emulator accepted {accepted} of {records} records")
        if t_first is None:
            t_first = t_launch
        seconds = (done["done_ms"] - t_first) / 1000.0
        cpu = sum(last_cpu.values())
        p50, p99 = latency_quantiles(system, metrics)
        run = {
            "rate": records / seconds,
            "seconds": seconds,
            "startup_s": (t_first - t_launch) / 1000.0,
            "cpu_per_m": cpu / (records / 1e6),
            "system_cpu_per_m": sum(last_sys.values()) / (records / 1e6),
            "rss_mib": max(last_rss.values()),
            "p50_ms": p50,
            "p99_ms": p99,
            # cores the process(es) kept busy from launch to the end of the drain: near
            # 1.0 per member means the one loop thread is the limit
            "cores_busy": cpu / ((done["done_ms"] - t_launch) / 1000.0),
            "emulator_cpu_per_m": emu_cpu / (records / 1e6),
            "accepted": accepted,
            "duplicates": accepted - records,
            "http_429": stats["status"].get("429", 0),
        }
        if latency_ms > 0:
            run["ceiling_pct"] = 100.0 * run["rate"] / (CEILING_PER_ACCOUNT * accounts)
        return run

    def scrape(self, w):
        path = "/metrics"
        try:
            return http_get(f"http://127.0.0.1:{w.ops_port}{path}")
        except OSError:
            return ""

    def kcat(self, broker, topic, records):
        argv = ["/usr/bin/time", "-f", "%e %U %S %M", "kcat", "-C", "-b", broker["bootstrap"], "-t", topic,
                "-o", "beginning", "-e", "-q"]
        for k, v in self.args.read_ahead.items():
            argv += ["-X", f"{k}={v}"]
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=self.args.drain_timeout)
        last = proc.stderr.strip().splitlines()[-1].split()
        seconds, user, system, rss_kib = float(last[0]), float(last[1]), float(last[2]), int(last[3])
        return {"rate": records / seconds, "seconds": seconds, "cpu_per_m": (user + system) / (records / 1e6),
                "rss_mib": rss_kib / 1024.0}

    # ---- ingest --------------------------------------------------------------
    def ingest(self, target, broker, conns):
        if target == "floor":
            port = free_port()
            proc = self.spawn([f"{self.bin}/ingest-bench-floor", str(port)], "floor")
            wait_for(lambda: port_open(port), 10, "the floor's port")
            return self.wrk(proc, port, conns)
        port_file = os.path.join(self.tmp, self.name("ingest") + ".ports")
        config = os.path.join(self.tmp, self.name("ingest") + ".yaml")
        with open(config, "w") as f:
            f.write(f"""kafka:
  brokers: "{broker['bootstrap']}"
  topic: "{broker['ingest_topic']}"
clevertap:
  accounts:
    - {{ name: "acct-0", account_id: "BENCH-ACC-0", passcode: "{PASSCODE}", region: "eu1" }}
ingest:
  listen: "127.0.0.1:0"
  metrics_listen: "127.0.0.1:0"
  max_connections: 1024
log: {{ level: "warn" }}
""")
        proc = self.spawn([f"{self.bin}/talon-ingest", "--config", config, "--port-file", port_file], "ingest")
        ports = wait_for(lambda: dict(re.findall(r"(\w+)_PORT=(\d+)", read_file(port_file))) or None, 20,
                         "talon-ingest's ports")
        ops = int(ports["OPS"])
        wait_for(lambda: ready(ops), 30, "talon-ingest /readyz")
        try:
            return self.wrk(proc, int(ports["WEBHOOK"]), conns)
        finally:
            stop(proc)

    def wrk(self, proc, port, conns):
        lua = os.path.join(os.path.dirname(__file__), "..", "ingest", "post.lua")
        try:
            out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{self.args.ingest_seconds}s", "--latency",
                                  "-s", lua, f"http://127.0.0.1:{port}/1/upload"], capture_output=True, text=True,
                                 timeout=self.args.ingest_seconds + 60).stdout
            rss = peak_rss_mib(proc.pid)
        finally:
            stop(proc)
        total = int(re.search(r"(\d+) requests in", out).group(1))
        secs = float(re.search(r"requests in ([\d.]+)(m?s)", out).group(1))
        if re.search(r"requests in [\d.]+ms", out):
            secs /= 1000.0
        non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
        errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
        return {"rate": (total - non2xx) / secs, "p50_ms": wrk_ms(out, "50%"), "p99_ms": wrk_ms(out, "99%"),
                "non2xx": non2xx, "errors": errors, "rss_mib": rss}


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def ready(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).status == 200
    except OSError:
        return False


def wrk_ms(out, label):
    m = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def histogram(texts, name):
    """Cumulative bucket counts of NAME summed over every label set and text."""
    buckets = {}
    for text in texts:
        for m in re.finditer(rf'^{name}_bucket\{{[^}}]*le="([^"]+)"\}} ([\d.e+]+)$', text, re.M):
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = buckets.get(le, 0) + float(m.group(2))
    return sorted(buckets.items())


def quantile(buckets, q):
    """Linear interpolation inside the bucket where the quantile falls (Prometheus style)."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return None


def latency_quantiles(system, texts):
    if system == "sink":
        b = histogram(texts, "tcb_upload_request_seconds")
        q = [quantile(b, 0.5), quantile(b, 0.99)]
        return [None if x is None else x * 1000 for x in q]
    # Benthos: output_latency_ns is a summary with quantiles
    found = {}
    for text in texts:
        for m in re.finditer(r'^output_latency_ns\{[^}]*quantile="([\d.]+)"[^}]*\} ([\d.e+]+)$', text, re.M):
            found[m.group(1)] = float(m.group(2)) / 1e6
    return [found.get("0.5"), found.get("0.99")]


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--benthos", default="")
    ap.add_argument("--kafka", default="", help="bootstrap of the real broker ('' = none: dev broker only)")
    ap.add_argument("--dev", required=True, help="bootstrap of kafka-dev-broker")
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ingest-seconds", type=int, default=10)
    ap.add_argument("--drain-timeout", type=int, default=600)
    ap.add_argument("--accounts", default="1,2,4")
    ap.add_argument("--members", default="1,2")
    ap.add_argument("--latencies", default="0,300")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: peer,ingest,dev,matrix")
    ap.add_argument("--sink-extra", action="append", default=[], help="YAML lines under sink:")
    ap.add_argument("--out", required=True, help="results JSON path")
    args = ap.parse_args()
    # The same read-ahead for kcat and the sink: kafka-testing/README.md's two (kcat's
    # defaults halve its rate) and the sink's own two defaults, which bound its memory.
    args.read_ahead = {"queued.min.messages": "1000000", "fetch.message.max.bytes": "10485760",
                       "queued.max.messages.kbytes": "8192", "fetch.max.bytes": "1048576"}
    skip = set(filter(None, args.skip.split(",")))
    accounts = [int(x) for x in args.accounts.split(",")]
    members = [int(x) for x in args.members.split(",")]
    latencies = [int(x) for x in args.latencies.split(",")]

    bench = Bench(args)
    real = {"kind": "kafka", "bootstrap": args.kafka, "ingest_topic": "bench.ingest"} if args.kafka else None
    dev = {"kind": "dev", "bootstrap": args.dev, "ingest_topic": "bench.ingest"}
    main_broker = real or dev
    # What each case reads: the mix on the real broker (or the dev broker when there is
    # none), one topic per account count; issue 9's seed-shaped records on the dev broker.
    topics = {k: f"bench.mix.a{k}" for k in accounts}
    seed_topic = "bench.seed"

    cases = []  # (key, label, callable)

    def drain_case(system, broker, topic, acc, mem, lat, label, tuning=None):
        key = f"{system}|{broker['kind']}|{topic}|a{acc}|m{mem}|{lat}ms|{label}"
        cases.append((key, dict(system=system, broker=broker["kind"], topic=topic, accounts=acc, members=mem,
                                latency_ms=lat, label=label, tuned=bool(tuning)),
                      lambda: bench.drain(system, broker, topic, args.records, acc, mem, lat, tuning)))

    cases.append((f"kcat|{main_broker['kind']}|{topics[1]}", dict(system="kcat", broker=main_broker["kind"],
                  topic=topics[1], label="kcat -C -e (floor)"), lambda: bench.kcat(main_broker, topics[1],
                                                                                  args.records)))
    for lat in latencies:
        if "peer" not in skip and args.benthos:
            drain_case("benthos", main_broker, topics[1], 1, 1, lat, f"Benthos 4.27.0, {lat} ms")
        for acc in accounts if "matrix" not in skip else [1]:
            for mem in members if "matrix" not in skip else [1]:
                drain_case("sink", main_broker, topics[acc], acc, mem, lat,
                           f"clevertap-sink, {lat} ms, {acc} acct, {mem} member{'s' if mem > 1 else ''}")
    if "dev" not in skip and real is not None:
        cases.append((f"kcat|dev|{seed_topic}", dict(system="kcat", broker="dev", topic=seed_topic,
                      label="kcat -C -e (floor), dev broker, seed-shaped"),
                      lambda: bench.kcat(dev, seed_topic, args.records)))
        for lat in latencies:
            drain_case("sink", dev, seed_topic, 1, 1, lat, f"clevertap-sink, dev broker, seed-shaped, {lat} ms")
        # The memory knobs: a smaller de-duplication window and Kafka read-ahead.
        for kib in (4096, 2048):
            drain_case("sink", dev, seed_topic, 1, 1, 0,
                       f"clevertap-sink, dev broker, seed-shaped, 0 ms, dedup_window 10000, "
                       f"queued.max.messages.kbytes {kib}",
                       {"sink": ["  dedup_window: 10000"], "props": {"queued.max.messages.kbytes": str(kib)}})
    if "ingest" not in skip:
        for conns in (32, 256):
            for target, broker in (("floor", None), ("kafka", real), ("dev", dev)):
                if target == "kafka" and real is None:
                    continue
                key = f"ingest|{target}|{conns}"
                cases.append((key, dict(system="ingest", target=target, conns=conns,
                                        label=f"ingest {target} {conns} conns"),
                              (lambda t=target, b=broker, c=conns: bench.ingest(t, b, c))))

    results = {k: {"meta": meta, "runs": []} for k, meta, _ in cases}
    loads = []
    try:
        for rnd in range(args.rounds):
            for key, meta, fn in cases:
                loads.append(os.getloadavg()[0])
                log(f"round {rnd + 1}/{args.rounds}: {meta['label']} (load {loads[-1]:.2f})")
                try:
                    run = fn()
                except Exception as e:  # a failed run is reported, not hidden
                    log(f"  FAILED: {e}")
                    results[key].setdefault("failures", []).append(str(e)[:500])
                    continue
                log("  " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in run.items()))
                results[key]["runs"].append(run)
                with open(args.out, "w") as f:
                    json.dump({"cases": results, "loads": loads}, f, indent=1)
    finally:
        bench.cleanup()
    for key, r in results.items():
        r["summary"] = {f: summarize([run.get(f) for run in r["runs"]]) for f in
                        sorted({f for run in r["runs"] for f in run})}
    with open(args.out, "w") as f:
        json.dump({"cases": results, "loads": loads, "records": args.records, "rounds": args.rounds,
                   "read_ahead": args.read_ahead, "kafka": bool(real),
                   "ingest_seconds": args.ingest_seconds}, f, indent=1)


if __name__ == "__main__":
    main()
