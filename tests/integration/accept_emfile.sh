# A server out of descriptors with none to spare (its limit lowered below
# them all, as when another thread or process takes the one the spare
# trick freed) must not spin on a listener that stays readable: it pauses
# accepting, logs it, and once descriptors are back it serves again
# (tests/tools/emfile_spin.py), under every model whose main process
# accepts (prefork's children accept: not here).
. "$(dirname "$0")/../lib.sh"
need python3
for m in $(server_models prefork); do
    log=$T/$m.log
    start_server "$log" "$IPCBOX" echo --no-udp --listen 127.0.0.1:0 --model $m --workers 2
    python3 "$PYTOOLS/emfile_spin.py" "$SPID" "$PORT" >"$T/out" 2>&1 ||
        { cat "$T/out"; tail -5 "$log"; fail "$m"; }
    grep -q 'msg="accept failed' "$log" || { cat "$log"; fail "$m: EMFILE not logged"; }
    kill -TERM "$SPID"
    wait_exit "$SPID" 20
    [ "$RC" = 0 ] || { tail -20 "$log"; fail "$m: exit status $RC after SIGTERM"; }
    no_sanitizer_report "$log"
    pass "$m: $(tr '\n' ' ' <"$T/out")"
done
