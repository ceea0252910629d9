"""One WebRTC peer (aiortc, Debian's python3-aiortc) for 34-relay-ice-browsers.sh: it runs in its own
network namespace and trades SDP with the test through files in a folder, so that the test can pass
each SDP through the iptrtpproxy CLI (alloc/update on a running relay) on its way.

    webrtc_peer.py offer  DIR   writes DIR/offer.sdp, reads DIR/answer.relayed.sdp
    webrtc_peer.py answer DIR   reads DIR/offer.relayed.sdp, writes DIR/answer.sdp

Both send audio (aiortc's silence track, Opus over DTLS-SRTP) and count what they receive. The
result goes to DIR/ROLE.json once ICE and DTLS are connected and 50 audio frames came in, or the
deadline passed: state, frames, the remote address of the selected ICE pair; then it keeps
sending until DIR/stop exists.
"""
import asyncio
import json
import os
import sys
import time

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

DEADLINE = 25.0
FRAMES = 50


async def wait_file(path):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            await asyncio.sleep(0.05)  # the writer renames into place; this is only a poll period
            with open(path) as f:
                return f.read()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no {path} within {DEADLINE} s")


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


async def main(role, folder):
    pc = RTCPeerConnection()
    received = {"frames": 0}
    done = asyncio.Event()

    @pc.on("track")
    def on_track(track):
        async def pull():
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                received["frames"] += 1
                if received["frames"] >= FRAMES:
                    done.set()
        asyncio.ensure_future(pull())

    pc.addTrack(AudioStreamTrack())
    if role == "offer":
        await pc.setLocalDescription(await pc.createOffer())
        write(os.path.join(folder, "offer.sdp"), pc.localDescription.sdp)
        answer = await wait_file(os.path.join(folder, "answer.relayed.sdp"))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    else:
        offer = await wait_file(os.path.join(folder, "offer.relayed.sdp"))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        write(os.path.join(folder, "answer.sdp"), pc.localDescription.sdp)
    try:
        await asyncio.wait_for(done.wait(), DEADLINE)
    except asyncio.TimeoutError:
        pass
    remote = None
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        pair = ice._connection._nominated.get(1) if hasattr(ice._connection, "_nominated") else None
        if pair is not None:
            remote = [pair.remote_candidate.host, pair.remote_candidate.port]
    result = {"state": pc.connectionState, "ice": pc.iceConnectionState, "frames": received["frames"], "remote": remote}
    write(os.path.join(folder, role + ".json"), json.dumps(result))
    # Keep sending until the test says stop: the other peer may still be counting its frames.
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join(folder, "stop")) and time.monotonic() < end:
        await asyncio.sleep(0.05)
    await pc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
