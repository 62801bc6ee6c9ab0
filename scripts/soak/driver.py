"""Mixed traffic against the quickstart, with a database outage in the middle (scripts/soak.sh)."""
import argparse
import collections
import http.client
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid

PASSWORD = "correct horse battery"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Client:
    def __init__(self, base, stats, lock):
        url = urllib.parse.urlparse(base)
        self.host, self.port = url.hostname, url.port
        self.stats, self.lock = stats, lock
        self.conn = None

    def call(self, kind, method, path, body=None, headers=None):
        headers = dict(headers or {})
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
        except Exception as err:  # a transport error is counted, not fatal
            self.conn = None
            status, data = f"error:{type(err).__name__}", b""
        took = time.monotonic() - started
        with self.lock:
            self.stats["count"][(kind, status)] += 1
            if status == 503:
                self.stats["slowest_503"] = max(self.stats["slowest_503"], took)
            if isinstance(status, int) and status >= 500 and status != 503:
                self.stats["unexpected"].append((kind, status, data[:200]))
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def journey(self):
        email = f"soak-{uuid.uuid4().hex}@example.com"
        status, _ = self.call("register", "POST", "/auth/register",
                              json.dumps({"email": email, "password": PASSWORD}),
                              {"content-type": "application/json"})
        if status != 201:
            return
        form = urllib.parse.urlencode({"username": email, "password": PASSWORD})
        status, body = self.call("login", "POST", "/auth/jwt/login", form,
                                 {"content-type": "application/x-www-form-urlencoded"})
        if status != 200:
            return
        access, refresh = body["access_token"], body.get("refresh_token")
        for _ in range(5):
            self.call("me", "GET", "/users/me", headers={"authorization": f"Bearer {access}"})
        if refresh:
            status, body = self.call("refresh", "POST", "/auth/jwt/refresh",
                                     json.dumps({"refresh_token": refresh}),
                                     {"content-type": "application/json"})
            if status == 200:
                access = body["access_token"]
        self.call("logout", "POST", "/auth/jwt/logout",
                  headers={"authorization": f"Bearer {access}"})


def main():
    p = argparse.ArgumentParser()
    for name in ["base", "pid", "pg-ctl", "pg-data", "pg-opts", "pg-log", "stop-mode"]:
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--outage", type=float, required=True)
    a = p.parse_args()
    pid = int(a.pid)
    stats = {"count": collections.Counter(), "slowest_503": 0.0, "unexpected": []}
    lock = threading.Lock()
    stop_at = time.monotonic() + a.duration
    rss = {"start": rss_kib(pid)}

    def worker():
        client = Client(a.base, stats, lock)
        while time.monotonic() < stop_at:
            client.journey()

    def as_pg(*cmd):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + list(cmd), check=True, stdout=subprocess.DEVNULL)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, a.duration / 2 - a.outage / 2))
    rss["before outage"] = rss_kib(pid)
    with lock:
        before = collections.Counter(stats["count"])
    as_pg(a.pg_ctl, "-D", a.pg_data, "-m", a.stop_mode, "-w", "stop")
    print(f"-- database stopped ({a.stop_mode}) for {a.outage:.0f} s", flush=True)
    time.sleep(a.outage)
    as_pg(a.pg_ctl, "-D", a.pg_data, "-o", a.pg_opts, "-l", a.pg_log, "-w", "start")
    print("-- database started again", flush=True)
    rss["after outage"] = rss_kib(pid)
    with lock:
        during = stats["count"] - before
    for t in threads:
        t.join()
    rss["end"] = rss_kib(pid)

    print(f"== {a.duration:.0f} s, {a.clients} clients, outage {a.outage:.0f} s")
    print("responses by route and status (whole run):")
    for (kind, status), n in sorted(stats["count"].items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind:9} {status!s:>24} {n:8}")
    print("responses during the outage window:")
    for (kind, status), n in sorted(during.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind:9} {status!s:>24} {n:8}")
    print(f"slowest 503: {stats['slowest_503'] * 1000:.0f} ms")
    print(f"unexpected 5xx (not 503): {len(stats['unexpected'])}")
    for item in stats["unexpected"][:10]:
        print("  ", item)
    print("server RSS (KiB): " + ", ".join(f"{k} {v}" for k, v in rss.items()))


if __name__ == "__main__":
    main()
