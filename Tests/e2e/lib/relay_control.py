"""The e2e helpers' client of a relay's Unix control socket (docs/control-protocol.md): one
connection, one request at a time, no authentication (a Unix socket asks none). And the
"ok WHAT" / "FAIL WHAT" lines that e2e_checks_from counts."""
import socket
import sys


class UnixControl:
    """A connection to the control socket at `path`; the greeting is read and checked."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        greeting = self.file.readline().decode()
        if "auth=none" not in greeting:
            sys.exit(f"unexpected greeting: {greeting!r}")
        self.serial = 0

    def req(self, text):
        """Sends one request; returns (status, payload): status "ok", "error", or "closed" when
        the relay closed the connection."""
        self.serial += 1
        self.file.write(f"iptrtp/2 {self.serial} {text}\n".encode())
        self.file.flush()
        line = self.file.readline().decode()
        if not line:
            return "closed", ""
        words = line.rstrip("\n").split(" ", 3)
        return words[2], (words[3] if len(words) > 3 else "")


class Checks:
    """Prints one "ok WHAT" or "FAIL WHAT" line per check; `exit()` ends with 1 after a failure."""

    def __init__(self):
        self.failed = False

    def __call__(self, ok, what):
        print(("ok " if ok else "FAIL ") + what, flush=True)
        self.failed = self.failed or not ok
        return ok

    def exit(self):
        sys.exit(1 if self.failed else 0)
