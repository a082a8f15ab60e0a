"""An "S3 upstream" on 127.0.0.1 that answers every connection with bytes
that are not HTTP (`python garbage_upstream.py PORT`, serves until killed)."""
import socketserver
import sys


class Garbage(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        try:
            self.request.recv(65536)
        except OSError:
            pass
        self.request.sendall(b"SSH-2.0-definitely-not-http\r\n\r\n")


socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Garbage) as server:
    server.serve_forever()
