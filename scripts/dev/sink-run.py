#!/usr/bin/env python3
"""One `imagedrop run --once` of the bench's sink sets, for profiling a change: nginx-light as the upload sink
(Benchmarks/nginx/sink.conf, on a free loopback port), a fresh drop folder and job table per run, the daemon's CPU
time, wall time and peak RSS printed per run. Alternate two binaries to compare them on a shared machine; wrap the
daemon in a profiler with --wrap. The figures for the issue are `scripts/bench.sh`'s; this is the quick loop. Each
round also prints the upload phase's rate (first to last `uploaded` log line): the wall time holds the start and
`run --once`'s 0.4-0.7 s after its last upload.

    scripts/dev/sink-run.py BIN [BIN2 ...] [--set small|large] [--rounds N] [--workers N]
        [--wrap "perf stat -e context-switches"] [--log-level debug --show "written behind"]

small: 2,000 PNGs of ~50 KB, 8 workers; large: 50 of ~8 MB, 64 workers (the bench's two sets). The images are
made once per set in the scratch folder (PNG, stored zlib blocks of random pixels).
"""
import argparse
import datetime
import os
import shlex
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETS = {"small": (2000, 100, 125, 8), "large": (50, 1000, 2000, 64)}


def png(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + os.urandom(width * 4) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def images(scratch, name):
    count, width, height, _ = SETS[name]
    folder = os.path.join(scratch, "src-" + name)
    if not os.path.isdir(folder):
        os.makedirs(folder)
        for index in range(count):
            with open(os.path.join(folder, "img%06d.png" % index), "wb") as out:
                out.write(png(width, height))
    return folder


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(scratch):
    port = free_port()
    folder = os.path.join(scratch, "nginx")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(ROOT, "Benchmarks/nginx/sink.conf")) as template:
        conf = template.read().replace("@PORT@", str(port)).replace("@DIR@", folder)
    with open(os.path.join(folder, "sink.conf"), "w") as out:
        out.write(conf)
    process = subprocess.Popen(
        ["/usr/sbin/nginx", "-p", folder, "-c", folder + "/sink.conf", "-e", folder + "/error.log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.02)
    process.kill()
    sys.exit("nginx did not listen; is nginx-light installed?")


def run_once(binary, source, port, workers, scratch, wrap, log_level="info", show=None):
    run = tempfile.mkdtemp(prefix="run-", dir=scratch)
    inbox = os.path.join(run, "inbox")
    subprocess.run(["cp", "-r", source, inbox], check=True)
    config = os.path.join(run, "config.toml")
    with open(config, "w") as out:
        out.write(f"""[cloudflare]
account_id = "023e105f4ecef8ad9ca31a8372d0c353"
api_base_url = "http://127.0.0.1:{port}/client/v4"
[images]
id = "content-hash"
[watch]
paths = ["{inbox}"]
settle_ms = 200
rescan_interval_s = 600
[queue]
database = "{run}/jobs.db"
[upload]
workers = {workers}
max_workers = {workers}
requests_per_5min = 0
request_timeout_s = 120
[log]
level = "{log_level}"
format = "text"
""")
    environment = dict(os.environ, CLOUDFLARE_API_TOKEN="sink-run-token-0123456789abcdefghij")
    started = time.monotonic()
    with open(os.path.join(run, "log.txt"), "w") as log:
        child = subprocess.Popen(
            shlex.split(wrap) + [binary, "run", "--once", "--config", config], env=environment, stdout=log,
            stderr=subprocess.STDOUT)
        # The peak RSS from /proc (VmHWM only grows), not from wait4: a child forked from this Python carries
        # Python's own peak (45 MiB) through its exec into ru_maxrss. Under --wrap it is the wrapper's.
        peak_kib = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            try:
                with open(f"/proc/{child.pid}/status") as proc:
                    for line in proc:
                        if line.startswith("VmHWM:"):
                            peak_kib = max(peak_kib, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.01)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    cpu = usage.ru_utime + usage.ru_stime
    rate = upload_rate(os.path.join(run, "log.txt"))
    if show:
        with open(os.path.join(run, "log.txt"), errors="replace") as log:
            for line in log:
                if show in line:
                    print("  " + line.rstrip(), flush=True)
    subprocess.run(["rm", "-rf", run])
    return child.returncode, wall, cpu, peak_kib / 1024, rate


def upload_rate(log_path):
    """Files/s from the first `uploaded` log line to the last: the wall time of a run also holds the start and the
    0.4-0.7 s `run --once` takes after its last upload to see that nothing new arrived and to stop."""
    stamps = []
    with open(log_path, errors="replace") as log:
        for line in log:
            if 'msg="uploaded"' in line:
                stamps.append(datetime.datetime.strptime(line[:24], "%Y-%m-%dT%H:%M:%S.%fZ"))
    if len(stamps) < 2 or stamps[-1] == stamps[0]:
        return None
    return len(stamps) / (stamps[-1] - stamps[0]).total_seconds()


def page_in_by_exec(binary):
    """The binary's pages as a daemon started at boot finds them: written out, dropped from the page cache, then
    brought back by one run's exec faults. A file just written (the linker, `cp`) or read (`cat`) sits in the cache
    in large folios, and a fault maps a whole folio: the same daemon then counts up to 4.5 MiB more code resident
    (Benchmarks/ProcessHarness/PageCache.swift)."""
    descriptor = os.open(binary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)
    subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--set", choices=sorted(SETS), default="small")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, help="instead of the set's own (8 small, 64 large)")
    parser.add_argument("--wrap", default="", help="a command the daemon runs under (perf stat, strace -c, ...)")
    parser.add_argument("--log-level", default="info", help="the daemon's [log] level (debug shows the writer's batches)")
    parser.add_argument("--show", help="print the daemon's log lines that contain this text")
    parser.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "imagedrop-sink-run"))
    options = parser.parse_args()
    os.makedirs(options.scratch, exist_ok=True)
    source = images(options.scratch, options.set)
    workers = options.workers or SETS[options.set][3]
    sink, port = start_sink(options.scratch)
    cpus = {binary: [] for binary in options.binaries}
    rates = {binary: [] for binary in options.binaries}
    try:
        for binary in options.binaries:
            page_in_by_exec(binary)
        for round_index in range(options.rounds):
            for binary in options.binaries:
                status, wall, cpu, rss, rate = run_once(
                    binary, source, port, workers, options.scratch, options.wrap, options.log_level, options.show)
                cpus[binary].append(cpu)
                if rate:
                    rates[binary].append(rate)
                shown = f"{rate:.0f} files/s" if rate else "no upload rate"
                print(f"round {round_index + 1} {binary}: exit {status}, wall {wall:.2f} s, CPU {cpu:.2f} s, "
                      f"peak RSS {rss:.1f} MiB, upload phase {shown}", flush=True)
    finally:
        sink.terminate()
    for binary, values in cpus.items():
        values.sort()
        print(f"{binary}: CPU median {values[len(values) // 2]:.2f} s of {len(values)} ({', '.join('%.2f' % v for v in values)})")
        shown = sorted(rates[binary])
        if shown:
            print(f"{binary}: upload phase median {shown[len(shown) // 2]:.0f} files/s ({', '.join('%.0f' % v for v in shown)})")


if __name__ == "__main__":
    main()
