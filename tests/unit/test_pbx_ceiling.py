from voicebot.campaign.pacing import PbxCeiling


def test_a_refusal_caps_the_calls_at_what_the_pbx_held_for_a_while():
    ceiling = PbxCeiling(hold=600.0)
    assert ceiling.allowed(0.0) is None
    reason = ceiling.refused(51, now=10.0)
    assert reason.startswith("the PBX refused a call with 51 up") and "at most 51 calls for 10 min" in reason
    assert ceiling.allowed(10.0) == 51 and ceiling.allowed(609.0) == 51
    assert ceiling.held() == "at the PBX's ceiling: 51 calls (it refused more: pbx_error)"
    ceiling.refused(60, now=20.0)  # a refusal at more calls never raises the ceiling while it holds
    assert ceiling.allowed(30.0) == 51
    assert ceiling.allowed(620.0) is None  # then the configured limit is tried again
    ceiling.refused(0, now=700.0)  # refused with nothing else up: still one call at a time
    assert ceiling.allowed(701.0) == 1
