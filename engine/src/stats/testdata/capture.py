"""Captures HAProxy's stats fixtures at one moment (see README.md)."""
import socket, subprocess, sys, time

SOCK = "/tmp/haproxy-2.6-stats.sock"
METRICS = "http://127.0.0.1:29083/metrics"


def cli(*cmds):
    """Runs the commands on one connection, returns each answer."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(SOCK)
    s.sendall((";".join(cmds) + "\n").encode())
    out = b""
    while d := s.recv(65536):
        out += d
    parts = out.decode().split("\n\n")[:-1]
    assert len(parts) == len(cmds)
    return [p + "\n\n" for p in parts]


def get(query=""):
    return subprocess.run(["curl", "-s", METRICS + query], capture_output=True, check=True).stdout.decode()


def without_prom(csv):
    return [l for l in csv.split("\n") if not l.startswith("prom,")]


def uptime(info):
    return [l for l in info.split("\n") if l.startswith("Uptime_sec")]


for _ in range(50):
    csv, typed, js = cli("show stat", "show stat typed", "show stat json")
    info, info_typed, info_json = cli("show info", "show info typed", "show info json")
    metrics = get()
    scoped = get("?scope=server&scope=global&no-maint")
    (csv2,) = cli("show stat")
    (info2,) = cli("show info")
    # Nothing moved meanwhile (but the exporter's own frontend), no check running.
    if without_prom(csv) == without_prom(csv2) and "* " not in csv and uptime(info) == uptime(info2):
        break
    time.sleep(0.3)
else:
    sys.exit("no stable capture")

for name, text in {
    "haproxy-2.6-stat.csv": csv,
    "haproxy-2.6-stat.typed": typed,
    "haproxy-2.6-stat.json": js,
    "haproxy-2.6-info.txt": info,
    "haproxy-2.6-info.typed": info_typed,
    "haproxy-2.6-info.json": info_json,
    "haproxy-2.6-metrics.txt": metrics,
    "haproxy-2.6-metrics-server-global-no-maint.txt": scoped,
}.items():
    with open(name, "w") as f:
        f.write(text)
