#!/usr/bin/env python3
"""Members on three chatd nodes over one Redis (tests/integration/
chatd_redis.sh). Usage:
  chat_nodes.py HOST:PORT HOST:PORT HOST:PORT PID_C REDIS_PORT REDIS_PIDFILE REDIS_LOG [STEPS]
The three addresses are the nodes A, B and C; PID_C is node C's process
(killed -9 in the last step). Redis runs on REDIS_PORT with its pid in
REDIS_PIDFILE: the outage step kills it and starts a new one on the same
port (its pid goes to the same file, for the test's clean-up). STEPS is a
comma list (default all): chat, nick, history, outage, death.

Members: alice (IRC) and dave (plain) on A, bob (plain) on B, carol (IRC)
on C, all in #x. Every line each of them receives is kept, and the end
checks that each line arrived exactly once where it should and never
where it should not. Every wait is bounded."""
import os
import signal
import socket
import subprocess
import sys
import time


def fail(msg):
    print("FAIL: " + msg)
    sys.stdout.flush()
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)
    sys.stdout.flush()


class Peer:
    def __init__(self, name, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=10)
        self.name = name
        self.buf = b""      # not yet matched by expect
        self.all = b""      # everything received
        self.closed = False

    def send(self, line):
        self.s.sendall(line.encode())

    def _fill(self, deadline):
        t = deadline - time.time()
        if t <= 0:
            return False
        self.s.settimeout(min(t, 0.2))
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            self.closed = True
            return False
        if not d:
            self.closed = True
            return False
        if b"PING :" in d:   # IRC keepalive
            for ln in d.split(b"\n"):
                if ln.startswith(b"PING :"):
                    self.s.sendall(b"PONG :" + ln[6:].strip() + b"\r\n")
        self.buf += d
        self.all += d
        return True

    def expect(self, what, timeout=10.0):
        w = what.encode()
        deadline = time.time() + timeout
        while w not in self.buf:
            if not self._fill(deadline) and (self.closed or time.time() >= deadline):
                fail(f"{self.name}: no {what!r} in {timeout} s; got {self.buf[-800:]!r}")
        i = self.buf.index(w)
        j = self.buf.find(b"\n", i)
        j = len(self.buf) if j < 0 else j + 1
        out, self.buf = self.buf[:j], self.buf[j:]
        return out.decode(errors="replace")

    def drain(self, secs=0.5):
        deadline = time.time() + secs
        while self._fill(deadline):
            pass
        self.buf = b""

    def count(self, what):
        return self.all.count(what.encode())


def irc(nick, addr):
    p = Peer(nick, addr)
    p.send(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n")
    p.expect(f" 001 {nick} ")
    p.expect("MOTD")
    return p


def plain(nick, addr):
    p = Peer(nick, addr)
    p.send(nick + "\n")
    p.expect(f"*** welcome, {nick}")
    return p


def join(p, room):
    if p.name in ("alice", "carol"):
        p.send(f"JOIN {room}\r\n")
        p.expect(f" 366 {p.name} {room} ")
    else:
        p.send(f"/join {room}\n")
        p.expect(f"*** {p.name} joined {room}")


def say(p, room, text):
    if p.name in ("alice", "carol"):
        p.send(f"PRIVMSG {room} :{text}\r\n")
    else:
        p.send(text + "\n")


def names(p, room):
    """The member list of room as p sees it (NAMES or /who)."""
    p.drain(0.1)
    if p.name in ("alice", "carol"):
        p.send(f"NAMES {room}\r\n")
        got = p.expect(f" 366 {p.name} {room} ")
        line = [ln for ln in got.splitlines() if " 353 " in ln]
        return set(x.lstrip("@+") for ln in line for x in ln.split(" :", 1)[1].split())
    p.send(f"/who {room}\n")
    got = p.expect(f"*** in {room}: ")
    return set(got.split(f"*** in {room}: ", 1)[1].split())


def wait_names(p, room, want, secs=20):
    deadline = time.time() + secs
    while True:
        got = names(p, room)
        if want <= got:
            return got
        if time.time() > deadline:
            fail(f"{p.name}: NAMES {room} = {sorted(got)}, want {sorted(want)}")
        time.sleep(0.3)


def received(p, text, secs=10):
    deadline = time.time() + secs
    while p.count(text) < 1:
        if not p._fill(deadline) and time.time() >= deadline:
            fail(f"{p.name}: never got {text!r}; last {p.all[-600:]!r}")


def main():
    a_addr, b_addr, c_addr, pid_c, rport, rpidfile, rlog = sys.argv[1:8]
    steps = (sys.argv[8] if len(sys.argv) > 8 else "chat,nick,history,outage,death").split(",")
    alice = irc("alice", a_addr)
    dave = plain("dave", a_addr)
    bob = plain("bob", b_addr)
    carol = irc("carol", c_addr)
    everyone = [alice, dave, bob, carol]
    for p in everyone:
        join(p, "#x")
    who = {"alice", "dave", "bob", "carol"}
    for p in everyone:
        wait_names(p, "#x", who)
    ok("NAMES on every node lists the members of all three")

    # what each peer must have received exactly once (text -> peers)
    once = {}

    if "chat" in steps:
        for p in everyone:
            say(p, "#x", f"hello from {p.name}")
        for p in everyone:
            for q in everyone:
                if q is not p:
                    received(q, f"hello from {p.name}")
                    once.setdefault(f"hello from {p.name}", set()).add(q.name)
        # the dialects' formats, across nodes
        received(carol, ":bob!plain@127.0.0.1 PRIVMSG #x :hello from bob")
        received(bob, "[#x] carol: hello from carol")
        bob.send("/msg carol psst from bob\n")
        received(carol, "PRIVMSG carol :psst from bob")
        once["psst from bob"] = {"carol"}
        ok("lines between nodes, both dialects, private messages")

    if "nick" in steps:
        # frank shares no room with anyone on B: B learns of him from Redis
        frank = irc("frank", c_addr)
        eve = Peer("eve", b_addr)
        eve.send("NICK alice\r\nUSER eve 0 * :eve\r\n")
        eve.expect(" 433 * alice ")
        eve.send("NICK frank\r\n")
        eve.expect(" 433 * frank ")
        eve.send("NICK eve\r\n")
        eve.expect(" 001 eve ")
        plain_eve = Peer("frank", a_addr)   # plain: refused, asked again
        plain_eve.send("frank\n")
        plain_eve.expect("Nickname is already in use")
        plain_eve.expect("nickname? ")
        eve.send("NICK carol\r\n")
        eve.expect(" 433 eve carol ")
        # private messages with no room shared: the nick key names the node
        eve.send("PRIVMSG frank :to frank with no room shared\r\n")
        frank.expect(":eve!~eve@127.0.0.1 PRIVMSG frank :to frank with no room shared")
        frank.send("NOTICE eve :back to eve with no room shared\r\n")
        eve.expect(":frank!~frank@127.0.0.1 NOTICE eve :back to eve with no room shared")
        eve.send("PRIVMSG nobodyhere :lost\r\n")
        eve.expect(" 401 eve nobodyhere ")
        for p in (frank, eve):
            p.drain(0.5)
        if frank.count("with no room shared") != 1 or eve.count("with no room shared") != 1:
            fail("a private message across nodes arrived more than once")
        frank.send("QUIT :bye\r\n")
        frank.s.close()
        deadline = time.time() + 15   # free again once node C saw frank leave
        while True:
            plain_eve.send("frank\n")
            got = plain_eve.expect("***")
            if "welcome, frank" in got:
                break
            plain_eve.expect("nickname? ")
            if time.time() > deadline:
                fail("frank's nick still taken after he left")
            time.sleep(0.3)
        plain_eve.s.close()
        eve.s.close()
        ok("nicks of other nodes are refused (433), in use or not in a shared room; "
           "private messages reach them (401 for nobody)")

    if "history" in steps:
        # #h lives on node A only; gina opens it on node B: the topic and
        # the backlog come from Redis
        alice.send("JOIN #h\r\n")
        alice.expect(" 366 alice #h ")
        alice.send("TOPIC #h :shared topic of h\r\n")
        alice.expect("TOPIC #h :shared topic of h")
        alice.send("PRIVMSG #h :first line of h\r\n")
        alice.send("PRIVMSG #h :\x01ACTION waves in h\x01\r\n")
        alice.send("NAMES #h\r\n")
        alice.expect(" 366 alice #h ")   # the lines went before this answer
        gina = plain("gina", b_addr)
        gina.send("/join #h\n")
        received(gina, "first line of h")
        received(gina, "* alice waves in h")
        received(gina, "topic of #h: shared topic of h (set by alice)")
        gina.drain(0.5)
        for text in ("first line of h", "waves in h", "shared topic of h"):
            if gina.count(text) != 1:
                fail(f"gina got {text!r} {gina.count(text)} times")
        carol.send("TOPIC #x :topic set on C\r\n")
        received(bob, "*** carol set the topic of #x: topic set on C")
        received(alice, ":carol!~carol@127.0.0.1 TOPIC #x :topic set on C")
        once["topic set on C"] = {"alice", "dave", "bob", "carol"}
        gina.s.close()
        alice.send("PART #h\r\n")
        alice.expect("PART #h")
        ok("history and topics shared through Redis")

    if "outage" in steps:
        with open(rpidfile) as f:
            rpid = int(f.read().strip())
        for p in everyone:
            p.drain(0.2)
        os.kill(rpid, signal.SIGKILL)
        for p in everyone:
            received(p, "cross-node delivery paused", 20)
        say(alice, "#x", "while down from alice")
        received(dave, "while down from alice")
        ok("Redis gone: members told once, local delivery goes on")
        with open(rlog, "ab") as log:
            r = subprocess.Popen(["redis-server", "--port", rport, "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no"],
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(rpidfile, "w") as f:
            f.write(str(r.pid))
        for p in everyone:
            received(p, "cross-node delivery is back", 30)
        for p in (bob, carol):
            received(p, "while down from alice", 15)
        once["while down from alice"] = {"dave", "bob", "carol"}
        say(bob, "#x", "after restart from bob")
        for p in (alice, dave, carol):
            received(p, "after restart from bob", 15)
        once["after restart from bob"] = {"alice", "dave", "carol"}
        once["cross-node delivery paused"] = {"alice", "dave", "bob", "carol"}
        once["cross-node delivery is back"] = {"alice", "dave", "bob", "carol"}
        wait_names(alice, "#x", who)
        ok("Redis back: members told once, the queued line and new ones cross")

    if "death" in steps:
        os.kill(int(pid_c), signal.SIGKILL)
        for p, text in ((alice, ":carol!"), (dave, "*** carol quit (node lost)"),
                        (bob, "*** carol quit (node lost)")):
            deadline = time.time() + 40
            while not any(" QUIT :node lost" in ln or "quit (node lost)" in ln
                          for ln in p.all.decode(errors="replace").splitlines()
                          if "carol" in ln):
                if not p._fill(deadline) and time.time() >= deadline:
                    fail(f"{p.name}: no QUIT of carol after node C was killed; "
                         f"last {p.all[-600:]!r}")
        names_now = wait_names(alice, "#x", {"alice", "dave", "bob"})
        if "carol" in names_now:
            fail(f"carol still listed after her node died: {sorted(names_now)}")
        once[":carol!~carol@127.0.0.1 QUIT :node lost"] = {"alice"}
        once["*** carol quit (node lost)"] = {"dave", "bob"}
        ok("a node killed -9: its member quits on the other nodes")
        everyone.remove(carol)

    # nothing twice, nothing where it does not belong
    for p in everyone:
        p.drain(1.0)
    for text, peers in once.items():
        for p in everyone:
            n = p.count(text)
            want = 1 if p.name in peers else 0
            if n != want:
                fail(f"{p.name} got {text!r} {n} times, want {want}")
    ok("every line exactly once where it belongs")


if __name__ == "__main__":
    main()
