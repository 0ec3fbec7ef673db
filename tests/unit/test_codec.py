"""The AudioSocket frame codec: pure, so tested exhaustively without sockets."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicebot.errors import FrameError
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode

frames = st.builds(
    Frame,
    st.sampled_from(list(FrameType)),
    st.binary(max_size=600),
)


def test_encode_audio_frame_header():
    pcm = bytes(range(256)) + bytes(64)
    wire = encode(Frame.audio(pcm))
    assert wire[:3] == b"\x10\x01\x40"  # type 0x10, length 320 big-endian
    assert wire[3:] == pcm


def test_decode_uuid_and_dtmf():
    call_id = uuid.uuid4()
    wire = encode(Frame(FrameType.UUID, call_id.bytes)) + encode(Frame(FrameType.DTMF, b"5"))
    uuid_frame, dtmf = FrameDecoder().feed(wire)
    assert uuid_frame.uuid() == call_id
    assert dtmf.digit() == "5"


def test_partial_reads_wait_for_the_rest():
    wire = encode(Frame.audio(b"\x01\x02" * 160))
    decoder = FrameDecoder()
    assert decoder.feed(wire[:2]) == []
    assert decoder.feed(wire[2:100]) == []
    assert decoder.pending == 100
    assert decoder.pending_payload == len(wire) - 100
    (frame,) = decoder.feed(wire[100:])
    assert frame.payload == b"\x01\x02" * 160
    assert decoder.pending == 0


def test_unknown_type_is_rejected_with_its_offset():
    decoder = FrameDecoder()
    decoder.feed(encode(Frame.hangup()))
    with pytest.raises(FrameError, match=r"unknown AudioSocket frame type 0x42 at byte 3"):
        decoder.feed(b"\x42\x00\x00")


def test_oversize_length_is_rejected_before_buffering():
    decoder = FrameDecoder(max_payload=1000)
    with pytest.raises(FrameError, match=r"1001 bytes .* exceeds the 1000-byte limit"):
        decoder.feed(b"\x10\x03\xe9")  # header alone: no need to wait for 1001 bytes


def test_wrong_payload_sizes_are_errors():
    with pytest.raises(FrameError, match="UUID"):
        Frame(FrameType.UUID, b"short").uuid()
    with pytest.raises(FrameError, match="DTMF"):
        Frame(FrameType.DTMF, b"12").digit()
    with pytest.raises(FrameError, match="does not fit"):
        encode(Frame.audio(bytes(70000)))


@given(st.lists(frames, max_size=20), st.lists(st.integers(min_value=1, max_value=700), max_size=40))
def test_round_trip_any_split(sequence, cuts):
    wire = b"".join(encode(f) for f in sequence)
    decoder = FrameDecoder(max_payload=600)
    out, pos = [], 0
    for cut in cuts:
        out += decoder.feed(wire[pos : pos + cut])
        pos += cut
    out += decoder.feed(wire[pos:])
    assert out == sequence
    assert decoder.pending == 0


@given(st.binary(max_size=2000))
def test_garbage_gives_frames_or_frame_error_never_anything_else(data):
    decoder = FrameDecoder()
    try:
        decoded = decoder.feed(data)
    except FrameError:
        return
    assert sum(3 + len(f.payload) for f in decoded) + decoder.pending == len(data)
