#!/usr/bin/env python3
"""Two chatd nodes over one Redis, through two Redis outages
(tests/integration/chatd_redis_gaps.sh). Usage:
  chat_nodes_gaps.py HOST:PORT HOST:PORT REDIS_PORT REDIS_PIDFILE REDIS_LOG QUEUE

Node A runs with --redis-queue QUEUE, node B with the default.
  queue  Redis is killed; alice (A) says QUEUE + 7 lines: dave (A) gets
         every one at once, bob (B) gets the first QUEUE once Redis is back
         and none of the others (dropped; the test checks A's log lines).
  guest  Redis is killed; a second "alice" registers on B (A's alice shares
         no room with anyone on B, so B cannot know her); Redis comes back
         empty and both nodes claim "alice" again: exactly one keeps it, the
         other becomes a Guest nick with one notice.
Every wait is bounded."""
import os
import signal
import subprocess
import sys
import time

from chat_nodes import fail, irc, ok, plain, received, wait_names


def received_again(p, text, times, secs=30):
    """Wait until p has received text `times` times in all: a notice of
    the second outage is the second one (the first is still there)."""
    deadline = time.time() + secs
    while p.count(text) < times:
        if not p._fill(deadline) and time.time() >= deadline:
            fail(f"{p.name}: got {text!r} {p.count(text)} times, want {times}; "
                 f"last {p.all[-600:]!r}")


def kill_redis(pidfile):
    with open(pidfile) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)


def start_redis(port, pidfile, log):
    with open(log, "ab") as f:
        r = subprocess.Popen(["redis-server", "--port", port, "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(str(r.pid))


def main():
    a_addr, b_addr, rport, rpidfile, rlog, queue = sys.argv[1:7]
    queue = int(queue)
    alice = irc("alice", a_addr)
    dave = plain("dave", a_addr)
    bob = plain("bob", b_addr)
    for p in (dave, bob):
        p.send("/join #q\n")
        p.expect(f"*** {p.name} joined #q")
    alice.send("JOIN #q\r\n")
    alice.expect(" 366 alice #q ")
    for p in (alice, dave, bob):
        wait_names(p, "#q", {"alice", "dave", "bob"})

    # ---- queue: a bounded queue while Redis is away ----------------------
    kill_redis(rpidfile)
    for p in (alice, dave, bob):
        received(p, "cross-node delivery paused", 20)
    total = queue + 7
    for i in range(1, total + 1):
        alice.send(f"PRIVMSG #q :queued line {i}.\r\n")
    for i in range(1, total + 1):
        received(dave, f"queued line {i}.")
    start_redis(rport, rpidfile, rlog)
    for p in (alice, dave, bob):
        received(p, "cross-node delivery is back", 30)
    received(bob, f"queued line {queue}.", 15)
    bob.drain(1.0)
    for i in range(1, total + 1):
        want = 1 if i <= queue else 0
        if bob.count(f"queued line {i}.") != want:
            fail(f"bob got 'queued line {i}.' {bob.count(f'queued line {i}.')} times, "
                 f"want {want}")
    for i in range(1, total + 1):
        if dave.count(f"queued line {i}.") != 1:
            fail(f"dave got 'queued line {i}.' {dave.count(f'queued line {i}.')} times")
    ok(f"Redis away: {queue} lines queued and delivered once, the rest dropped")

    # ---- guest: a nick clash found when Redis comes back ------------------
    alice.send("PART #q\r\n")
    alice.expect("PART #q")
    received(bob, "*** alice left #q", 15)
    kill_redis(rpidfile)
    for p in (alice, bob):   # both nodes saw it go (the first outage's notice is there)
        received_again(p, "cross-node delivery paused", 2, 20)
    alice2 = irc("alice", b_addr)   # B knows no alice: taken while Redis is away
    start_redis(rport, rpidfile, rlog)
    deadline = time.time() + 30
    renamed = []
    while not renamed:
        for p in (alice, alice2):
            p._fill(time.time() + 0.1)
            if p.count("your nick alice is taken on another node; you are now Guest"):
                renamed.append(p)
        if time.time() > deadline:
            fail(f"no alice renamed; A's got {alice.all[-300:]!r}, B's {alice2.all[-300:]!r}")
    for p in (alice, alice2):
        p.drain(3.0)   # a few renewals later: nothing more happens
    renamed = [p for p in (alice, alice2)
               if p.count("your nick alice is taken on another node; you are now Guest")]
    if len(renamed) != 1:
        fail(f"{len(renamed)} alices renamed, want 1")
    loser = renamed[0]
    keeper = alice2 if loser is alice else alice
    if loser.count("your nick alice is taken on another node") != 1:
        fail("the renamed alice was told more than once")
    if loser.count(":alice!~alice@127.0.0.1 NICK :Guest") != 1:
        fail(f"no NICK line for the renamed alice: {loser.all[-400:]!r}")
    if keeper.count(" NICK ") or keeper.count("is taken on another node"):
        fail(f"the alice that kept her nick was renamed too: {keeper.all[-400:]!r}")
    # the nick is one node's again: a private message reaches the keeper only
    bob.send("/msg alice to the one alice\n")
    received(keeper, "PRIVMSG alice :to the one alice", 15)
    for p in (alice, alice2):
        p.drain(0.5)
    if loser.count("to the one alice") or keeper.count("to the one alice") != 1:
        fail("the private message to alice did not reach exactly the keeper, once")
    # both nodes settled after the second outage (they told their members):
    # what they log then (a count of dropped lines, if any) is in their logs
    # before the test reads them, not after
    for p in (dave, bob):
        received_again(p, "cross-node delivery is back", 2, 30)
    print("renamed-on=" + ("A" if loser is alice else "B"))
    ok("a nick clash found after an outage: one keeps it, the other is a guest")


if __name__ == "__main__":
    main()
