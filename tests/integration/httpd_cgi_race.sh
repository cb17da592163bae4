#!/bin/bash
# CGI confinement race: the script is checked through a confined open and
# must then run exactly what was checked. A symlink in the CGI directory is
# swapped, as fast as a process can rename, between a script inside ROOT
# and one outside it that leaves a marker; over many requests the outside
# one must never run (the inside one does, and the outside one is refused
# with 403 when the check sees it). Also checked: a #! script and a binary
# both run through the checked descriptor, and the script's working
# directory is its own directory.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
C="$R/cgi-bin"
OUT="$WORK/outside"
mkdir -p "$C" "$OUT"
cat > "$C/inside.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\ninside\n'
SH
cat > "$OUT/evil.sh" <<SH
#!/bin/sh
touch "$WORK/escaped"
printf 'Content-Type: text/plain\n\nevil\n'
SH
cat > "$C/pwd.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
pwd
SH
chmod +x "$C/inside.sh" "$OUT/evil.sh" "$C/pwd.sh"
# a compiled program (no interpreter): env prints its environment, which
# is no header block, so 502 shows it ran (a failed exec gives 500)
cp "$(command -v env)" "$C/env.bin"
ln -s inside.sh "$C/race.sh"

for model in epoll thread; do
    start_httpd --model "$model" --cgi /cgi-bin/ "$R"
    rm -f "$WORK/escaped"
    counts=$(python3 "$PYTOOLS/httpd_cgi_race.py" "$ADDR" "$C/race.sh" inside.sh "$OUT/evil.sh" 600)
    echo "$model: $counts"
    check "$model: the outside script never ran" "$([ -e "$WORK/escaped" ] && echo ran || echo never)" "never"
    check_has "$model: the inside script ran" "$counts" "200="
    check_lacks "$model: no server error" "$counts" "500="
    check "$model: #! script through the descriptor" "$(curl -sS "$BASE/cgi-bin/inside.sh")" "inside"
    check "$model: a binary runs from the descriptor" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/cgi-bin/env.bin")" "502"
    check "$model: working directory" "$(curl -sS "$BASE/cgi-bin/pwd.sh")" "$(cd "$C" && pwd -P)"
    stop_httpd
done
finish
