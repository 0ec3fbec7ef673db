from voicebot.telephony.rtpconf import DEFAULT_END, DEFAULT_START, RtpRange, parse_rtp_conf


def test_sessions_are_the_even_ports_in_the_range():
    assert RtpRange(20000, 20003).sessions == 2  # 20000/20001 and 20002/20003
    assert RtpRange(20000, 20100).sessions == 51  # the lab's old range: 9 of 60 calls failed
    assert RtpRange(20001, 20004).sessions == 2  # 20002 and 20004
    assert RtpRange(20000, 19000).sessions == 0


def test_the_range_for_a_number_of_sessions():
    for sessions in (1, 51, 120):
        assert RtpRange(20000, RtpRange(20000).ports_for(sessions)).sessions == sessions


def test_rtp_conf_is_read_from_its_general_section():
    text = "; comment\n[general]\nrtpstart=10000 ; low\nrtpend => 10999\n[ice_host_candidates]\nrtpend = 5\n"
    assert parse_rtp_conf(text) == RtpRange(10000, 10999)
    assert parse_rtp_conf("[general]\n") == RtpRange(DEFAULT_START, DEFAULT_END)
