"""Asterisk AudioSocket: the frame codec (pure) and the asyncio media server."""

from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode

__all__ = ["Frame", "FrameDecoder", "FrameType", "encode"]
