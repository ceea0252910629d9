#!/usr/bin/env python3
"""A media host that lies: it speaks the control protocol's greeting (no authentication asked)
and answers every request, but what it says cannot be used. The module must mark it down and
carry on with the other hosts, never crash a worker.

  hostile_relay.py PORT MODE
    bad-info   info declares a switchboard whose ports run past 65535, and garbage to the rest
    bad-alloc  info is sane (switchboard 'pool' on 127.0.9.1/127.0.9.2), alloc replies are malformed
    garbage    every reply is binary noise without a newline, then a close
    full       an honest but full host: sane info, every alloc refused as a relay refuses it
Runs until killed; each connection is served in its own thread."""
import os, socket, sys, threading

PORT, MODE = int(sys.argv[1]), sys.argv[2]

def info(port_a, sessions):
    return ('{"protocol":"iptrtp/2","version":"hostile","uptime":1,"workers":1,"offload":"none","journal":null,'
            '"switchboards":[{"name":"pool","gate-a":"127.0.9.1:%d","gate-b":"127.0.9.2:%d","max-sessions":%d,'
            '"in-use":0,"expires-timeout":60,"resurrection-timeout":0,"ringing-timeout":60,'
            '"learning-timeout-a":null,"always-learn-a":false,"learning-timeout-b":null,"always-learn-b":false}]}'
            % (port_a, port_a, sessions))

def serve(conn):
    with conn:
        conn.sendall(b"iptrtp/2 - hello " + os.urandom(32).hex().encode() + b" auth=none\n")
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                words = line.decode(errors="replace").split(" ")
                rid = words[1] if len(words) > 1 else "-"
                cmd = words[2] if len(words) > 2 else ""
                if MODE == "garbage":
                    conn.sendall(os.urandom(3000).replace(b"\n", b"x"))
                    return
                if cmd == "info":
                    payload = info(65000, 32767) if MODE == "bad-info" else info(30000, 100)
                    conn.sendall(("iptrtp/2 %s ok %s\n" % (rid, payload)).encode())
                elif cmd == "alloc" and MODE == "full":
                    conn.sendall(("iptrtp/2 %s error switchboard 'pool': all 100 sessions are in use or resting\n" % rid).encode())
                elif cmd == "alloc":
                    conn.sendall(("iptrtp/2 %s ok 99999999/x 70000\n" % rid).encode())
                else:
                    conn.sendall(("iptrtp/2 %s ok \x01\x02 not what was asked\n" % rid).encode())

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
