#!/usr/bin/env bash
# End to end: build/iptrtpproxyd as systemd runs it. Type=notify: READY=1 arrives on a real
# NOTIFY_SOCKET (path and abstract) only once the control socket accepts connections, STOPPING=1
# on SIGTERM. Logs: syslog priorities (<N>) when stderr is the journal's stream (JOURNAL_STREAM =
# stderr's dev:ino) or --log-prefix=syslog, none otherwise; --log-level and the cfg file's [relay]
# log-level filter. Prints what it checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-service
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
WORK=$E2E_DIR

BASE=$(e2e_free_ports 20000 32000 20 --addr 127.0.33.1 --addr 127.0.33.2) || { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 19)) on 127.0.33.1/.2"
cat > "$WORK/plain.cfg" <<CFG
[switchboard:svc]
addr-a = 127.0.33.1
addr-b = 127.0.33.2
port-a = $BASE
port-b = $((BASE + 10))
max-sess = 4
CFG
{ cat "$WORK/plain.cfg"; printf '\n[relay]\nlog-level = warning\n'; } > "$WORK/quiet.cfg"

e2e_checks_from "the daemon under a service manager" python3 - "$DAEMON" "$WORK" <<'PY'
import os, socket, subprocess, sys, time
daemon, work = sys.argv[1], sys.argv[2]
procs = []

def check(ok, what):
    print(("ok " if ok else "FAIL ") + what)
    return ok

def start(args, cfg="plain.cfg", env_extra=None, stderr_path=None, name="run"):
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
    env.update(env_extra or {})
    log = open(stderr_path or os.path.join(work, name + ".log"), "ab")
    control = os.path.join(work, name + ".sock")
    p = subprocess.Popen([daemon, "--config", os.path.join(work, cfg), "--control", "unix:" + control,
                          "--workers", "1"] + args, env=env, stderr=log, stdout=subprocess.DEVNULL)
    procs.append(p)
    return p, control

def accepts(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()

def stop(p, within=5):
    p.terminate()
    try:
        return p.wait(within)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()

def log_text(name):
    with open(os.path.join(work, name + ".log"), errors="replace") as f:
        return f.read()

def wait_log(name, needle, p, within=10):
    end = time.monotonic() + within
    while time.monotonic() < end:
        if needle in log_text(name):
            return True
        if p.poll() is not None:
            return False
        time.sleep(0.05)
    return False

try:
    # 1. Readiness on an abstract socket: READY=1 comes once the control socket accepts, not before.
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind("\0ipt-e2e-notify-%d" % os.getpid())
    n.settimeout(15)
    p, control = start(["--log-prefix", "none"], env_extra={"NOTIFY_SOCKET": "@ipt-e2e-notify-%d" % os.getpid()}, name="notify")
    try:
        msg = n.recv(4096).decode()
    except socket.timeout:
        msg = ""
    accepted_at_ready = accepts(control)
    check("READY=1" in msg.split("\n"), "READY=1 arrives on the abstract NOTIFY_SOCKET (%r)" % msg)
    check(accepted_at_ready, "when READY=1 arrives the control socket already accepts connections")
    check("MAINPID=%d" % p.pid in msg and "STATUS=" in msg, "with STATUS= and MAINPID= of the daemon")
    p.terminate()
    try:
        stopping = n.recv(4096).decode()
    except socket.timeout:
        stopping = ""
    check("STOPPING=1" in stopping.split("\n"), "SIGTERM: STOPPING=1 (%r)" % stopping)
    rc = p.wait(10)
    check(rc == 0, "it then exits 0 (exit %d)" % rc)
    n.close()

    # 2. A path socket, and --no-notify sends nothing.
    path = os.path.join(work, "notify.sock")
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(path)
    n.settimeout(15)
    p, control = start(["--no-notify", "--log-prefix", "none"], env_extra={"NOTIFY_SOCKET": path}, name="nonotify")
    up = wait_log("nonotify", " running", p)
    n.settimeout(0.5)
    try:
        got = n.recv(4096)
    except socket.timeout:
        got = None
    check(up and got is None, "--no-notify: the daemon runs and sends nothing")
    stop(p)
    n.settimeout(15)
    p, control = start(["--log-prefix", "none"], env_extra={"NOTIFY_SOCKET": path}, name="pathnotify")
    try:
        msg = n.recv(4096).decode()
    except socket.timeout:
        msg = ""
    check(msg.startswith("READY=1") and accepts(control), "READY=1 on a path NOTIFY_SOCKET, control socket accepting")
    stop(p)
    n.close()

    # 3. A NOTIFY_SOCKET nobody listens on: the relay runs anyway and says why it could not notify.
    p, control = start(["--log-prefix", "none"], env_extra={"NOTIFY_SOCKET": os.path.join(work, "nobody.sock")}, name="nobody")
    check(wait_log("nobody", "cannot notify the service manager", p) and p.poll() is None and accepts(control),
          "unreachable NOTIFY_SOCKET: one warning, the relay serves")
    stop(p)

    # 4. Log priorities. stderr is the journal's stream when JOURNAL_STREAM names its dev:ino.
    journal_log = os.path.join(work, "journal.log")
    open(journal_log, "wb").close()
    st = os.stat(journal_log)
    p, control = start([], env_extra={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}, stderr_path=journal_log, name="journal")
    wait_log("journal", "running", p)
    stop(p)
    lines = [l for l in log_text("journal").splitlines() if l]
    check(lines and all(l[0] == "<" and l[1] in "234567" and l[2] == ">" for l in lines),
          "stderr is JOURNAL_STREAM: every line starts with <N> (%d lines)" % len(lines))
    check(any(l.startswith("<5>iptrtpproxyd: notice: iptrtpproxyd ") and " running" in l for l in lines),
          "notice is <5>")
    check(any(l.startswith("<6>iptrtpproxy.relay: info: relay started") for l in lines), "info is <6>")
    # The variable inherited with another stream (dev:ino of something else): no prefix.
    p, control = start([], env_extra={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}, name="inherited")
    wait_log("inherited", "running", p)
    stop(p)
    lines = [l for l in log_text("inherited").splitlines() if l]
    check(lines and not any(l.startswith("<") for l in lines) and lines[0][:2] == "20",
          "JOURNAL_STREAM of another file: plain lines with a timestamp")
    p, control = start(["--log-prefix", "syslog"], name="forced")
    wait_log("forced", "running", p)
    stop(p)
    check(log_text("forced").startswith("<6>"), "--log-prefix syslog without the journal: prefixed")

    # 5. Levels: the cfg file's [relay] log-level, the option wins over it.
    p, control = start(["--log-prefix", "syslog"], cfg="quiet.cfg", name="quiet")
    end = time.monotonic() + 10
    while not accepts(control) and time.monotonic() < end and p.poll() is None:
        time.sleep(0.05)
    check(accepts(control), "[relay] log-level = warning: the relay serves")
    stop(p)
    text = log_text("quiet")
    check("<6>" not in text and "<5>" not in text, "[relay] log-level = warning: no info or notice line (%r)" % text[:200])
    p, control = start(["--log-prefix", "syslog", "--log-level", "info"], cfg="quiet.cfg", name="loud")
    check(wait_log("loud", "<6>iptrtpproxy.relay: info: relay started", p), "--log-level info beats the cfg's warning")
    stop(p)

    # 6. Bad values: a clear error, no start.
    for args, what in ((["--log-prefix", "journald"], "--log-prefix"), (["--log-level", "loud"], "--log-level")):
        p, control = start(args, name="bad")
        rc = p.wait(10)
        check(rc != 0 and what in log_text("bad"), "a bad %s is refused (exit %d)" % (what, rc))
    with open(os.path.join(work, "badlevel.cfg"), "w") as f:
        f.write(open(os.path.join(work, "plain.cfg")).read() + "\n[relay]\nlog-level = chatty\n")
    p, control = start([], cfg="badlevel.cfg", name="badcfg")
    rc = p.wait(10)
    check(rc != 0 and "log-level" in log_text("badcfg") and "chatty" in log_text("badcfg"),
          "a bad [relay] log-level is refused, naming it (exit %d)" % rc)
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
PY

e2e_finish
