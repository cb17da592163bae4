# make install's promise: binary, static and shared library, headers and a
# pkg-config file under PREFIX (and DESTDIR); a program builds against it.
. "$(dirname "$0")/../lib.sh"
BUILD=$(dirname "$IPCBOX")
command -v pkg-config >/dev/null || skip "pkg-config missing"
DESTDIR="$T/dest" cmake --install "$BUILD" --prefix /opt/ipcbox >/dev/null \
    || fail "cmake --install with DESTDIR"
P="$T/dest/opt/ipcbox"
LIBDIR=$(ls -d "$P"/lib* | head -1)
for f in "$P/bin/ipcbox" "$P/include/ipcbox/loop.h" "$P/include/ipcbox/server.h" \
         "$LIBDIR/libipcbox.a" "$LIBDIR/pkgconfig/ipcbox.pc"; do
    [ -e "$f" ] || fail "not installed: $f"
done
ls "$LIBDIR"/libipcbox.so* >/dev/null 2>&1 || fail "shared library not installed"
grep -q '^prefix=/opt/ipcbox' "$LIBDIR/pkgconfig/ipcbox.pc" || fail "pkg-config prefix"
# build and run a client of the installed library through pkg-config
cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include <ipcbox/net.h>
int main(void) {
    ibx_addr a;
    char s[IBX_ADDRSTRLEN];
    if (ibx_addr_parse("[::1]:7", NULL, 0, &a)) return 1;
    puts(ibx_addr_format((struct sockaddr *)&a.ss, a.len, s, sizeof s));
    return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR="$T/dest" PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
san=""
[ "${SANITIZE:-OFF}" = ON ] && san="-fsanitize=address,undefined"
"${CC:-cc}" $san -o "$T/prog" "$T/prog.c" $(pkg-config --cflags ipcbox) \
    -Wl,-rpath,"$LIBDIR" $(pkg-config --libs ipcbox) $(pkg-config --libs libxxhash libcrypto) \
    || fail "cannot build against the installed library"
[ "$("$T/prog")" = "[::1]:7" ] || fail "installed library misbehaves"
pass "install with DESTDIR and PREFIX, pkg-config client"

# man pages (ipcbox(1) and one per applet) and the bash completion, both
# generated from the option tables, are installed and usable
MAN="$P/share/man/man1"
[ -e "$MAN/ipcbox.1" ] || fail "not installed: ipcbox.1"
for a in $("$IPCBOX" --list); do
    [ -s "$MAN/ipcbox-$a.1" ] || fail "not installed: ipcbox-$a.1"
    grep -q "^\.TH IPCBOX" "$MAN/ipcbox-$a.1" || fail "ipcbox-$a.1 is not a man page"
    # every flag of --help is in the page
    for o in $("$IPCBOX" "$a" --help-options); do
        grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$MAN/ipcbox-$a.1" \
            || fail "ipcbox-$a.1 lacks $o"
    done
    if command -v groff >/dev/null; then
        w=$(groff -man -Tutf8 -ww "$MAN/ipcbox-$a.1" 2>&1 >/dev/null)
        [ -z "$w" ] || fail "ipcbox-$a.1: groff warns: $w"
    fi
done
grep -q 'ipcbox\\-httpd' "$MAN/ipcbox.1" || fail "ipcbox.1 does not list the applet pages"
COMP="$P/share/bash-completion/completions/ipcbox"
[ -s "$COMP" ] || fail "bash completion not installed"
got=$(bash -c '. "$1"; COMP_WORDS=(ipcbox httpd --cg); COMP_CWORD=2; _ipcbox; echo "${COMPREPLY[*]}"' _ "$COMP")
case " $got " in *" --cgi "*) ;; *) fail "completion of 'ipcbox httpd --cg': '$got'" ;; esac
got=$(bash -c '. "$1"; COMP_WORDS=(ipcbox serve --model ep); COMP_CWORD=3; _ipcbox; echo "${COMPREPLY[*]}"' _ "$COMP")
[ "$got" = epoll ] || fail "completion of --model: '$got'"
got=$(bash -c '. "$1"; COMP_WORDS=(ipcbox serve --httpd-cgi-m); COMP_CWORD=2; _ipcbox; echo "${COMPREPLY[*]}"' _ "$COMP")
[ "$got" = --httpd-cgi-max ] || fail "completion of a serve service flag: '$got'"
pass "man pages and bash completion from the option tables"
