#!/usr/bin/python3
"""http_receiver.py - a real HTTP server (the standard library's, threaded)
that stands in for webhook receivers and the SMS provider in the tests.

It listens on 127.0.0.1 (port 0: any free port), prints "READY <port>" on
stdout once it accepts connections, and records every request before it
answers, as req-NNNNNN.json in --dir: method, path, query, headers (in
order, as sent) and body (UTF-8 text). The file appears complete or not at
all (written aside, then renamed).

Answers by path:
  /ok              200 {"ok": true}
  /status/<code>   that status with {"status": <code>}; 429 and 503 carry Retry-After: 7
  /slow            200 after --slow seconds (beyond the client's timeout)
  /big             200 with a --big byte body (beyond the client's cap)
  /redirect        302 to /ok
  /redirect-loop   302 to itself
  /flaky           500 until a file named "healed" exists in --dir, then 200
  anything else    404
--remove-dir removes --dir when the server ends (on SIGTERM, as when the
test that started it dies).
"""
import argparse
import itertools
import json
import os
import shutil
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    counter = itertools.count(1)
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def record(self, body):
        with Handler.lock:
            number = next(Handler.counter)
        url = urlsplit(self.path)
        entry = {
            'method': self.command,
            'path': url.path,
            'query': url.query,
            'headers': [[k, v] for k, v in self.headers.items()],
            'body': body.decode('utf-8', 'replace'),
        }
        base = os.path.join(self.server.directory, 'req-%06d' % number)
        with open(base + '.json.tmp', 'w') as f:
            json.dump(entry, f, ensure_ascii=False)
        os.rename(base + '.json.tmp', base + '.json')
        return url.path

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        path = self.record(self.rfile.read(length) if length else b'')
        try:
            if path == '/ok':
                self.reply(200, {'ok': True})
            elif path.startswith('/status/'):
                code = int(path.split('/')[2])
                extra = [('Retry-After', '7')] if code in (429, 503) else []
                self.reply(code, {'status': code}, extra)
            elif path == '/slow':
                time.sleep(self.server.slow)
                self.reply(200, {'slow': True})
            elif path == '/big':
                self.send_big()
            elif path == '/redirect':
                self.reply(302, {}, [('Location', '/ok')])
            elif path == '/redirect-loop':
                self.reply(302, {}, [('Location', '/redirect-loop')])
            elif path == '/flaky':
                healed = os.path.exists(os.path.join(self.server.directory, 'healed'))
                self.reply(200 if healed else 500, {'healed': healed})
            else:
                self.reply(404, {'error': 'not found'})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, size cap): that is the test

    def send_big(self):
        chunk = b'x' * 65536
        size = self.server.big
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        while size > 0:
            self.wfile.write(chunk[:size])
            size -= len(chunk)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--slow', type=float, default=3.0)
    ap.add_argument('--big', type=int, default=8 * 1024 * 1024)
    ap.add_argument('--remove-dir', action='store_true')
    args = ap.parse_args()

    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    server.directory = args.dir
    server.slow = args.slow
    server.big = args.big
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print('READY %d' % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if args.remove_dir:
            shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
