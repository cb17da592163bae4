#!/usr/bin/env python3
"""Scripted peers for ipcbox chatd: plain-line users and IRC clients on
sockets. Usage: chat_cases.py HOST:PORT CASE [ARG]. Each case prints
'ok: ...' lines and exits 0, or prints 'FAIL: ...' and exits 1. Every wait
is bounded (15 s for what must arrive, unless a case says otherwise: a
server under a sanitizer on a loaded machine can be slow)."""
import socket
import sys
import time

ADDR = None


class Peer:
    def __init__(self, name="", rcvbuf=0):
        host, port = ADDR
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:   # before connect, so that the window stays small
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(5)
        self.s.connect((host, port))
        self.buf = b""
        self.name = name
        self.closed = False

    def send(self, line):
        self.s.sendall(line.encode() if isinstance(line, str) else line)

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
        self.buf += d
        return True

    def expect(self, what, timeout=15.0):
        """Read until the text what appears; return everything up to and
        including the line holding it."""
        w = what.encode() if isinstance(what, str) else what
        deadline = time.time() + timeout
        while w not in self.buf:
            if not self._fill(deadline) and (self.closed or time.time() >= deadline):
                fail(f"{self.name}: no {what!r} in {timeout} s; got {self.buf[-600:]!r}")
        i = self.buf.index(w)
        j = self.buf.find(b"\n", i)
        j = len(self.buf) if j < 0 else j + 1
        out, self.buf = self.buf[:j], self.buf[j:]
        return out.decode(errors="replace")

    def quiet(self, what, secs=0.6):
        """Fail if what arrives within secs."""
        w = what.encode()
        deadline = time.time() + secs
        while time.time() < deadline:
            if w in self.buf:
                fail(f"{self.name}: unexpected {what!r}: {self.buf[-300:]!r}")
            if not self._fill(deadline):
                break
        if w in self.buf:
            fail(f"{self.name}: unexpected {what!r}")

    def drain(self, secs=0.3):
        deadline = time.time() + secs
        while self._fill(deadline):
            pass
        out, self.buf = self.buf, b""
        return out.decode(errors="replace")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)
    sys.stdout.flush()


def plain(nick, wait_prompt=True):
    p = Peer(nick)
    if wait_prompt:
        p.expect("nickname? ")
    p.send(nick + "\n")
    p.expect("*** welcome, " + nick)
    return p


def irc(nick, join=None, password=None):
    p = Peer(nick)
    if password:
        p.send(f"PASS {password}\r\n")
    p.send(f"CAP LS 302\r\nNICK {nick}\r\nUSER {nick} 0 * :{nick} real\r\n")
    p.expect(" CAP * LS ")
    p.send("CAP END\r\n")
    p.expect(f" 001 {nick} ")
    p.expect(" 005 ")
    p.expect("MOTD")   # 376 End of /MOTD, or 422 MOTD File is missing
    if join:
        p.send(f"JOIN {join}\r\n")
        p.expect(f" 366 {nick} {join} ")
    return p


# ---- cases ---------------------------------------------------------------

def case_plain():
    a = plain("alice")
    a.expect("alice joined #lobby")
    b = plain("bob")
    a.expect("*** bob joined #lobby")
    b.send("hello all\n")
    a.expect("[#lobby] bob: hello all")
    a.send("/me waves\n")
    b.expect("[#lobby] * alice waves")
    a.send("/msg bob psst\n")
    b.expect("[pm] alice: psst")
    a.send("/join #other\n")
    a.expect("alice joined #other")
    b.send("/list\n")
    b.expect("#other (1)")
    a.send("/topic things of note\n")
    a.expect("set the topic of #other: things of note")
    a.send("/who\n")
    a.expect("*** in #other: alice")
    a.send("/part\n")
    a.expect("*** alice left #other")
    a.expect("now talking in #lobby")
    a.send("/nick alicia\n")
    b.expect("*** alice is now known as alicia")
    a.send("/help\n")
    a.expect("/quit")
    a.send("\x1b[2Jsneaky\x07\n")
    line = b.expect("sneaky")
    if "\x1b" in line or "\x07" in line:
        fail(f"control bytes reached a plain user: {line!r}")
    b.send("/quit gone\n")
    a.expect("*** bob quit (gone)")
    ok("plain users: prompt, messages, /me /msg /join /list /topic /who /part /nick /help /quit, "
       "control bytes neutralised")


def case_mixed():
    p = plain("carol")
    i = irc("dave", join="#lobby")
    p.expect("*** dave joined #lobby")
    p.send("hi dave\n")
    i.expect(":carol!plain@127.0.0.1 PRIVMSG #lobby :hi dave")
    i.send("PRIVMSG #lobby :hi carol\r\n")
    p.expect("[#lobby] dave: hi carol")
    i.send("PRIVMSG #lobby :\x01ACTION nods\x01\r\n")
    p.expect("[#lobby] * dave nods")
    i.send("PRIVMSG carol :secret\r\n")
    p.expect("[pm] dave: secret")
    p.send("/msg dave back\n")
    i.expect(":carol!plain@127.0.0.1 PRIVMSG dave :back")
    p.send("/nick caroline\n")
    i.expect(":carol!plain@127.0.0.1 NICK :caroline")
    i.send("NICK David\r\n")
    p.expect("*** dave is now known as David")
    i.expect(":dave!~dave@127.0.0.1 NICK :David")
    p.send("/join #side\n")
    p.expect("*** caroline joined #side")   # first: two workers race otherwise
    i.send("JOIN #side\r\n")
    p.expect("*** David joined #side")
    i.expect(" 366 David #side ")
    i.send("PART #side :later\r\n")
    p.expect("*** David left #side (later)")
    p.send("/part #side\n")
    p.send("/quit bye\n")
    i.expect(":caroline!plain@127.0.0.1 QUIT :bye")
    ok("plain and IRC users in one room see each other's messages, actions, private "
       "messages, joins, parts, nick changes and quits")


def case_irc():
    a = irc("erin", join="#lobby")
    b = irc("frank")
    b.send("JOIN #lobby\r\n")
    names = b.expect(" 366 frank #lobby ")
    if "@erin" not in names or " 353 frank = #lobby :" not in names:
        fail(f"NAMES: {names!r}")
    a.expect(":frank!~frank@127.0.0.1 JOIN #lobby")
    b.send("PING :abc\r\n")
    b.expect("PONG ipcbox.chatd :abc")
    b.send("FOO\r\n")
    b.expect(" 421 frank FOO ")
    b.send("PRIVMSG nobody :x\r\n")
    b.expect(" 401 frank nobody ")
    b.send("PRIVMSG #nowhere :x\r\n")
    b.expect(" 403 frank #nowhere ")
    b.send("JOIN\r\n")
    b.expect(" 461 frank JOIN ")
    b.send("NICK 1bad\r\n")
    b.expect(" 432 frank 1bad ")
    b.send("NICK\r\n")
    b.expect(" 431 frank ")
    b.send("NICK ERIN\r\n")
    b.expect(" 433 frank ERIN ")
    b.send("PART #elsewhere\r\n")
    b.expect(" 403 frank #elsewhere ")
    a.send("TOPIC #lobby :the lobby\r\n")
    b.expect(":erin!~erin@127.0.0.1 TOPIC #lobby :the lobby")
    b.send("TOPIC #lobby :mine now\r\n")
    b.expect(" 482 frank #lobby ")
    b.send("TOPIC #lobby\r\n")
    b.expect(" 332 frank #lobby :the lobby")
    b.expect(" 333 frank #lobby erin ")
    a.send("MODE #lobby +m\r\n")
    b.expect("MODE #lobby +m")
    b.send("PRIVMSG #lobby :muted?\r\n")
    b.expect(" 404 frank #lobby ")
    a.send("MODE #lobby +o frank\r\n")
    b.expect("MODE #lobby +o frank")
    b.send("PRIVMSG #lobby :op speaks\r\n")
    a.expect(":frank!~frank@127.0.0.1 PRIVMSG #lobby :op speaks")
    b.send("MODE #lobby\r\n")
    b.expect(" 324 frank #lobby +mnt")
    b.send("WHO #lobby\r\n")
    who = b.expect(" 315 frank #lobby ")
    if " 352 frank #lobby ~erin 127.0.0.1 ipcbox.chatd erin H@ :0 " not in who:
        fail(f"WHO: {who!r}")
    b.send("LIST\r\n")
    lst = b.expect(" 323 frank ")
    if " 322 frank #lobby 2 :the lobby" not in lst:
        fail(f"LIST: {lst!r}")
    a.send("AWAY :lunch\r\n")
    a.expect(" 306 erin ")
    b.send("PRIVMSG erin :you there?\r\n")
    b.expect(" 301 frank erin :lunch")
    b.send("KICK #lobby erin :bye erin\r\n")
    a.expect(":frank!~frank@127.0.0.1 KICK #lobby erin :bye erin")
    a.send("PRIVMSG #lobby :still here?\r\n")
    a.expect(" 404 erin #lobby ")
    a.send("KICK #lobby frank\r\n")
    a.expect(" 442 erin #lobby ")
    # casemapping: the nick [x] is taken as {X}
    c = irc("[x]")
    d = Peer("d")
    d.send("NICK {X}\r\nUSER d 0 * :d\r\n")
    d.expect(" 433 * {X} ")
    d.send("NICK d2\r\n")
    d.expect(" 001 d2 ")
    d.send("PRIVMSG {X} :case\r\n")
    c.expect(":d2!~d@127.0.0.1 PRIVMSG [x] :case")
    # 512-byte limit: a longer line is refused with 417, the next is fine
    d.send("PRIVMSG [x] :" + "y" * 600 + "\r\nPING :after\r\n")
    d.expect(" 417 d2 ")
    d.expect("PONG ipcbox.chatd :after")
    # commands before registration
    e = Peer("e")
    e.send("NICK early\r\nJOIN #lobby\r\n")
    e.expect(" 451 early ")
    a.send("QUIT :done\r\n")
    a.expect("ERROR :")
    ok("IRC: registration with CAP, NAMES, PING, TOPIC, MODE +m +o, WHO, LIST, AWAY, KICK, "
       "numerics 301 315 324 332 333 352 353 366 401 403 404 417 421 431 432 433 442 451 "
       "461 482, rfc1459 nick casemapping, the 512-byte limit")


def case_nick():
    a = plain("gina")
    b = Peer("gina2")
    b.expect("nickname? ")
    b.send("GINA\n")
    b.expect("GINA: Nickname is already in use")
    b.expect("nickname? ")
    b.send("9lives\n")
    b.expect("9lives: Erroneous nickname")
    b.send("hank\n")
    b.expect("*** welcome, hank")
    i = Peer("irc")
    i.send("NICK Hank\r\nUSER x 0 * :x\r\n")
    i.expect(" 433 * Hank ")
    i.send("NICK ivan\r\n")
    i.expect(" 001 ivan ")
    b.send("/nick IVAN\n")
    b.expect("IVAN: Nickname is already in use")
    a.send("/quit\n")
    b.expect("*** gina quit")   # the server is done with gina: her nick is free
    b.send("/nick Gina\n")
    b.expect("*** hank is now known as Gina")
    ok("nick collisions refused (casemapped, both dialects); a nick is free again after quit")


def case_history():
    a = plain("jack")
    for k in range(5):
        a.send(f"line {k}\n")
    a.send("/me sighs\n")
    a.send("/who\n")
    a.expect("*** in #lobby: ")   # answered in turn: the lines above are history
    b = plain("kate")
    got = b.expect("* jack sighs")
    for k in range(2, 5):
        if f"jack: line {k}" not in got:
            fail(f"history: no line {k} in {got!r}")
    if "line 1" in got:
        fail(f"history kept more than --history 4: {got!r}")
    if not any(c.isdigit() for c in got.split("[#lobby]")[-1][:12]):
        fail(f"history without times: {got!r}")
    i = irc("liam")
    i.send("JOIN #lobby\r\n")
    got = i.expect("* jack sighs")
    if ":ipcbox.chatd NOTICE #lobby :[" not in got or "<jack> line 4" not in got:
        fail(f"IRC history: {got!r}")
    ok("history: the last --history lines replayed on join with times, to plain and IRC")


def case_flood():
    """Flood control: --flood-burst 5 --flood-rate 2. 20 lines at once: the
    first 5 arrive at once, the rest are delayed (not lost while the
    waiting input stays under its bound)."""
    a = plain("mia")
    b = plain("ned")
    a.expect("ned joined")
    t0 = time.monotonic()
    b.send("".join(f"msg {k}\n" for k in range(8)))
    got = a.expect("ned: msg 4")
    a.expect("ned: msg 7")
    # 8 lines, a bucket of at most 5 tokens, 2 a second: msg 7 leaves the
    # server 1.5 s after it took them in (a slow reader sees it later,
    # never sooner; 1 s leaves room for the server's clock of that loop
    # pass); without the delay it comes at once
    took = time.monotonic() - t0
    if took < 1.0:
        fail(f"flood: msg 7 arrived {took:.2f} s after the burst, not held back")
    ok("flood: a burst passes at once, the rest is delayed, nothing lost")
    # past the waiting bound: refused
    c = plain("oscar")
    c.send(("z" * 400 + "\n") * 60)
    c.expect("Excess Flood", timeout=5)
    ok("flood: a client far past its bucket is disconnected (Excess Flood)")


def case_sendq():
    """A member that never reads is disconnected past --sendq; the others
    keep receiving everything, before and after."""
    slow = Peer("slow", rcvbuf=4096)
    slow.send("NICK slow\r\nUSER slow 0 * :s\r\nJOIN #lobby\r\n")
    fast = plain("fast")
    talker = plain("talker")
    fast.expect("talker joined")
    # the kernel's loopback buffers take a few MB before the queue grows
    n, k, seen, quit_at, lines = 40000, 0, "", None, 0
    payload = "x" * 200
    while k < n and (quit_at is None or k < quit_at + 1000):
        talker.send("".join(f"{i} {payload}\n" for i in range(k, k + 100)))
        k += 100
        seen = fast.expect(f"talker: {k - 1} ", timeout=10)
        lines += seen.count("[#lobby] talker: ")
        if quit_at is None and "*** slow quit (SendQ exceeded)" in seen:
            quit_at = k
            got = ""
            deadline = time.time() + 15
            while "ERROR :SendQ exceeded" not in got and time.time() < deadline:
                more = slow.drain(0.3)
                got = got[-300:] + more
                if slow.closed:
                    break
            if "ERROR :SendQ exceeded" not in got:
                fail(f"the slow member saw no ERROR :SendQ exceeded: {got[-200:]!r}")
            ok("sendq: the slow member was disconnected with ERROR :SendQ exceeded")
    if quit_at is None:
        fail("the member that never reads was never disconnected")
    if lines != k:
        fail(f"the others got {lines} lines of {k}")
    ok(f"sendq: the others got all {k} lines (the slow member went after {quit_at})")


def case_limits():
    a = plain("pat")
    a.send("/join #" + "r" * 20 + "\n")
    a.expect("Illegal channel name")
    a.send("/nick " + "n" * 11 + "\n")
    a.expect("Erroneous nickname")
    a.send("/join #a\n/join #b\n")
    a.expect("pat joined #b")
    a.send("/join #c\n")
    a.expect("You have joined too many channels")
    a.send("/topic " + "t" * 50 + "\n")
    got = a.expect("set the topic of #b")
    if "t" * 21 in got or "t" * 20 not in got:
        fail(f"topic not cut at --topic-len 20: {got!r}")
    # --max-per-addr 3: pat is one; two more, then refused
    b = plain("q1")
    c = Peer("q2")
    d = Peer("q3")
    d.expect("ERROR :Closing Link: too many connections from your address")
    c.close()
    ok("limits: room name, nick and topic length, rooms per client, clients per address")


def case_password():
    p = Peer("nopass")
    p.send("NICK np\r\nUSER np 0 * :np\r\n")
    p.expect(" 464 np ")
    p.expect("ERROR :")
    q = irc("withpass", password="sesame")
    r = Peer("plainpass")
    r.expect("nickname? ")
    r.send("pp\n")
    r.expect("password? ")
    r.send("sesame\n")
    r.expect("*** welcome, pp")
    w = Peer("plainbad")
    w.send("pw\nwrong\n")
    w.expect("*** bad password")
    ok("--password: IRC without PASS refused (464), with it registered; plain users are "
       "asked after their nickname")


def case_motd():
    i = Peer("m")
    i.send("NICK motdy\r\nUSER m 0 * :m\r\n")
    i.expect(" 375 motdy ")
    i.expect(" 372 motdy :- " + sys.argv[3])
    i.expect(" 376 motdy ")
    p = plain("motdp")
    p.expect("*** " + sys.argv[3])
    ok("--motd shown to IRC (375/372/376) and plain users")


def case_regtimeout():
    p = Peer("silent")
    p.expect("nickname? ")
    p.expect("registration timed out", timeout=5)
    ok("a client that never registers is closed after --reg-timeout")


def case_ping():
    i = irc("pinged", password=sys.argv[3] if len(sys.argv) > 3 else None)
    i.expect("PING :ipcbox.chatd", timeout=5)
    i.send("PONG :ipcbox.chatd\r\n")
    i.expect("PING :ipcbox.chatd", timeout=5)
    i.expect("Ping timeout", timeout=5)
    ok("keepalive: PING after --ping seconds of silence, closed after as long again")


def case_smoke():
    room = sys.argv[3] if len(sys.argv) > 3 else "#lobby"
    p = plain("smoky")
    p.expect("smoky joined " + room)
    i = irc("smokey", join=room)
    p.expect("smokey joined")
    p.send("via serve\n")
    i.expect(f"PRIVMSG {room} :via serve")
    ok(f"plain and IRC user talk in {room}")


def case_ircpeer():
    """An IRC peer for a real plain client (nc, socat): waits in #lobby
    for the line "hello irc" from ARG, answers "hello ARG", waits for its quit."""
    who = sys.argv[3]
    i = irc("ircpeer", join="#lobby")
    print("ready", flush=True)
    i.expect(f":{who}!plain@127.0.0.1 PRIVMSG #lobby :hello irc", timeout=15)
    i.send(f"PRIVMSG #lobby :hello {who}\r\n")
    i.expect(f":{who}!plain@127.0.0.1 QUIT", timeout=15)
    ok(f"IRC peer and {who} talked")


def case_plainpeer():
    """A plain user for a real IRC client named ARG: waits in #lobby for
    its join and "hello from ARG", answers "hello ARG", sees its nick
    change to ARG2 and its quit."""
    who = sys.argv[3]
    p = plain("plainy")
    print("ready", flush=True)
    p.expect(f"*** {who} joined #lobby", timeout=15)
    p.expect(f"[#lobby] {who}: hello from {who}", timeout=15)
    p.send(f"hello {who}\n")
    p.expect(f"*** {who} is now known as {who}2", timeout=15)
    p.expect(f"*** {who}2 quit", timeout=15)
    ok(f"plain user and the IRC client {who} talked")


def main():
    global ADDR
    host, port = sys.argv[1].rsplit(":", 1)
    ADDR = (host, int(port))
    globals()["case_" + sys.argv[2]]()


if __name__ == "__main__":
    main()
