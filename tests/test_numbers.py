"""rag.numbers: what a figure is, on its own (leftovers of the fact check's second review).
Sentences written for these tests."""

from rag.numbers import quantities, readings

from test_grounding_review import backed


def values(text: str) -> list[set[float]]:
    """Each number's readings: its value, and its value with the other separators."""
    return [{q.value} | ({q.alt} if q.alt is not None else set()) for q, _, _ in quantities(text, ways=readings(text))]


def test_a_comma_that_groups_no_thousands_is_no_thousands_separator():
    """"3,5%" was read as 35%: a thousands comma is followed by three digits, so "3,5" is three and
    a half where the text writes decimal commas, and no number at all where it does not prove it."""
    continental = "Die Quote lag bei 3,5% und 12.500 Menschen waren betroffen."
    assert values(continental) == [{3.5}, {12.5, 12500.0}]
    assert not backed("Unemployment in Korbach was 35% [1].", "Unemployment in Korbach was 3,5% in May.",
                      "What was unemployment in Korbach?")
    assert backed("Unemployment in Korbach was 3.5% [1].", "Unemployment in Korbach was 3,5% in May.",
                  "What was unemployment in Korbach?")
    # thousands grouped by threes, and the Indian lakh ("1,20,000"), keep their value
    assert values("It sold 1,250 units and 1,20,000 tickets.") == [{1250.0}, {120000.0}]
    assert values("Sizes 3,5 and 7.5 ship first.") == [{7.5}]  # a decimal point: "3,5" is no decimal comma, no number


def test_a_figure_that_went_from_one_level_to_another_is_no_range():
    """"went 3% to 5%" was read as a range from 3% to 5%, so "went to 5%" was refused as a range's
    end given as the figure. A verb that moves a figure, however plain, makes it a move."""
    q = "What is the Halvard fund's fee?"
    assert backed("The Halvard fund's fee went to 5% [1].", "The Halvard fund's fee went 3% to 5% in June.", q)
    assert backed("The Halvard fund's fee moved to 5% [1].", "The Halvard fund's fee moved from 3% to 5% in June.", q)
    # a range is still a range
    assert not backed("The Halvard fund's fee is 5% [1].", "The Halvard fund's fee is 3% to 5% a year.", q)
