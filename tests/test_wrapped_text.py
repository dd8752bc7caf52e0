"""A text file wrapped at a fixed width reads as its paragraphs: a sentence broken across lines
is one sentence, while short lines (a byline, a date), list items and markdown blocks stay
lines of their own, and every offset into the file still holds."""

from __future__ import annotations

from pathlib import Path

from rag.chunking import split_sentences
from rag.ingest import load_file
from rag.wrapped_text import join_wrapped_lines

STORY = """Harbour board delays vote on ferry terminal

By Sam Ollerton
12 March 2026

The Kellsey harbour board postponed its vote on the new ferry terminal on
Tuesday after the council's planning officers asked for a fresh flood risk
assessment, the third delay since the scheme was first put forward in 2023.
Board chair Rita Amsel said the vote would now be taken in May.

The terminal would replace the 1970s building on the north quay and is
expected to cost 14.5 million pounds, of which the regional transport fund
would pay about half. Ferry operator Westline has said it will add two
sailings a day to Brannick once the terminal opens.

Opponents, led by the North Quay Residents' Association, say the larger
building will block views of the old lighthouse and bring more traffic to
the narrow streets of the old town. The association has collected 2,300
signatures against the plan.

The board's letter to the council, sent on 3 March, ended with these words
      We cannot support a building of this size on the north quay unless the
      flood risk assessment shows it can be built safely.

Three steps were agreed at the meeting:
- a fresh flood risk assessment by the council's consulting engineers in April
- a public exhibition of the revised drawings at the harbour office
- a vote of the full board in May

Notes:
- The board meets on the first Tuesday of each month, at the
  harbour office.
- Its minutes are published two weeks after each meeting.
"""


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_a_wrapped_story_reads_as_whole_sentences_and_keeps_its_short_lines(tmp_path: Path):
    path = tmp_path / "ferry.txt"
    path.write_text(STORY, encoding="utf-8")
    text, docs = load_file(path, path.name)
    assert len(text) == len(STORY)  # a line break became a space: offsets hold
    sentences = _sentences(text)
    assert ("The terminal would replace the 1970s building on the north quay and is expected to cost 14.5 "
            "million pounds, of which the regional transport fund would pay about half.") in sentences
    assert ("The Kellsey harbour board postponed its vote on the new ferry terminal on Tuesday after the "
            "council's planning officers asked for a fresh flood risk assessment, the third delay since the "
            "scheme was first put forward in 2023.") in sentences
    lines = text.split("\n")
    assert "By Sam Ollerton" in lines and "12 March 2026" in lines  # short lines: not run on
    assert docs[0].title == "Harbour board delays vote on ferry terminal" and docs[0].date == "2026-03-12"
    assert "- Its minutes are published two weeks after each meeting." in lines  # an item of its own
    assert "- a fresh flood risk assessment by the council's consulting engineers in April" in lines
    # an item's own wrapped line runs on; a quote set in further does not run into the line above it
    assert "- The board meets on the first Tuesday of each month, at the   harbour office." in lines
    assert "The board's letter to the council, sent on 3 March, ended with these words" in lines
    assert "Notes:" in lines


def test_a_file_of_one_line_per_paragraph_is_left_as_it_is():
    one_line_each = "\n\n".join(" ".join(p.split()) for p in STORY.split("\n\n"))
    # a caption and its credit: a line that would run on, in a file that is not wrapped
    one_line_each += "\n\nThe north quay and its lighthouse at low tide in winter\nphotographed by the board\n"
    assert join_wrapped_lines(one_line_each) == one_line_each


def test_markdown_blocks_stay_apart_and_only_prose_is_joined():
    prose = ("The pilot scheme ran for six months in three wards and cut the average wait for a\n"
             "home visit from nine days to four, according to the trust's own figures, which\n"
             "were checked by the county's auditors before the board met in June.\n\n")
    text = ("---\ntitle: Home visits\ndate: 2026-06-30\n---\n# Home visits pilot\n\n" + prose * 4
            + "## Results by ward\n\n| Ward | Wait (days) |\n|---|---|\n| North | 4 |\n\n"
            "```\nwait = visits / staff\nsummary of results by\nward and month\n```\n"
            "> The scheme should be extended to every ward, the report\n> says in its conclusion.\n")
    out = join_wrapped_lines(text, start=text.index("# Home"))
    assert len(out) == len(text)
    assert out.startswith("---\ntitle: Home visits\ndate: 2026-06-30\n---\n# Home visits pilot\n\n")
    assert ("The pilot scheme ran for six months in three wards and cut the average wait for a home visit "
            "from nine days to four, according to the trust's own figures, which were checked by the "
            "county's auditors before the board met in June.") in out.split("\n")
    assert "## Results by ward\n\n| Ward | Wait (days) |\n|---|---|\n| North | 4 |\n" in out
    assert "```\nwait = visits / staff\nsummary of results by\nward and month\n```\n" in out  # code as it is
    assert "> The scheme should be extended to every ward, the report\n> says" in out


def test_a_forwarded_header_block_keeps_one_field_a_line():
    text = ("Please see the note below from the coordinator about the winter rota for the\n"
            "ferry crews, which changes the relief pattern at both ends of the route from\n"
            "the start of next month and affects the weekend sailings as well as weekdays.\n\n"
            "---------- Forwarded message ---------\n"
            "From: Dana Whitlow <dana@example.org>\n"
            "Subject: Winter rota for the ferry crews at both ends of the Kellsey route\n"
            "To: Operations Planning <ops@example.org>\n\n"
            "The relief skipper starts on the sixteenth and the rota moves to a four-week\n"
            "cycle, so each crew works two weekends in four rather than every other one,\n"
            "and the office will publish the new sheets on the portal by Friday evening.\n")
    joined = join_wrapped_lines(text, min_runs=2)
    assert "Subject: Winter rota for the ferry crews at both ends of the Kellsey route\nTo:" in joined
    assert "the ferry crews, which changes" in joined.replace("\n", " ") and joined.count("\n") < text.count("\n")
