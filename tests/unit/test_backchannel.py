"""Which words over a prompt let it go on: the pure rule, both languages, overrides."""

import pytest

from voicebot.speech.backchannel import Backchannels

EN = Backchannels.for_language("en")
ZH = Backchannels.for_language("zh")


@pytest.mark.parametrize(
    "text", ["Uh-huh.", "Mm-hmm", "yeah", "Yeah, yeah.", "Right.", "okay", "OK, I see.", "", "  ...  "]
)
def test_english_acknowledgements_let_the_prompt_go_on(text):
    assert EN.lets_go_on(text)


@pytest.mark.parametrize(
    "text",
    [
        "wait",
        "Wait, no.",
        "yeah, wait",  # a stop word inside an acknowledgement
        "Hold on.",
        "no",
        "How much is it?",
        "yeah how much",  # more than acknowledgement
        "I know",  # "no" is a word of its own, not in "know": this is other words
        "Take me off your list.",
    ],
)
def test_english_words_that_stop_the_prompt(text):
    assert not EN.lets_go_on(text)


@pytest.mark.parametrize("text", ["嗯", "嗯嗯。", "对", "对对对", "好的", "是的，是的", "哦，明白", "對的"])
def test_chinese_acknowledgements_let_the_prompt_go_on(text):
    assert ZH.lets_go_on(text)


@pytest.mark.parametrize("text", ["等一下", "嗯，等一下", "不用了", "不是", "多少钱", "对，多少钱一个月"])
def test_chinese_words_that_stop_the_prompt(text):
    assert not ZH.lets_go_on(text)


def test_a_script_overrides_the_lists_and_stop_words_win():
    mine = Backchannels.for_language("en", words=("indeed", "no"), stop_words=("no",))
    assert mine.lets_go_on("Indeed.")
    assert not mine.lets_go_on("yeah")  # not in this script's list
    assert not mine.lets_go_on("no")  # a stop word, though listed as a backchannel
    # a language without lists of its own gets English's; a region tag is the language
    assert Backchannels.for_language("fr").words == EN.words
    assert Backchannels.for_language("zh-CN").words == ZH.words
