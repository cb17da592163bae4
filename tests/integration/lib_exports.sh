# libipcbox exports exactly its documented API: in the library as installed
# (cmake --install into a scratch prefix), every exported symbol starts with
# ibx_ (never the private ibx__) and is declared in an installed public
# header, and every function those headers declare is exported.
. "$(dirname "$0")/../lib.sh"

command -v nm >/dev/null || skip "no nm (binutils)"
command -v cmake >/dev/null || skip "no cmake"
[ -f "$TOOLS/cmake_install.cmake" ] || skip "no build tree at $TOOLS"

cmake --install "$TOOLS" --prefix "$T/inst" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "cmake --install failed"; }
so=$(find "$T/inst" -name 'libipcbox.so.*.*' -type f | head -1)
[ -n "$so" ] || fail "no libipcbox.so.X.Y installed under $T/inst"
inc="$T/inst/include/ipcbox"
[ -d "$inc" ] || fail "no headers installed at $inc"

# Defined dynamic symbols, minus what a sanitizer build's instrumentation
# adds on its own (__asan_*, __odr_asan_*, __sancov_* ...: reserved names).
nm -D --defined-only "$so" | awk '{print $NF}' | grep -v '^__' | sort -u >"$T/exported"
[ -s "$T/exported" ] || fail "$so exports nothing"

bad=$(grep -v '^ibx_[a-z0-9]' "$T/exported" || true)
[ -z "$bad" ] || fail "exported without the ibx_ prefix or with the private ibx__: $(echo $bad)"

# Function names the public headers declare: "type name(" at the start of
# a line, the name prefixed ibx_; static inline helpers are not exported.
grep -hE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]ibx_[a-z0-9_]+\(' "$inc"/*.h |
    grep -vE '^(static|typedef|#)' |
    sed -E 's/^[^(]*[ *](ibx_[a-z0-9_]+)\(.*/\1/' | sort -u >"$T/declared"
[ "$(wc -l <"$T/declared")" -ge 50 ] || fail "found only $(wc -l <"$T/declared") declarations in $inc"

missing=$(comm -23 "$T/declared" "$T/exported")
[ -z "$missing" ] || fail "declared in $inc but not exported: $(echo $missing)"
undocumented=$(comm -13 "$T/declared" "$T/exported")
[ -z "$undocumented" ] || fail "exported but not declared in $inc: $(echo $undocumented)"

pass "$(wc -l <"$T/exported") symbols exported, all ibx_ and all declared in the installed headers"
