#!/bin/sh
# Generate the man pages and the bash completion from the option tables,
# by asking the built binary:
#   ipcbox --help-man            ipcbox(1)
#   ipcbox APPLET --help-man     ipcbox-APPLET(1), one per applet
#   ipcbox APPLET --help-options the flags completion offers
# usage: gen-docs.sh IPCBOX OUTDIR   (writes OUTDIR/man1/*.1 and
#        OUTDIR/bash-completion/ipcbox)
set -eu
ipcbox=$1 out=$2
mkdir -p "$out/man1" "$out/bash-completion"
# a sanitizer build may be the one generating: keep its reports off
export ASAN_OPTIONS=detect_leaks=0
"$ipcbox" --help-man >"$out/man1/ipcbox.1"
applets=$("$ipcbox" --list)
for a in $applets; do
    "$ipcbox" "$a" --help-man >"$out/man1/ipcbox-$a.1"
done

c="$out/bash-completion/ipcbox.tmp"
{
    echo "# bash completion for ipcbox, generated from its option tables"
    echo "# by scripts/gen-docs.sh; do not edit."
    echo "_ipcbox_opts() {"
    echo "    case \$1 in"
    for a in $applets; do
        printf '    %s) echo "%s" ;;\n' "$a" "$("$ipcbox" "$a" --help-options | tr '\n' ' ' | sed 's/ $//')"
    done
    echo "    esac"
    echo "}"
    printf '_ipcbox_applets="%s"\n' "$(echo $applets)"
    printf '_ipcbox_models="%s"\n' "$("$ipcbox" --list-models | tr '\n' ' ' | sed 's/ $//')"
    cat <<'BASH'
_ipcbox() {
    local cur prev applet i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    applet=${COMP_WORDS[0]##*/}
    i=1
    if [ "$applet" = ipcbox ]; then
        if [ "$COMP_CWORD" -eq 1 ]; then
            COMPREPLY=($(compgen -W "$_ipcbox_applets --help --version --list --list-models" -- "$cur"))
            return
        fi
        applet=${COMP_WORDS[1]}
        i=2
    fi
    case $prev in
    --model) COMPREPLY=($(compgen -W "$_ipcbox_models" -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "error warn info debug" -- "$cur")); return ;;
    --config|--log-file|--pidfile|--access-log|--mime-types|--token-file|--*-token-file|--*-access-log|--*-mime-types)
        COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --dir|--*-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    esac
    if [ "${cur#-}" != "$cur" ]; then
        COMPREPLY=($(compgen -W "$(_ipcbox_opts "$applet")" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _ipcbox ipcbox
BASH
    for a in $applets; do echo "complete -F _ipcbox $a"; done
} >"$c"
mv "$c" "$out/bash-completion/ipcbox"
