#!/usr/bin/env python3
"""Sends malformed and hostile requests to a running talon-ingest and parses
every answer with Python's http.client, a strict HTTP/1.1 response parser:
exactly one response per request, with the expected status, one
Content-Length equal to the body's length, "Connection: close" and nothing
after the body when the server closes. libmicrohttpd 0.9.75 sent its status
line and headers twice for a Content-Length of -1, 0x10 or 23 digits.

Usage: strict_responses.py PORT ACCOUNT_ID PASSCODE   (exit 0 when all hold)
"""
import http.client
import io
import socket
import sys


class KeptOpen(io.BytesIO):
    """http.client closes its file after the body; what follows is still read."""

    def close(self):
        pass


class Recorded:
    """A socket stand-in replaying what the server sent."""

    def __init__(self, data):
        self.file = KeptOpen(data)

    def makefile(self, mode):
        return self.file


def everything_until_close(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return received + b"<connection reset>"
            if not chunk:
                return received
            received += chunk


def check(port, name, raw, status):
    data = everything_until_close(port, raw)
    recorded = Recorded(data)
    response = http.client.HTTPResponse(recorded)
    try:
        response.begin()  # raises on anything but a well-formed status line and headers
    except http.client.HTTPException as error:
        print("%s: no well-formed response (%r)\n%r" % (name, error, data[:400]))
        return False
    lengths = response.msg.get_all("Content-Length") or []
    body = response.read()
    rest = recorded.file.read()  # whatever follows the declared body
    problems = []
    if response.status != status:
        problems.append("status %d, expected %d" % (response.status, status))
    if len(lengths) != 1 or int(lengths[0]) != len(body):
        problems.append("Content-Length %s for a body of %d bytes" % (lengths, len(body)))
    if rest:
        problems.append("%d bytes after the response: %r" % (len(rest), rest[:80]))
    if status >= 400 and (response.getheader("Connection") or "").lower() != "close":
        problems.append("no Connection: close on an error that closes")
    if problems:
        print("%s: %s\n%r" % (name, "; ".join(problems), data[:400]))
        return False
    return True


def main():
    port = int(sys.argv[1])
    auth = ("X-CleverTap-Account-Id: %s\r\nX-CleverTap-Passcode: %s\r\n"
            % (sys.argv[2], sys.argv[3])).encode()
    body = b'{"d":[{"identity":"strict"}]}'
    post = b"POST /1/upload HTTP/1.1\r\nHost: ingest\r\n"
    cases = [
        ("Content-Length -1", post + auth + b"Content-Length: -1\r\n\r\n" + body, 400),
        ("Content-Length 0x10", post + auth + b"Content-Length: 0x10\r\n\r\n" + body, 400),
        ("23-digit Content-Length",
         post + auth + b"Content-Length: 12345678901234567890123\r\n\r\n" + body, 413),
        ("two Content-Lengths hiding a request",
         post + auth + b"Content-Length: 0\r\nContent-Length: 45\r\n\r\n"
         + post + auth + b"Content-Length: 2\r\n\r\n{}", 400),
        ("Content-Length and chunked",
         post + auth + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding gzip, chunked",
         post + auth + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
        ("no Host", b"POST /1/upload HTTP/1.1\r\n" + auth + b"Content-Length: 0\r\n\r\n", 400),
        ("folded header", post + b"X-A: b\r\n c\r\n" + auth + b"\r\n", 400),
        ("space before colon", post + b"Content-Length : 2\r\n\r\n{}", 400),
        ("bare LF", b"POST /1/upload HTTP/1.1\nHost: ingest\r\n\r\n", 400),
        ("HTTP/2.0", b"POST /1/upload HTTP/2.0\r\nHost: ingest\r\n\r\n", 505),
        ("head too large", post + b"X-A: " + b"a" * 20000 + b"\r\n\r\n", 431),
        ("URI too long", b"POST /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 414),
        ("unknown expectation", post + b"Expect: later\r\n\r\n", 417),
        ("bad chunk size",
         post + auth + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
        ("wrong passcode with a body",
         post + b"X-CleverTap-Account-Id: nobody\r\nX-CleverTap-Passcode: x\r\n"
         b"Content-Length: 29\r\n\r\n" + body, 401),
        ("not found", b"POST /nowhere HTTP/1.1\r\nHost: ingest\r\nConnection: close\r\n\r\n", 404),
        ("GET", b"GET /1/upload HTTP/1.1\r\nHost: ingest\r\nConnection: close\r\n\r\n", 405),
        ("not JSON", post + auth + b"Connection: close\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("a good one", post + auth + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
         + body, 200),
    ]
    failed = [name for name, raw, status in cases if not check(port, name, raw, status)]
    print("%d of %d answers well-formed" % (len(cases) - len(failed), len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
