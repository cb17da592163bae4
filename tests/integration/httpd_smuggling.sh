#!/bin/bash
# Request smuggling: every framing ambiguity is refused with 400 (501 for
# transfer codings we do not implement) and the connection closed, so the
# bytes smuggled behind it are never answered as a request of their own.
# Also: bodies of requests we do not want are never parsed as requests.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
echo "hello" > "$R/hello.txt"
echo "SMUGGLED-RESOURCE" > "$R/smuggled.txt"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\ncat\n' > "$R/cgi-bin/echo.sh"
chmod +x "$R/cgi-bin/echo.sh"
start_httpd --cgi /cgi-bin/ "$R"

S='GET /smuggled.txt HTTP/1.1\r\nHost: a\r\n\r\n'
out=$(python3 "$PYTOOLS/httpd_cases.py" "$ADDR" SMUGGLED-RESOURCE <<EOF_CASES || true
400 1 CL then TE	POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S
400 1 TE then CL	POST /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n$S
400 1 CL+TE to CGI	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S
400 1 duplicate CL same	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc$S
400 1 duplicate CL differ	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc$S
400 1 CL list	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc$S
400 1 CL plus sign	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc$S
400 1 CL negative	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n$S
400 1 CL hex	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc$S
400 1 CL trailing junk	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 3a\r\n\r\nabc$S
400 1 CL huge	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n$S
400 1 space before colon	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n$S
400 1 tab before colon	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length\t: 3\r\n\r\nabc$S
400 1 TE obs-fold	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n$S
400 1 obs-fold any header	GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\tX-B: 2\r\n\r\n$S
400 1 bare CR in value	GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: 1\rContent-Length: 40\r\n\r\n$S
400 1 bare CR line end	GET /hello.txt HTTP/1.1\rHost: a\r\n\r\n$S
400 1 TE chunked twice	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n$S
400 1 TE two lines	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S
400 1 chunked not last	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n$S
501 1 TE identity	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n$S
501 1 TE xchunked	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n$S
501 1 TE gzip chunked	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$S
400 1 TE in HTTP/1.0	POST /cgi-bin/echo.sh HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S
400 1 NUL in header	GET /hello.txt HTTP/1.1\r\nHost: a\r\nX\x00A: 1\r\n\r\n$S
400 1 two Host headers	GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n$S
400 1 chunk size bare LF	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n$S
400 1 chunk size overflow	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n$S
400 1 chunk data overrun	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n$S
400 1 chunk size negative	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n$S
405 1 unwanted body not parsed	POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: ${#S}\r\n\r\n$S
200 1 GET body not parsed	GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: ${#S}\r\n\r\n$S
200 2 valid CL body then next	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 2 valid chunked body then next	POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
EOF_CASES
)
printf '%s\n' "$out"
FAILS=$((FAILS + $(printf '%s\n' "$out" | grep -c '^FAIL' || true)))
check "smuggling cases ran" "$(printf '%s\n' "$out" | grep -c '^ok')" "34"
finish
