#!/usr/bin/env python3
"""Regression cases for the review-13 fixes of ipcbox chatd (each failed on
the code before its fix). Usage: chatd_fixes.py HOST:PORT CASE [ARG].
Peers and helpers come from chat_cases.py; every wait is bounded."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases as cc  # noqa: E402
from chat_cases import Peer, fail, irc, ok, plain  # noqa: E402


def case_slowreg():
    """Registration: the deadline is --reg-timeout after the connection
    opened, not 0.5 s after for clients that spoke early."""
    a = Peer("slowreg")
    a.send("NICK slowreg\r\n")
    time.sleep(1.2)
    a.send("USER u 0 * :x\r\n")
    a.expect(" 001 slowreg ")
    b = Peer("capper")
    b.send("CAP LS 302\r\nNICK capper\r\nUSER u 0 * :x\r\n")
    time.sleep(1.2)
    b.send("CAP END\r\n")
    b.expect(" 001 capper ")
    t = plain("taken")
    c = Peer("retry")
    c.send("taken\n")
    c.expect("already in use")
    time.sleep(1.2)
    c.send("other\n")
    c.expect("*** welcome, other")
    ok("registration: NICK then USER 1 s later, slow CAP END, a second nick 1 s later")
    for p in (a, b, t, c):
        p.close()


class Reader:
    """A member that reads everything as fast as it can, in a thread."""
    def __init__(self, peer):
        self.p, self.data, self.stop = peer, b"", False
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        self.p.s.settimeout(0.2)
        while not self.stop:
            try:
                d = self.p.s.recv(1 << 20)
            except OSError:
                continue
            if not d:
                break
            self.data += d

    def wait_count(self, what, n, timeout=30.0):
        """Until what came n times, the connection ended or timeout passed."""
        deadline = time.time() + timeout
        while self.data.count(what) < n and self.t.is_alive() and time.time() < deadline:
            time.sleep(0.05)

    def done(self):
        self.stop = True
        self.t.join()
        return self.data


def case_mode():
    """MODE: one line to the room per command, net changes only, at most
    MODES=4 nick modes; ops flooding MODE do not get readers disconnected."""
    op = irc("opA", join="#amp")
    w = [irc(f"w{k}", join="#amp") for k in range(5)]
    op.send("MODE #amp +nt-t+m+oooo w0 w1 w2 w3\r\n")
    got = w[4].expect("MODE #amp ")
    if "MODE #amp +m-t+oooo w0 w1 w2 w3\r\n" not in got:
        fail(f"merged MODE line: {got!r}")
    w[4].quiet("MODE #amp", secs=0.4)
    op.send("MODE #amp +ooooo w0 w1 w2 w3 w4\r\nMODE #amp +t-t+t-t\r\nMODE #amp +n\r\n")
    w[4].quiet("MODE #amp", secs=0.5)
    ok("MODE: one merged line with net changes; no-op changes and modes past MODES=4 not sent")
    ops = [op] + w[:4]   # w0..w3 are operators now
    vs = [irc(f"v{k}", join="#amp") for k in range(5)]
    for x in ops + vs:
        x.drain(0.1)
    rs = [Reader(v) for v in vs]
    line = ("MODE #amp +" + "t" * 490 + "\r\n") * 8
    junk = ("MODE #amp +" + "tn" * 245 + "\r\n") * 8
    for k, o in enumerate(ops):
        o.send(line if k % 2 else junk)
    time.sleep(1.5)
    for k, r in enumerate(rs):
        d = r.done()
        if b"SendQ" in d:
            fail(f"reader v{k} disconnected: {d[-100:]!r}")
        if d.count(b" MODE ") > 10:
            fail(f"reader v{k} got {d.count(b' MODE ')} MODE lines for 40 commands that change nothing")
    ok("MODE: 40 no-op MODE commands of 490 flags: no amplification, readers stay")


def case_burst():
    """Many talkers' bursts in one loop pass (--sendq 8k): members that read
    stay (a member that never reads is still disconnected: chat_cases.py
    sendq, in chatd_abuse.sh)."""
    slow = Peer("slow", rcvbuf=4096)
    slow.send("NICK slow\r\nUSER slow 0 * :s\r\nJOIN #b\r\n")
    slow.expect(" 366 slow #b ")
    talkers = [irc(f"t{k}", join="#b") for k in range(12)]
    vs = [irc(f"r{k}", join="#b") for k in range(4)]
    for x in talkers + vs:
        x.drain(0.1)
    rs = [Reader(v) for v in vs]
    rt = [Reader(t) for t in talkers]   # talkers read too
    for rnd in range(6):
        for k, t in enumerate(talkers):
            t.send("".join(f"PRIVMSG #b :{rnd} {k} {i} " + "x" * 460 + "\r\n" for i in range(8)))
        time.sleep(0.05)
    for r in rs:   # until every line reached every reader (or it was cut off)
        r.wait_count(b" PRIVMSG #b :", 6 * 12 * 8)
    for r in rt:
        r.done()
    for k, r in enumerate(rs):
        d = r.done()
        if b"SendQ" in d:
            fail(f"reader r{k} disconnected: {d[-100:]!r}")
        n = d.count(b" PRIVMSG #b :")
        if n != 6 * 12 * 8:
            fail(f"reader r{k} got {n} of {6 * 12 * 8} lines")
    ok("bursts: readers got all 576 lines of 500 bytes from 12 talkers with --sendq 8k")


def case_cr():
    """A plain user's bare CR (or any C0) never reaches an IRC client inside
    a line: messages, topics, PART and QUIT reasons, history, CTCP."""
    p = plain("plainer")
    p.send("/join #crr\n")
    p.expect("plainer joined #crr")
    i = irc("watcher", join="#crr")
    p.expect("watcher joined #crr")
    p.send("hello\r:evil!evil@ipcbox.chatd PRIVMSG #lobby :spoofed\n")
    p.send("\x01VERSION\x01\n/topic a\rb\x1b[31m\n/part #crr bye\rZ\n")
    p.send("/join #crr\n/quit q\rQ\n")
    got = i.expect("QUIT :")
    j = irc("late", join="#crr")
    got2 = j.drain(0.5)
    for g in (got, got2):
        raw = g.encode().replace(b"\r\n", b"")
        if b"\r" in raw or b"\x01" in raw or b"\x1b" in raw:
            fail(f"control byte inside an IRC line: {g!r}")
    for w in ("PRIVMSG #crr :hello?:evil", "TOPIC #crr :a?b?[31m", "PART #crr :bye?Z",
              "QUIT :q?Q"):
        if w not in got:
            fail(f"no {w!r} in {got!r}")
    if "hello?:evil" not in got2:
        fail(f"history replay: {got2!r}")
    ok("plain text: CR and other controls masked in messages, topics, reasons, history, CTCP")


def case_longline():
    """Plain lines obey the 512-byte limit however they arrive: in one
    read, or gathered while flood control holds input back."""
    w = irc("w10", join="#t10")
    p = plain("p10")
    p.send("/join #t10\n")
    w.expect("p10!plain@127.0.0.1 JOIN")
    p.drain(0.2)
    p.send("A" * 4000 + "\n" + "short\n")
    p.expect("line too long")
    got = w.expect("PRIVMSG #t10 :short")
    if "AAAA" in got:
        fail("a 4000-byte plain line sent in one write was relayed")
    p.send("B" * 511 + "\n")
    p.expect("line too long")
    p.send("C" * 510 + "\n")
    w.expect("PRIVMSG #t10 :" + "C" * 400)   # relayed (cut to fit the prefix)
    ok("plain: a 4000-byte line in one write and a 511-byte line dropped, 510 bytes pass")
    p.send("x\n" * 25)   # past the burst: input is held back
    time.sleep(0.1)
    p.send("D" * 3000)
    time.sleep(0.05)
    p.send("D" * 3000)
    time.sleep(0.05)
    p.send("D" * 1500 + "\nend\n")
    p.expect("line too long", timeout=10)
    got = w.expect("PRIVMSG #t10 :end", timeout=10)
    if "DDDD" in got:
        fail("a 7500-byte line held back by flood control was relayed")
    ok("plain: a 7500-byte line gathered under flood hold-back dropped")


def case_bounds():
    """--max-rooms-total 3 --history 5 --history-bytes 2000: a fourth room
    is refused; past the byte budget the server's oldest lines go, from
    whichever room holds them."""
    h = plain("hx")
    for r in ("#a", "#b", "#c"):
        h.send(f"/join {r}\n")
        h.expect(f"hx joined {r}")
    h.send("/join #d\n")
    h.expect("Too many rooms on this server")
    for r in ("a", "b"):
        h.send(f"/join #{r}\n")
        h.expect(f"now talking in #{r}")
        h.send("".join(f"{r}{k}" + "y" * 298 + "\n" for k in (1, 2, 3)))
    h.send("/join #c\n")
    h.expect("now talking in #c")
    h.send("c1" + "y" * 298 + "\nc2" + "y" * 298 + "\n")
    h.send("/who\n")
    h.expect("*** in #c: ")   # answered in turn: c1 and c2 are history now
    j = irc("joiner")
    seen = {}
    for r in ("#a", "#b", "#c"):
        j.send(f"JOIN {r}\r\n")
        got = j.expect(f" 366 joiner {r} ")
        got += j.drain(0.4)
        seen[r] = [x.split("> ")[1][:2] for x in got.split("\r\n") if "NOTICE " + r in x and "> " in x]
    want = {"#a": ["a3"], "#b": ["b1", "b2", "b3"], "#c": ["c1", "c2"]}
    if seen != want:
        fail(f"history after the byte budget: {seen} (want {want})")
    ok("bounds: a fourth room refused (--max-rooms-total); the oldest lines of all rooms "
       "dropped past --history-bytes")


def case_bigroom():
    """A room of 400 members with 28-character nicks (--sendq 4k): JOIN,
    NAMES and WHO list every member in 512-byte lines, and the asker is
    not disconnected; plain /who too."""
    n = 400
    nicks = [f"m{k:03d}" + "x" * 24 for k in range(n)]
    ms = []
    for k, nk in enumerate(nicks):
        p = Peer(nk)
        p.send(f"NICK {nk}\r\nUSER u 0 * :u\r\nJOIN #big\r\n")
        ms.append(p)
        if k % 50 == 49:
            time.sleep(0.2)
    for p in ms:   # every member's JOIN is done: the room is whole
        p.expect(f" 366 {p.name} #big ", timeout=30)
    a = irc("asker")

    def names_of(got, num):
        out = set()
        for ln in got.split("\r\n"):
            if f" {num} asker " in ln:
                if len(ln) + 2 > 512:
                    fail(f"a {num} line of {len(ln) + 2} bytes")
                if num == "353":
                    out.update(x.lstrip("@+") for x in ln.split(" :", 1)[1].split())
                else:
                    out.add(ln.split()[7])
        return out

    a.send("JOIN #big\r\n")
    got = a.expect(" 366 asker #big ", timeout=10)
    if names_of(got, "353") != set(nicks) | {"asker"}:
        fail(f"JOIN: {len(names_of(got, '353'))} names of {n + 1}")
    a.send("NAMES #big\r\n")
    got = a.expect(" 366 asker #big ", timeout=10)
    if names_of(got, "353") != set(nicks) | {"asker"}:
        fail(f"NAMES: {len(names_of(got, '353'))} names of {n + 1}")
    a.send("WHO #big\r\n")
    got = a.expect(" 315 asker #big ", timeout=10)
    if names_of(got, "352") != set(nicks) | {"asker"}:
        fail(f"WHO: {len(names_of(got, '352'))} names of {n + 1}")
    a.send("PING :still\r\n")
    a.expect("PONG ipcbox.chatd :still")
    ok(f"big room: JOIN, NAMES and WHO list all {n + 1} members in 512-byte lines; "
       "the asker stays")
    p = plain("pasker")
    p.send("/who #big\n/quit\n")
    got = p.expect("*** bye", timeout=10)
    seen = set()
    for ln in got.split("\n"):
        if ln.startswith("*** in #big: "):
            seen.update(ln[len("*** in #big: "):].split())
    if not set(nicks) <= seen:
        fail(f"plain /who: {len(seen)} names")
    ok("big room: plain /who lists every member over several lines")
    for m in ms:
        m.close()


def case_bulkcap(want="kill"):
    """--sendq-bulk: a client asks WHO of a room of 100, 1200 times,
    without reading (about 12 MB of replies: more than the kernel's socket
    buffers and the default 4 MiB allowance hold together). want=kill (the
    server runs with --sendq-bulk 64k): it is disconnected with SendQ
    exceeded at the end of what it gets, and a member that reads is not;
    want=stay (--sendq-bulk 64m): it keeps its connection and gets every
    reply."""
    n, asks = 100, 1200
    ms = []
    for k in range(n):
        nk = f"b{k:03d}" + "y" * 20
        p = Peer(nk)
        p.send(f"NICK {nk}\r\nUSER u 0 * :u\r\nJOIN #bulk\r\n")
        ms.append(p)
    time.sleep(0.5)
    reader = irc("reader", join="#bulk")
    a = Peer("asker", rcvbuf=4096)
    a.send("NICK asker\r\nUSER u 0 * :u\r\nJOIN #bulk\r\n")
    a.expect(" 366 asker #bulk ", timeout=10)
    a.send("WHO #bulk\r\n" * asks)   # never read while the server answers
    time.sleep(3)
    if want == "kill":
        deadline = time.time() + 30
        while time.time() < deadline:
            if not a._fill(deadline) and a.closed:
                break
        if not a.closed:
            fail(f"the asker is still connected after {asks} unread WHO replies")
        if b"ERROR :SendQ exceeded" not in a.buf[-4096:]:
            fail(f"no SendQ error at the end: {a.buf[-300:]!r}")
        reader.send("PING :alive\r\n")
        reader.expect("PONG ipcbox.chatd :alive", timeout=10)
        ok("bulk replies past --sendq-bulk disconnect the asker (SendQ exceeded); a reader stays")
    else:
        for i in range(asks):
            a.expect(" 315 asker #bulk ", timeout=20)
        a.send("PING :alive\r\n")
        a.expect("PONG ipcbox.chatd :alive", timeout=10)
        ok(f"{asks} unread WHO replies (about 12 MB) stay within --sendq-bulk 64m")
    for m in ms:
        m.close()


def case_prereg():
    """Flood control from the first line (the server runs with --flood-burst
    3 --flood-rate 1): a client that has not registered is held to the
    same rate -- PASS, ten NICK lines and a USER do not register it within
    a second, and it registers once the bucket lets them through."""
    p = Peer("pre")
    p.send("PASS sesame\r\n" + "".join(f"NICK pre{k}\r\n" for k in range(10)) +
           "USER u 0 * :u\r\n")
    p.quiet(" 001 ", secs=1.0)
    p.expect(" 001 pre9 ", timeout=30)
    ok("a client that has not registered is held to the flood rate too")


def case_squat():
    """--password sesame: nobody holds a nick without the password. An IRC
    NICK before PASS is refused (464, closed); a plain user's nickname is
    not taken before its password: a user with the password gets it."""
    sq = Peer("squatter")
    sq.send("NICK admin\r\n")
    sq.expect(" 464 admin ")
    sq.expect("ERROR :")
    ps = Peer("plainsquat")
    ps.expect("nickname? ")
    ps.send("boss\n")
    ps.expect("password? ")          # and never answers
    q = irc("boss", password="sesame")   # the nick is free: no 433
    q.send("PING :x\r\n")
    q.expect("PONG ipcbox.chatd :x")
    r = Peer("plainlegit")
    r.expect("nickname? ")
    r.send("admin\n")
    r.expect("password? ")
    r.send("sesame\n")
    r.expect("*** welcome, admin")
    t = Peer("plaintaken")
    t.expect("nickname? ")
    t.send("boss\n")
    t.expect("password? ")
    t.send("sesame\n")
    t.expect("nickname? ")          # boss is taken (by the IRC user): asked again
    ok("--password: nicks are taken only with the password (IRC PASS first; plain after it)")


def case_long512():
    """IRC replies stay within 512 bytes when they echo long arguments: an
    unknown command of 480 bytes, a 401 for a long target, a 332 of a
    300-byte topic in a room of 200 (the server runs with --room-len 200
    --topic-len 390): 530 bytes uncut."""
    a = irc("longa", password="sesame")
    room = "#" + "r" * 199
    a.send(f"JOIN {room}\r\n")
    a.expect(f" 366 longa {room} ")
    a.send(f"TOPIC {room} :" + "t" * 300 + "\r\n")   # the most a 510-byte line holds
    a.expect(" TOPIC ")
    b = irc("longb", join=room, password="sesame")   # keeps the room (and topic) alive
    a.send("X" * 480 + " arg\r\n")
    a.send("PRIVMSG " + "n" * 400 + " :hi\r\n")
    a.send(f"PART {room}\r\nJOIN {room}\r\nPING :end\r\n")
    got = a.expect("PONG ipcbox.chatd :end")
    lines = [ln for ln in got.split("\r\n") if ln]
    for num in (" 421 ", " 332 "):
        if not any(num in ln for ln in lines):
            fail(f"no{num}reply: {got[-400:]!r}")
    for ln in lines:
        if len(ln.encode()) + 2 > 512:
            fail(f"a line of {len(ln.encode()) + 2} bytes: {ln[:80]!r}...")
    ok("replies that echo long arguments (421, 401, 332) stay within 512 bytes")


def case_termtext():
    """Plain users get text masked as the chat client masks it (termtext):
    8-bit CSI after a high byte, overlong forms, bidi overrides and
    isolates, line separators, surrogates."""
    v = plain("viewer")
    a = irc("attacker", join="#lobby")
    v.expect("attacker joined")
    pays = [b"raw c1 \xff\x9b31m", b"overlong esc \xc0\x9b[31m", b"bidi \xe2\x80\xaeevil",
            b"isolate \xe2\x81\xa6x", b"lsep \xe2\x80\xa8x", b"surrogate \xed\xa0\x80",
            b"colour \x0304,12red\x0f \x04ff0000hex"]
    for p in pays:
        a.send(b"PRIVMSG #lobby :" + p + b"\r\n")
    a.send(b"PRIVMSG #lobby :utf8 \xc3\xa9t\xc3\xa9 end\r\n")
    got = b""
    deadline = time.time() + 15
    while b"end\n" not in got and time.time() < deadline:
        v._fill(deadline)
        got, v.buf = got + v.buf, b""
    lines = got.split(b"\n")
    for p in pays:
        word = p.split(b" ")[0]
        ln = [x for x in lines if b"attacker: " + word in x]
        if not ln or any(ch >= 0x80 for ch in ln[0]):
            fail(f"not masked: {ln!r}")
    if b"[#lobby] attacker: colour red hex" not in got:
        fail(f"formatting codes: {got!r}")
    if "[#lobby] attacker: utf8 été end".encode() not in got:
        fail(f"valid UTF-8 changed: {got!r}")
    ok("plain text masked by termtext's rules: C1, overlong, bidi, separators, surrogates; "
       "UTF-8 kept, IRC formatting dropped")


def case_dups():
    """PRIVMSG #r,#R,#r :x delivers one copy to each member, not three."""
    a = irc("dupa", join="#dup")
    b = irc("dupb", join="#dup")
    a.expect("dupb!")
    a.send("PRIVMSG #dup,#DUP,#dup,dupb,DUPB :once\r\nPRIVMSG #dup :end\r\n")
    got = b.expect("PRIVMSG #dup :end")
    if got.count("PRIVMSG #dup :once") != 1 or got.count("PRIVMSG dupb :once") != 1:
        fail(f"duplicate targets: {got!r}")
    ok("PRIVMSG: a target given several times (any case) gets one copy")


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    cc.ADDR = (host, int(port))
    globals()["case_" + sys.argv[2]](*sys.argv[3:])


if __name__ == "__main__":
    main()
