"""The trunk circuit breaker (issue 11): a trunk that refuses every call is paused, probed, and
resumed; the callee's own answers never pause it. Pure."""

from voicebot.campaign.trunks import TrunkHealth


def test_five_refusals_in_a_row_pause_the_trunk_and_a_probe_resumes_it():
    health = TrunkHealth("carrier", threshold=5, first_pause=60, max_pause=600)
    for i in range(4):
        assert health.record("rejected", "403 Forbidden", now=float(i)) is None
        assert health.allowed(float(i)) is None
    reason = health.record("rejected", "403 Forbidden", now=4.0)
    assert reason == "trunk carrier refused 5 calls in a row (403 Forbidden): paused 60 s"
    assert health.allowed(30.0) == 0 and "paused 34 s more" in (health.held(30.0) or "")
    assert health.allowed(64.0) == 1  # the pause is over: one probe
    health.started()
    assert health.allowed(65.0) == 0 and "a probe call is out" in (health.held(65.0) or "")
    # the probe is refused again: the pause doubles
    assert health.record("trunk_error", "503 Service Unavailable", now=70.0) is not None
    assert health.pause == 120 and health.allowed(150.0) == 0 and health.allowed(190.0) == 1
    health.started()
    assert health.record("busy", "486 Busy Here", now=200.0) is None  # a callee answered for itself
    assert health.allowed(200.0) is None and health.held(200.0) is None and health.refusals == 0


def test_the_callees_answers_never_pause_it():
    health = TrunkHealth("t", threshold=3)
    for disposition in ["busy", "no_answer", "declined", "invalid", "rejected", "rejected", "answered"] * 5:
        assert health.record(disposition, None, now=0.0) is None
    assert health.allowed(0.0) is None


def test_the_pause_is_capped():
    health = TrunkHealth("t", threshold=1, first_pause=60, max_pause=300)
    for now in range(0, 5000, 400):
        health.record("trunk_error", None, now=float(now))
    assert health.pause == 300


def test_which_endpoint_each_channel_template_dials():
    from voicebot.config import Settings
    from voicebot.doctor import trunk_endpoints

    settings = Settings(
        dial={"channel_template": "PJSIP/{number}@carrier"},
        trunks={
            "direct": {"channel_template": "PJSIP/edge/sip:{number}@10.0.0.1"},
            "local": {"channel_template": "Local/{number}@lab/n"},
            "typo": {"channel_template": "PJSIP/{number}@my trunk"},
        },
    )
    assert trunk_endpoints(settings) == {"[dial]": "carrier", "trunks.direct": "edge", "trunks.typo": ""}
