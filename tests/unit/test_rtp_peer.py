"""The lab carrier's RTP peer: its G.711 tables against Python's own (audioop, the C
reference), and its packets as RFC 3550 / RFC 4733 lay them out."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest

from tests.rtp_peer import EVENTS, PCMA, PCMU, Packet, Stream, decode, encode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


@pytest.mark.parametrize(("payload_type", "reference"), [(PCMU, audioop.ulaw2lin), (PCMA, audioop.alaw2lin)])
def test_decoding_matches_the_reference_for_every_code(payload_type, reference):
    codes = bytes(range(256))
    assert decode(codes, payload_type) == reference(codes, 2)


@pytest.mark.parametrize(("payload_type", "reference"), [(PCMU, audioop.lin2ulaw), (PCMA, audioop.lin2alaw)])
def test_encoding_is_within_one_step_of_the_reference(payload_type, reference):
    pcm = np.arange(-32768, 32768, 7, dtype="<i2").tobytes()
    ours = np.frombuffer(decode(encode(pcm, payload_type), payload_type), "<i2").astype(int)
    theirs = np.frombuffer(decode(reference(pcm, 2), payload_type), "<i2").astype(int)
    original = np.frombuffer(pcm, "<i2").astype(int)
    # nearest code: never further from the sample than the reference's truncating encoder
    assert np.all(np.abs(ours - original) <= np.abs(theirs - original))


def test_packets_round_trip_through_the_header_layout():
    stream = Stream(ssrc=0xDEADBEEF, seq=65535, timestamp=123)
    data = stream.header(EVENTS, marker=True) + struct.pack("!BBH", 1, 0x80 | 10, 800)
    packet = Packet.parse(data, ("127.0.0.1", 1), 0.0)
    assert packet is not None
    assert (packet.payload_type, packet.marker, packet.seq, packet.timestamp, packet.ssrc) == (
        EVENTS,
        True,
        65535,
        123,
        0xDEADBEEF,
    )
    assert Packet.parse(b"\x00" * 20, ("127.0.0.1", 1), 0.0) is None  # not version 2
