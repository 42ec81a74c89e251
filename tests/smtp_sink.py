"""A real SMTP server for tidings' tests (aiosmtpd): accepts mail on 127.0.0.1 and writes each
message to a Maildir. While a file named REFUSE exists in the Maildir's folder, it answers
451 (try again later) to every recipient, so tests can show a refused send is retried.

Usage: python smtp_sink.py PORT MAILDIR   (prints "ready" when listening)
"""

import mailbox
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, root):
        self.root = root
        self.maildir = mailbox.Maildir(os.path.join(root, "inbox"), create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.root, "REFUSE")):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = mailbox.MaildirMessage(envelope.original_content)
        message["X-RcptTo"] = ", ".join(envelope.rcpt_tos)
        self.maildir.add(message)
        return "250 OK"


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(root), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
