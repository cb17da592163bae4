#!/usr/bin/env python3
"""Attack-pass regressions of ipcbox chatd (each failed on the code before
its fix). Usage: chatd_attack.py HOST:PORT CASE. Peers and helpers come
from chat_cases.py; every wait is bounded."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases as cc  # noqa: E402
from chat_cases import Peer, fail, irc, ok  # noqa: E402


def case_tags():
    """IRCv3 message tags (@a=b;c ...) before a command: the tags are
    skipped, the command runs; a tagged CAP LS as the first line makes an
    IRC client, not a plain user named after it."""
    a = Peer("tagged")
    a.send("@a=b;c CAP LS 302\r\nNICK tagged\r\nUSER u 0 * :x\r\n")
    a.expect(" CAP * LS ")
    a.send("@label=1 CAP END\r\n")
    a.expect(" 001 tagged ")
    a.send("@a=b JOIN #tags\r\n")
    a.expect(" 366 tagged #tags ")
    a.send("@a=b;c=d :tagged PING :tagtoken\r\n")
    a.expect("PONG ipcbox.chatd :tagtoken")
    b = irc("tagb", join="#tags")
    a.send("@+draft/reply=1 PRIVMSG #tags :hello tags\r\n")
    got = b.expect("hello tags")
    if ":tagged!~u@127.0.0.1 PRIVMSG #tags :hello tags\r\n" not in got:
        fail(f"tagged PRIVMSG relayed as {got!r}")
    a.send("@only-tags\r\n@ \r\nPING :after\r\n")
    a.expect("PONG ipcbox.chatd :after")
    ok("IRCv3 tags: skipped on the first line and later ones, the commands run")
    a.close()
    b.close()


def expect_raw(p, pattern, timeout=15.0):
    """The bytes matching pattern (a bytes regex) once they came."""
    deadline = time.time() + timeout
    while True:
        m = re.search(pattern, p.buf)
        if m:
            return m.group(0)
        if not p._fill(deadline) and time.time() >= deadline:
            fail(f"{p.name}: no {pattern!r}; got {p.buf[-300:]!r}")


def case_quitcut():
    """A long QUIT reason is cut on a character boundary: the QUIT line
    the others get is valid UTF-8 (IRC QUIT and plain /quit)."""
    a = irc("cuta", join="#cut")
    b = irc("cutb", join="#cut")
    c = cc.plain("cutc")
    c.send("/join #cut\n")
    a.expect("cutc!")
    b.send(("QUIT :" + "\u00e9" * 200 + "\r\n").encode())
    c.send(("/quit " + "\u20ac" * 150 + "\n").encode())
    for who in ("cutb", "cutc"):
        line = expect_raw(a, f":{who}!".encode() + b"[^ ]* QUIT :[^\n]*\n")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fail(f"QUIT of {who} is not UTF-8: {line[-40:]!r}")
    ok("QUIT reasons cut on a UTF-8 boundary")
    a.close()


def case_targets():
    """PRIVMSG to more than MAXTARGETS=4 distinct targets: the first four
    get it, and the sender hears 407 once for the rest (they were dropped
    without a word); repeated targets still count once."""
    a = irc("tga", join="#tg")
    b = irc("tgb", join="#tg")
    a.expect("tgb!")
    a.send("PRIVMSG #tg,#TG,tgb,#tg,nosuch1,nosuch2,tga,tgb :five\r\n")
    got = a.expect(" 407 tga ")
    if " 407 tga tga :" not in got:
        fail(f"407 names the first target left out: {got!r}")
    if got.count(" 401 ") != 2 or got.count(" 407 ") != 1:
        fail(f"the four processed and one 407: {got!r}")
    a.send("PRIVMSG #tg,tgb,#tg,tgb :four\r\nPING :end\r\n")
    a.quiet(" 407 ", secs=0.5)
    got = b.expect("PRIVMSG tgb :four")
    if got.count(":five") != 2:
        fail(f"tgb got {got!r}")
    ok("PRIVMSG past MAXTARGETS: 407 once, the first four served")
    a.close()
    b.close()


def case_longroom():
    """A plain user sees the whole name of a long room (--room-len 200)
    before each of its lines: two rooms alike for 100 bytes stay apart."""
    base = "#" + "r" * 120
    a = irc("lra", join=base + "A")
    a.send(f"JOIN {base}B\r\n")
    a.expect(f" 366 lra {base}B ")
    p = cc.plain("lrp")
    p.send(f"/join {base}A\n/join {base}B\n")
    p.expect(f"joined {base}B")
    a.send(f"PRIVMSG {base}A :to A\r\nPRIVMSG {base}B :to B\r\n")
    got = p.expect(": to B")
    for r in "AB":
        if f"[{base}{r}] lra: to {r}\n" not in got:
            fail(f"room {r}'s line: {got!r}")
    ok("plain lines name long rooms in full")
    a.close()
    p.close()


def case_emptyparam():
    """An empty first parameter ("JOIN :") is a missing one: 461 (411 for
    PRIVMSG), not silence or a reply naming an empty channel."""
    a = irc("epa")
    a.send("JOIN :\r\nPART :\r\nTOPIC :\r\nMODE :\r\nPRIVMSG :\r\nPING :end\r\n")
    got = a.expect("PONG ipcbox.chatd :end")
    for cmd in ("JOIN", "PART", "TOPIC", "MODE"):
        if f" 461 epa {cmd} :Not enough parameters\r\n" not in got:
            fail(f"no 461 for {cmd} with an empty parameter: {got!r}")
    if " 411 epa :No recipient" not in got:
        fail(f"no 411 for PRIVMSG with an empty target: {got!r}")
    if "  :" in got:
        fail(f"a reply with an empty parameter: {got!r}")
    ok("empty first parameters: 461 / 411")
    a.close()


def case_partname():
    """A plain user's "/part lobby" leaves #lobby (as "/join lobby" joins
    it), not the current room with "lobby" for a reason; a first word
    that names no room of the user's is still the reason."""
    p = cc.plain("ptp")
    p.send("/join #side\n")
    p.expect("ptp joined #side")
    p.send("/part lobby\n")
    got = p.expect("now talking in")
    if "*** ptp left #lobby\n" not in got or "now talking in #side" not in got:
        fail(f"/part lobby: {got!r}")
    p.send("/join #other\n/part see you\n")
    got = p.expect("left #other")
    if "*** ptp left #other (see you)" not in got:
        fail(f"/part REASON: {got!r}")
    ok("plain /part ROOM without '#', and /part REASON")
    p.close()


def case_lateirc():
    """An IRC client silent past the plain prompt (a slow link): the
    "nickname? " it got is ended by a line end as soon as it speaks IRC,
    so that the server's first reply is a line of its own."""
    a = Peer("late")
    a.expect("nickname? ")
    a.send("CAP LS 302\r\nNICK lateirc\r\nUSER u 0 * :x\r\n")
    got = a.expect(" CAP * LS ")
    if not got.startswith("\r\n:ipcbox.chatd CAP * LS "):
        fail(f"the CAP LS reply is glued to the prompt: {got!r}")
    a.send("CAP END\r\n")
    a.expect(" 001 lateirc ")
    ok("the plain prompt is ended before an IRC client's replies")
    a.close()


def case_notice():
    """NOTICE never gets an error reply (RFC 1459 4.4.2): not for a missing
    nick or channel, a +n channel not joined, nor too many targets."""
    a = irc("nta", join="#ntn")
    b = irc("ntb")
    b.send("NOTICE nosuchnick :x\r\nNOTICE #nosuchroom :x\r\nNOTICE #ntn :x\r\n"
           "NOTICE n1,n2,n3,n4,n5 :x\r\nPING :end\r\n")
    got = b.expect("PONG ipcbox.chatd :end")
    for num in (" 401 ", " 403 ", " 404 ", " 407 "):
        if num in got:
            fail(f"an error reply to NOTICE: {got!r}")
    b.send("PRIVMSG nosuchnick :x\r\nPING :end2\r\n")
    got = b.expect("PONG ipcbox.chatd :end2")
    if " 401 ntb nosuchnick " not in got:
        fail(f"PRIVMSG lost its 401: {got!r}")
    ok("NOTICE: no error replies; PRIVMSG keeps them")
    a.close()
    b.close()


def case_emptyme():
    """A plain "/me" without text is a usage error, not an empty action
    relayed to the room and kept in its history (IRC refuses empty text
    with 412)."""
    a = irc("ema", join="#em")
    p = cc.plain("emp")
    p.send("/join #em\n")
    a.expect("emp!")
    p.send("/me\n/me   \n/me waves\n")
    got = p.expect("usage: /me")
    got = a.expect("waves")
    if got.count("ACTION") != 1:
        fail(f"empty actions relayed: {got!r}")
    ok("plain /me without text: usage, nothing relayed")
    a.close()
    p.close()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    cc.ADDR = (host, int(port))
    globals()["case_" + sys.argv[2]](*sys.argv[3:])


if __name__ == "__main__":
    main()
