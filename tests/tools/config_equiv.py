#!/usr/bin/env python3
"""Every option of every service means the same in all three ways.

usage: config_equiv.py IPCBOX WORKDIR

For each service `ipcbox serve --list-services` names, and for each key of
its section in `ipcbox SERVICE --print-config`, pick a value other than the
default and check that the three ways to give it:
    ipcbox SERVICE --KEY VALUE
    ipcbox serve --SERVICE-KEY VALUE
    ipcbox serve --config FILE      ([SERVICE] KEY = VALUE)
are accepted and end with the same value in the printed configuration.
Also checks that a service option the applet refuses is refused by serve
and by the file, with exit status 2 each. Exit 0 when all agree.
"""
import os
import subprocess
import sys

# keys whose values cannot be derived from their defaults
SPECIAL = {
    "dir": "/tmp",
    "cgi": "/cgi-x/",
    "access-log": "off",
    "mime-types": "/etc/mime.types",
    "user": "nobody",
    "token-file": "/nonexistent-token",
    "port-range": "20000:20100",
    "mode": "640",
    "part-ttl": "3h",
    "min-free": "5%",
    "listen": "127.0.0.1:1",
}
SKIP = {"enabled"}  # serve-only


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def section(text, name):
    """key -> list of values of [name] in an INI text (commented keys skipped)."""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            cur = line[1:-1]
        elif cur == name and line and not line.startswith(";"):
            k, _, v = line.partition(" = ")
            out.setdefault(k, []).append(v)
    return out


def keys_of(text, name):
    """Every key of [name], commented (unset) ones included."""
    keys, cur = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            cur = line[1:-1]
        elif cur == name and line:
            k = line.lstrip("; ").split(" ")[0]
            keys.append(k)
    return keys


def candidates(key, default):
    if key in SPECIAL:
        return [SPECIAL[key]]
    if default in ("yes", "no"):
        return ["no" if default == "yes" else "yes"]
    if default is not None and default.isdigit():
        v = int(default)
        return [str(v + 1), str(v - 1) if v > 1 else "2", "1"]
    return ["2", "1", "100"]


def main():
    ipcbox, work = sys.argv[1], sys.argv[2]
    rc, out, _ = run([ipcbox, "serve", "--list-services"])
    assert rc == 0, "serve --list-services failed"
    services = out.split()
    server_keys = {"listen", "model", "workers", "grace", "max-conns", "daemon",
                   "pidfile", "log-file", "quiet", "log-level"}
    checked = 0
    for svc in services:
        rc, base, err = run([ipcbox, svc, "--print-config"])
        assert rc == 0, f"{svc} --print-config: {err}"
        defaults = section(base, svc)
        for key in keys_of(base, svc):
            if key in SKIP or key in server_keys:
                continue
            default = defaults.get(key, [None])[0]
            ok = False
            for val in candidates(key, default):
                if val == default:
                    continue
                rc1, o1, e1 = run([ipcbox, svc, "--print-config", f"--{key}={val}"])
                if rc1 == 2:
                    continue  # out of range: try the next candidate
                assert rc1 == 0, f"{svc} --{key} {val}: exit {rc1}: {e1}"
                got1 = section(o1, svc).get(key)
                rc2, o2, e2 = run([ipcbox, "serve", "--print-config",
                                   f"--{svc}-{key}={val}"])
                assert rc2 == 0, f"serve --{svc}-{key} {val}: exit {rc2}: {e2}"
                got2 = section(o2, svc).get(key)
                ini = os.path.join(work, f"{svc}-{key}.ini")
                with open(ini, "w") as f:
                    f.write(f"[{svc}]\n{key} = {val}\n")
                rc3, o3, e3 = run([ipcbox, "serve", "--config", ini, "--print-config"])
                assert rc3 == 0, f"[{svc}] {key} = {val}: exit {rc3}: {e3}"
                got3 = section(o3, svc).get(key)
                assert got1 is not None and got1 != defaults.get(key), \
                    f"{svc} --{key} {val} changed nothing ({got1})"
                assert got1 == got2 == got3, \
                    f"{svc} {key}={val}: applet {got1}, serve flag {got2}, file {got3}"
                ok = True
                checked += 1
                break
            assert ok, f"{svc} {key}: no candidate value accepted"
        # a refused value is refused the same way everywhere
        bad = "not-a-number"
        for key in keys_of(base, svc):
            d = defaults.get(key, [None])[0]
            if d is None or not d.isdigit():
                continue
            r1 = run([ipcbox, svc, "--print-config", f"--{key}={bad}"])[0]
            r2 = run([ipcbox, "serve", "--print-config", f"--{svc}-{key}={bad}"])[0]
            ini = os.path.join(work, "bad.ini")
            with open(ini, "w") as f:
                f.write(f"[{svc}]\n{key} = {bad}\n")
            r3 = run([ipcbox, "serve", "--config", ini, "--print-config"])[0]
            assert r1 == r2 == r3 == 2, f"{svc} {key}={bad}: exits {r1} {r2} {r3}, want 2"
            break
    print(f"{checked} options agree in the applet, serve flags and the config file")


if __name__ == "__main__":
    main()
