"""A local SMTP server for the fault tests: `python -m tests.faults.smtp_sink`.

Stores each accepted message as `<dir>/<n>.eml`. `--reject-first N` answers the
first N messages with a temporary failure (451), `--hold SECONDS` waits that
long before answering a message (a worker can be killed mid-send); a message is
stored only when it is accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from pathlib import Path


class Sink:
    def __init__(self, directory: Path, reject_first: int, hold: float) -> None:
        self.directory = directory
        self.rejections_left = reject_first
        self.hold = hold
        self.numbers = itertools.count(len(list(directory.glob("*.eml"))) + 1)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await reply("220 sink ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").strip().split(" ")[0].upper()
                if command == "EHLO":
                    await reply("250-sink")
                    await reply("250 8BITMIME")
                elif command == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    data = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data.append(chunk)
                    await asyncio.sleep(self.hold)
                    if self.rejections_left > 0:
                        self.rejections_left -= 1
                        await reply("451 4.3.0 try again later")
                        continue
                    path = self.directory / f"{next(self.numbers)}.eml"
                    path.write_bytes(b"".join(data))
                    await reply("250 2.0.0 queued")
                elif command == "QUIT":
                    await reply("221 bye")
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    await reply("250 ok")
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--reject-first", type=int, default=0)
    parser.add_argument("--hold", type=float, default=0.0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    sink = Sink(args.dir, args.reject_first, args.hold)
    server = await asyncio.start_server(sink.session, "127.0.0.1", args.port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
