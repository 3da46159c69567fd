#!/usr/bin/python3
"""smtp_server.py - a real SMTP server (Debian's aiosmtpd) for the messaging
tests and the SMTP benchmark.

It listens on 127.0.0.1 (or --listen; port 0: any free port), prints "READY <port>" on
stdout once it accepts connections, and writes each message it receives into
--dir as msg-NNNNNN.eml (the raw bytes) and msg-NNNNNN.json (the envelope,
the headers as sent, the decoded subject and the text and HTML parts as
Python's email package reads them). The JSON file appears complete or not at
all (written aside, then renamed).

The recipient's local part picks a behaviour:
  refuse-*  RCPT answered 550 (unknown mailbox)
  busy-*    RCPT answered 451 (try again later)
  slow-*    RCPT answered after --slow seconds (beyond the client's timeout)
  spam-*    DATA answered 554 after the message was sent
Options: --tls offers STARTTLS with a self-signed certificate for localhost
and 127.0.0.1 made at start (--dir/cert.pem, for the client to trust);
--auth USER:PASS requires AUTH (PLAIN or LOGIN, allowed without TLS);
--discard keeps nothing (for the benchmark); --remove-dir removes --dir
when the server ends (on SIGTERM, as when the test that started it dies).

Run it with /usr/bin/python3: aiosmtpd is a Debian package.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult


def make_certificate(directory):
    cert = os.path.join(directory, 'cert.pem')
    key = os.path.join(directory, 'key.pem')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
         '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def part_text(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    # The wire has CRLF line ends; the tests compare with the LF text they sent.
    return part.get_content().replace('\r\n', '\n')


def summarize(raw, session, envelope):
    """What the tests check, as Python's email package understands the message."""
    plain = email.message_from_bytes(raw, policy=email.policy.compat32)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    summary = {
        'mail_from': envelope.mail_from,
        'rcpt_tos': list(envelope.rcpt_tos),
        'tls': session.ssl is not None,
        'auth_login': session.auth_data,
        'header_names': list(plain.keys()),
        'raw_headers': [[k, v] for k, v in plain.items()],
        'content_type': parsed.get_content_type(),
        'parts': [p.get_content_type() for p in parsed.walk()],
        'transfer_encodings': [p.get('Content-Transfer-Encoding') for p in parsed.walk()
                               if not p.is_multipart()],
        'longest_line': max(len(line) for line in raw.split(b'\r\n')),
        'bare_lf': b'\n' in raw.replace(b'\r\n', b''),
        'defects': [],
    }
    for part in parsed.walk():
        summary['defects'] += [type(d).__name__ for d in part.defects]
    headers = {}
    for name in ('from', 'to', 'subject', 'date', 'message-id', 'mime-version',
                 'list-unsubscribe', 'list-unsubscribe-post'):
        value = parsed.get(name)
        if value is not None:
            headers[name] = str(value)
    summary['headers'] = headers
    for name, value in parsed.items():
        for d in getattr(value, 'defects', ()):
            summary['defects'].append(name + ': ' + type(d).__name__)
    summary['text'] = part_text(parsed, 'plain')
    summary['html'] = part_text(parsed, 'html')
    return summary


class Handler:
    def __init__(self, directory, slow, discard):
        self.directory = directory
        self.slow = slow
        self.discard = discard
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@', 1)[0].lower()
        if local.startswith('refuse-'):
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        if local.startswith('busy-'):
            return '451 4.3.0 mailbox busy, try again later'
        if local.startswith('slow-'):
            await asyncio.sleep(self.slow)
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 OK'

    async def handle_DATA(self, server, session, envelope):
        if any(r.split('@', 1)[0].lower().startswith('spam-') for r in envelope.rcpt_tos):
            return '554 5.7.1 message refused as spam'
        number = next(self.counter)
        if not self.discard:
            self.record(number, envelope.content, session, envelope)
        return '250 2.0.0 OK queued as %06d' % number

    def record(self, number, raw, session, envelope):
        base = os.path.join(self.directory, 'msg-%06d' % number)
        with open(base + '.eml', 'wb') as f:
            f.write(raw)
        try:
            summary = summarize(raw, session, envelope)
        except Exception as e:  # a message Python cannot parse is a finding, not a crash
            summary = {'parse_error': repr(e)}
        with open(base + '.json.tmp', 'w') as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(base + '.json.tmp', base + '.json')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--tls', action='store_true')
    ap.add_argument('--auth', default=None, help='USER:PASS')
    ap.add_argument('--slow', type=float, default=3.0)
    ap.add_argument('--discard', action='store_true')
    ap.add_argument('--remove-dir', action='store_true')
    args = ap.parse_args()
    # AUTH without TLS is what the tests want; aiosmtpd's advice about it is noise.
    warnings.simplefilter('ignore')
    logging.getLogger('mail.log').setLevel(logging.ERROR)

    tls_context = make_certificate(args.dir) if args.tls else None
    handler = Handler(args.dir, args.slow, args.discard)
    options = {}
    if args.auth:
        user, password = args.auth.split(':', 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False,
                              auth_data=auth_data.login.decode() if ok else None)

        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # hostname is given so aiosmtpd does not look up this machine's FQDN.
    factory = lambda: SMTP(handler, hostname='localhost', tls_context=tls_context,
                           require_starttls=False, loop=loop, **options)
    server = loop.run_until_complete(loop.create_server(factory, args.listen, args.port))
    port = server.sockets[0].getsockname()[1]
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print('READY %d' % port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        if args.remove_dir:
            shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
