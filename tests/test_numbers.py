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
    # three groups and more (review 5: "$10,000,000" had become no number at all)
    assert values("Brant paid $10,000,000 for 1,234,567 shares.") == [{10000000.0}, {1234567.0}]
    assert backed("Brant Holdings paid $10,000,000 for the terminal [1].",
                  "Brant Holdings paid $10,000,000 for the ferry terminal in May.", "What did Brant Holdings pay?")
    assert values("Sizes 3,5 and 7.5 ship first.") == [{7.5}]  # a decimal point: "3,5" is no decimal comma, no number


def test_a_figure_that_went_from_one_level_to_another_is_no_range():
    """"went 3% to 5%" was read as a range from 3% to 5%, so "went to 5%" was refused as a range's
    end given as the figure. A verb that moves a figure, however plain, makes it a move."""
    q = "What is the Halvard fund's fee?"
    assert backed("The Halvard fund's fee went to 5% [1].", "The Halvard fund's fee went 3% to 5% in June.", q)
    assert backed("The Halvard fund's fee moved to 5% [1].", "The Halvard fund's fee moved from 3% to 5% in June.", q)
    # a range is still a range
    assert not backed("The Halvard fund's fee is 5% [1].", "The Halvard fund's fee is 3% to 5% a year.", q)


def test_a_number_joined_to_a_name_is_part_of_the_name():
    """"PRISM-3", "Halo-1", "COVID-19" and "F-35" are names, not 3, 1, 19 and 35: read as numbers
    the question gave, they had to stand beside the evidence, so a right answer was refused when the
    sentence that held it did not repeat the name. A month's "Mar-2025" and "mid-2026" are dates."""
    from rag.support import coverage

    assert values("The PRISM-3 trial and the F-35 order; COVID-19 cases rose 5%.") == [{5.0}]
    assert values("Sales in Mar-2025 and in mid-2026.") == [{2025.0}, {2026.0}]
    assert values("Harrow beat Lyle 3-1.") == [{3.0}, {1.0}]  # a score is two numbers
    q = "How long did the Halo-1 launch take to reach orbit?"
    assert coverage(q, "Halo Launch\n\nThe satellite reached orbit 52 minutes after lift-off.").numbers == 1.0
