# A webhook receiver for measuring delivery: counts what arrives each second and answers
# 204 at once. `python3 deploy/webhook_sink.py 3997`, then make an endpoint for
# http://127.0.0.1:3997/hook (with ALLOW_PRIVATE_WEBHOOKS=true).
import http.server, sys, threading, time
count = 0
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        n = int(self.headers.get("content-length", 0))
        self.rfile.read(n)
        with lock:
            count += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
def report():
    last = 0
    while True:
        time.sleep(1)
        with lock:
            c = count
        print(f"{time.strftime('%H:%M:%S')} total={c} per_s={c-last}", flush=True)
        last = c
threading.Thread(target=report, daemon=True).start()
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
