"""A TCP forwarder: the local twin's containers reach the embedded AWS emulator (S3) through it.

The emulator listens on 127.0.0.1 of the host only. This process runs in the host's network
namespace (a container with network_mode host) and listens on the twin's private network
gateway address, forwarding every connection to the emulator.

    python3 forward.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT [SOURCE_HOST]

SOURCE_HOST (default 127.0.0.2) is the loopback address it connects to the emulator from: the
emulator takes requests from it as the web servers' requests through the VPC's S3 endpoint
(scripts/emulator_fixes/s3.py).
"""

import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main(listen_host, listen_port, target_host, target_port, source_host):
    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                target_host, target_port, local_addr=(source_host, 0)
            )
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, listen_host, listen_port, reuse_address=True)
    print(f"forwarding {listen_host}:{listen_port} -> {target_host}:{target_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port, target, target_port = sys.argv[1:5]
    source = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.2"
    asyncio.run(main(host, int(port), target, int(target_port), source))
