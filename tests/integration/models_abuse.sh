# Rude clients against every TCP service (echo, httpd, chatd, recv) of one
# `ipcbox serve`, under every server model (tests/tools/conn_abuse.py):
# clients that connect and reset at once, that connect and close without
# a word, and that half-close after their request (each must get its
# answer, then end of file). Afterwards the server holds no more
# descriptors than before (none leaked per connection), still serves, and
# exits 0 on SIGTERM with no sanitizer report. Services a model cannot run
# (the coroutine model: echo only) are left out, as serve does.
. "$(dirname "$0")/../lib.sh"
need python3

mkdir -p "$T/root/in"
printf 'hello\n' >"$T/root/index.html"
for m in $(server_models); do
    log=$T/$m.log
    "$IPCBOX" serve "$T/root" --model $m --workers 2 $(serve_ephemeral) \
        --recv-dir "$T/root/in" --chatd-max-per-addr 1000 >/dev/null 2>"$log" &
    SPID=$!
    PIDS+=("$SPID")
    wait_for "$log" 'service(s)' 20 || fail "$m: serve did not start"
    args=()
    for s in echo httpd chatd recv; do
        p=$(port_of "$log" "$s\[")
        [ -n "$p" ] && args+=("$s=$p")
    done
    [ ${#args[@]} -gt 0 ] || { cat "$log"; fail "$m: no TCP service"; }
    python3 "$PYTOOLS/conn_abuse.py" --pid "$SPID" "${args[@]}" >"$T/out" 2>&1 ||
        { cat "$T/out"; tail -20 "$log"; fail "$m: ${args[*]}"; }
    kill -TERM "$SPID"
    wait_exit "$SPID" 20
    [ "$RC" = 0 ] || { tail -20 "$log"; fail "$m: exit status $RC after SIGTERM"; }
    no_sanitizer_report "$log"
    pass "$m: ${args[*]%%=*} $(cat "$T/out")"
done
