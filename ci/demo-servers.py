#!/usr/bin/env python3
# The demo's servers (run inside the servers' namespace) and its probe.
#   demo-servers.py                      serve: tcp/80 on 198.51.100.80 and
#                                        203.0.113.10, udp/53 echo on
#                                        198.51.100.53, until killed
#   demo-servers.py --probe HOST PORT tcp|udp
#                                        prints "ok" if HOST answers (a TCP
#                                        reset counts: the packet got
#                                        through), "blocked" on timeout
import socket
import sys
import threading

TIMEOUT = 0.7


def probe(host, port, proto):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT)
        try:
            s.sendto(b"ping", (host, port))
            s.recvfrom(64)
            return "ok"
        except OSError:
            return "blocked"
    try:
        socket.create_connection((host, port), timeout=TIMEOUT).close()
        return "ok"
    except ConnectionRefusedError:
        return "ok"
    except OSError:
        return "blocked"


def tcp(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.close()


def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(512)
        s.sendto(data, peer)


if len(sys.argv) == 5 and sys.argv[1] == "--probe":
    print(probe(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    sys.exit(0)
threads = [threading.Thread(target=tcp, args=("198.51.100.80", 80)),
           threading.Thread(target=tcp, args=("203.0.113.10", 80)),
           threading.Thread(target=udp, args=("198.51.100.53", 53))]
for t in threads:
    t.daemon = True
    t.start()
threading.Event().wait()
