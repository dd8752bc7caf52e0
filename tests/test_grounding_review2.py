"""The fact check's second review: multiplier words, percentage points, the other thousands
separator, a range's end stated as the figure, and a figure the passage reports only to deny it.
Passages and questions written for these tests, in business, health, sport, local news, science
and weather."""

from rag.numbers import quantities

from test_grounding_review import P, backed


def test_a_multiplier_word_is_a_number():
    """"doubled" was a plain word: "tripled" backed it, since the sentence's other facts were there."""
    q = "What happened to sales of the Kora scooter?"
    assert not backed("Kora scooter sales doubled in 2023 [1].", "Kora scooter sales tripled in 2023, the maker said.", q)
    assert not backed("Kora scooter sales tripled in 2023 [1].", "Kora scooter sales doubled in 2023, the maker said.", q)
    ward = "What happened to the waiting list at Brenton clinic?"
    assert not backed("The waiting list at Brenton clinic halved in 2022 [1].",
                      "The waiting list at Brenton clinic doubled in 2022.", ward)
    assert not backed("Hive losses in Vermont rose threefold in 2021 [1].", "Hive losses in Vermont doubled in 2021.",
                      "How did hive losses in Vermont change?")
    # the same multiple in other words, and a passage that gives the figure another way, still back it
    assert backed("Kora scooter sales doubled in 2023 [1].", "Kora scooter sales doubled in 2023, the maker said.", q)
    assert backed("Hive losses in Vermont rose twofold in 2021 [1].", "Hive losses in Vermont doubled in 2021.",
                  "How did hive losses in Vermont change?")
    assert backed("Kora scooter sales doubled in 2023 [1].", "Kora scooter sales rose 100% in 2023.", q)
    assert [(x.value, x.unit) for x, _, _ in quantities("Output tripled, then halved.", spelled=True)] == \
        [(3.0, "fold"), (0.5, "fold")]


def test_percentage_points_are_not_percent():
    """Already held before this review (a unit is the word after the number, and "5%" is a share):
    pinned here. "5 points" is backed by "5 percentage points" (the same figure, less precise);
    "5 percentage points" is not backed by "5 points", which may be index points ("the FTSE fell
    5 points"): the answer's unit must be the passage's, as "5 tonnes" is not backed by a bare 5."""
    q = "How did support for the ferry levy change?"
    pp = "Support for the ferry levy rose 5 percentage points in March."
    assert not backed("Support for the ferry levy rose 5% in March [1].", pp, q)
    assert not backed("Support for the ferry levy rose 5 percentage points in March [1].",
                      "Support for the ferry levy rose 5% in March.", q)
    assert backed("Support for the ferry levy rose 5 points in March [1].", pp, q)
    assert not backed("Support for the ferry levy rose 5 percentage points in March [1].",
                      "Support for the ferry levy rose 5 points in March.", q)


def test_a_number_written_with_the_other_separators():
    """A passage that writes a decimal comma ("3,5") and no decimal point writes thousands with
    dots: its "12.500" is the answer's "12,500". One "12.500" alone proves nothing (English writes
    "47.650°N" and "$1.375bn"), and "12,500" is never 12.5 in a text that proves nothing."""
    q = "How many runners started the Valencia marathon?"
    continental = "The Valencia marathon had 12.500 runners at the start; the winner's margin was 3,5 seconds."
    assert backed("The Valencia marathon had 12,500 runners [1].", continental, q)
    assert backed("The winner's margin in Valencia was 3.5 seconds [1].", continental, "What was the winner's margin?")
    assert not backed("The Valencia marathon had 12,500 runners [1].",
                      "The Valencia marathon had 12.500 runners; the winner's margin was 3.5 seconds.", q)
    assert not backed("The Valencia marathon had 12,500 runners [1].", "The Valencia marathon had 12.500 runners.", q)
    assert not backed("The Valencia marathon had 12.5 runners [1].", "The Valencia marathon had 12,500 runners.", q)


def test_a_ranges_end_is_not_the_figure():
    """"costs $5 million" was backed by "between $3 million and $5 million". An end of a range
    backs a range with that end, or a bound on its side ("up to"); a figure that moved ("from
    $3m to $5m"), a score, a date's days and years are no range."""
    q = "What will the Dunmore roof repair cost?"
    passage = "The Dunmore roof repair will cost between $3 million and $5 million, the council said."
    assert not backed("The Dunmore roof repair will cost $5 million [1].", passage, q)
    assert not backed("The Dunmore roof repair will cost $3 million [1].", passage, q)
    assert backed("The Dunmore roof repair will cost up to $5 million [1].", passage, q)
    assert backed("The Dunmore roof repair will cost at least $3 million [1].", passage, q)
    assert not backed("The Dunmore roof repair will cost up to $3 million [1].", passage, q)
    assert backed("The Dunmore roof repair will cost $3 million to $5 million [1].", passage, q)
    assert backed("The Dunmore roof repair will cost from $3 million to $5 million [1].", passage, q)
    rain = "The storm is expected to bring 20 to 40 millimetres of rain to Carrow on Friday."
    assert not backed("The storm will bring 40 millimetres of rain to Carrow [1].", rain, "How much rain will Carrow get?")
    assert backed("The storm will bring up to 40 millimetres of rain to Carrow [1].", rain, "How much rain will Carrow get?")
    # no range: a figure that moved, a rise to a level, a score, a date, years
    assert backed("Haldane's revenue rose to $5 million [1].", "Haldane's revenue rose from $3 million to $5 million.",
                  "What was Haldane's revenue?")
    assert backed("Haldane's revenue was $5 million [1].", "Haldane's revenue rose 3% to $5 million.",
                  "What was Haldane's revenue?")
    assert backed("Penrose raised its sales target to $5 million [1].",
                  "Penrose raised its sales target of $3 million to $5 million on Monday.", "What is Penrose's sales target?")
    assert backed("Corby won 3-1 [1].", "Corby won 3-1 at home on Saturday.", "What was the score of Corby's home game?")
    assert backed("The Ardent fair opens on May 13 [1].", "The Ardent fair runs May 13-14 in Lyon.", "When does the fair open?")
    assert backed("The Tarrow drought ended in 2021 [1].", "The 2019-2021 Tarrow drought ended with spring rains.",
                  "When did the Tarrow drought end?")


def test_a_figure_the_passage_denies_is_not_backed():
    """"It cost $5 million" was backed by "Reports that it cost $5 million are false". A figure in
    a clause the sentence denies ("denied that ...", "reports that ... are false", "it is not true
    that ...") backs only an answer that reports the denial; a figure outside that clause stands."""
    q = "What did the Orland stadium deal cost?"
    claim = "The Orland stadium deal cost $5 million [1]."
    assert not backed(claim, "Reports that the Orland stadium deal cost $5 million are false, the mayor said.", q)
    assert not backed(claim, "The mayor denied that the Orland stadium deal cost $5 million.", q)
    assert not backed(claim, "It is not true that the Orland stadium deal cost $5 million, the mayor said.", q)
    assert not backed("Dr Amari's trial enrolled 400 patients [1].",
                      "Dr Amari rejected claims that the trial enrolled 400 patients.", "How many patients did the trial enrol?")
    assert not backed("Keld Mining paid $2 million to the regulator [1].",
                      "Keld Mining denied paying $2 million to the regulator.", "What did Keld Mining pay the regulator?")
    # the denial reported as such, a figure after the denied clause, a denial of something else
    assert backed("The mayor denied that the Orland stadium deal cost $5 million [1].",
                  "The mayor denied that the Orland stadium deal cost $5 million.", "What did the mayor deny?")
    assert backed("That the Orland stadium deal cost $5 million [1].",
                  "The mayor denied that the Orland stadium deal cost $5 million.", "What did the mayor deny?")
    assert backed("The Orland stadium deal cost $3 million [1].",
                  "The mayor denied that the Orland stadium deal cost $5 million, saying it cost $3 million.", q)
    # a figure the denial takes as given ("the $2 million payment") is not what it denies
    assert backed("The Keld Mining payment was $2 million [1].",
                  "Keld Mining's chief denied approving the $2 million payment to the regulator.",
                  "How large was the Keld Mining payment?")
    assert backed("Harlow Foods agreed to pay $5 million [1].",
                  "Harlow Foods, which denied wrongdoing, agreed to pay $5 million to settle the case.",
                  "What did Harlow Foods agree to pay?")


def test_a_denial_denied_or_a_noun_after_denied_denies_no_figure():
    """Review of the denial rule: "there is no denying that", "nobody denied that" and "denied
    wrongdoing over ..." deny nothing; "denied that 300 ..." does deny the 300 (the clause's own
    "that" is no demonstrative); "it is wrong that" judges, it does not deny."""
    assert backed("Exports rose 5% last year [1].", "There is no denying that exports rose 5% last year.",
                  "How much did exports rise last year?")
    assert backed("The Tarn bridge cost $40 million [1].", "Nobody denied that the Tarn bridge cost $40 million.",
                  "What did the Tarn bridge cost?")
    assert backed("The Vell payment was $5 million [1].",
                  "The firm denied wrongdoing over a $5 million payment, the Vell payment, made in May.",
                  "How large was the Vell payment?")
    assert backed("Children at the Osk mine earn $2 a day [1].", "It is wrong that children at the Osk mine earn $2 a day.",
                  "What do children at the Osk mine earn?")
    assert not backed("300 workers were fired at Brisk Foods [1].",
                      "The Brisk Foods chief denied that 300 workers were fired.", "How many workers did Brisk Foods fire?")
    assert not backed("Five people died in the Orra flood [1].", "Claims that 5 people died in the Orra flood were false.",
                      "How many people died in the Orra flood?")


def test_a_signed_share_in_a_table_states_the_fall_of_its_size():
    """A table writes a fall as "-9.6%"; the answer says "fell 9.6%". A sign on anything else (a
    temperature's "-5") still is part of its value."""
    q = "How did visits to the Orton clinic change in 2026?"
    table = "Clinic | Visits 2025: 41,200 | Visits 2026: 37,245 | Change: -9.6%"
    assert backed("Visits to the Orton clinic fell 9.6% in 2026 [1].", table.replace("Clinic", "Orton"), q)
    assert not backed("Visits to the Orton clinic fell 6.9% in 2026 [1].", table.replace("Clinic", "Orton"), q)
    # review 6: only a fall the claim states; a rise, or a level, is not a negative share
    orton = table.replace("Clinic", "Orton")
    assert not backed("Visits to the Orton clinic rose 9.6% in 2026 [1].", orton, q)
    assert not backed("Orton's inflation was 2% in March [1].", "Orton's inflation was -2% in March.",
                      "What was Orton's inflation in March?")
    assert not backed("The Orton bank's deposit rate is 0.5% [1].", "The Orton bank's deposit rate is -0.5%.",
                      "What deposit rate does the Orton bank set?")
    cold = "The lowest reading at Orton was -5 degrees on 3 January."
    assert not backed("The lowest reading at Orton was 5 degrees [1].", cold, "What was the lowest reading at Orton?")
