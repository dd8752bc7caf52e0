"""Config precedence and errors; the system prompt setting reaches the prompt."""

import re

import pytest

from rag.config import Config, load_config
from rag.errors import RagError
from rag.prompt import SYSTEM_PROMPT, build_prompt, fit_passages
from rag.types import Passage


def test_precedence_defaults_file_env_overrides(tmp_path, monkeypatch):
    for name in ("RAG_K", "RAG_MODEL", "RAG_LLM_MODEL", "RAG_CONFIG", "RAG_HYBRID", "RAG_SYSTEM_PROMPT"):
        monkeypatch.delenv(name, raising=False)
    file = tmp_path / "rag.toml"
    file.write_text('k = 6\nhybrid = false\nmodel = "qwen2.5-0.5b"\n')
    assert load_config(file).k == 6 and load_config(file).hybrid is False
    monkeypatch.setenv("RAG_K", "3")
    monkeypatch.setenv("RAG_LLM_MODEL", "/models/any.gguf")
    cfg = load_config(file)
    assert cfg.k == 3 and cfg.model == "/models/any.gguf" and cfg.hybrid is False
    assert load_config(file, k=8).k == 8
    assert Config().system_prompt is None


def test_bad_settings_name_the_value(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_K", "four")
    with pytest.raises(RagError, match="k='four'"):
        load_config()
    monkeypatch.delenv("RAG_K")
    with pytest.raises(RagError, match="unknown config setting 'topk'"):
        Config().replace(topk=3)
    with pytest.raises(RagError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_system_prompt_setting_reaches_the_prompt(monkeypatch):
    monkeypatch.setenv("RAG_SYSTEM_PROMPT", "Answer from the passages and cite them like [1].")
    cfg = load_config()
    p = Passage("a:0", "a.txt", "T", None, "Copper rose 3%.", 0, 15, 0.9, 1)
    messages = build_prompt("Did copper rise?", [p], cfg.system_prompt)
    assert messages[0]["content"] == "Answer from the passages and cite them like [1]."
    assert build_prompt("Did copper rise?", [p])[0]["content"] == SYSTEM_PROMPT
    # the passage budget counts the prompt actually sent
    count = lambda s: len(s.split())  # noqa: E731
    assert fit_passages("q", [p], count, n_ctx=300, max_tokens=10, system=cfg.system_prompt) == [p]
    with pytest.raises(ValueError, match="no room"):
        fit_passages("q", [p], count, n_ctx=300, max_tokens=10, system="word " * 300)


def test_a_setting_that_does_not_parse_is_an_error_naming_it(monkeypatch):
    from rag.config import load_config
    from rag.errors import RagError

    monkeypatch.setenv("RAG_HYBRID", "ture")
    with pytest.raises(RagError, match="hybrid='ture'"):
        load_config()
    monkeypatch.setenv("RAG_HYBRID", "off")
    assert load_config().hybrid is False
    monkeypatch.setenv("RAG_K", "four")
    with pytest.raises(RagError, match="k='four'"):
        load_config()


def test_a_misspelt_setting_in_the_environment_is_logged_by_name(monkeypatch, caplog, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_CHUNK_TOKEN", "100")  # RAG_CHUNK_TOKENS is the setting
    monkeypatch.setenv("RAG_UI_AUTH", "user:pass")  # another part's variable, nothing like a setting
    with caplog.at_level("WARNING", logger="rag.config"):
        cfg = load_config()
    assert cfg.chunk_tokens == Config().chunk_tokens
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "RAG_CHUNK_TOKEN " in warned[0] and "RAG_CHUNK_TOKENS" in warned[0]
    load_config()  # read again for the next question: not warned again
    assert len(caplog.records) == 1


def test_a_custom_system_prompt_without_its_own_judge_threshold_is_logged(tmp_path, embedder, caplog):
    from rag.assistant import Assistant, uncalibrated_judge

    custom = "Answer from the passages and cite them like [1]."
    assert uncalibrated_judge(Config().replace(system_prompt=custom))
    assert not uncalibrated_judge(Config())
    assert not uncalibrated_judge(Config().replace(system_prompt=SYSTEM_PROMPT))
    assert not uncalibrated_judge(Config().replace(system_prompt=custom, judge_threshold=0.6))
    assert not uncalibrated_judge(Config().replace(system_prompt=custom, judge="off"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Harbour fees\n\nThe harbour board raised its fees by 4% in March.\n")
    with caplog.at_level("WARNING", logger="rag.assistant"):
        Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder, system_prompt=custom)
    assert any("judge_threshold" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="rag.assistant"):
        Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    assert not any("judge_threshold" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("setting, value, message", [
    ("k", 1_000_000_000, "k=1000000000 must be a number of passages from 1 to 100"),
    ("k", True, "k=True is not a valid whole number"),
    ("k", 4.7, "k=4.7 is not a valid whole number"),
    ("chunk_tokens", 5, "chunk_tokens=5 must be"),
    ("chunk_overlap", 500, "chunk_overlap=500 must be less than chunk_tokens=150"),
    ("n_ctx", 0, "n_ctx=0 must be"),
    ("max_tokens", -1, "max_tokens=-1 must be"),
    ("temperature", -1, "temperature=-1.0 must be"),
    ("judge_threshold", 2, "judge_threshold=2.0 must be a probability"),
    ("refuse_below", float("nan"), "refuse_below=nan must be"),
    ("llm_timeout", float("nan"), "llm_timeout=nan must be a positive number of seconds"),
    ("n_threads", "abc", "n_threads='abc' is not a valid whole number"),
    ("n_threads", -3, "n_threads=-3 must be"),
    ("model_wait", -1, "model_wait=-1.0 must be"),
    ("model", 5, "model=5 is not a valid string"),
    ("llm_url", 5, "llm_url=5 is not a valid string"),
    ("system_prompt", 5, "system_prompt=5 is not a valid string"),
    ("llm_url", "http://", "llm_url='http://' is not an http:// or https:// URL with a host"),
    ("llm_url", "http://[::1/v1", "is not an http:// or https:// URL with a host"),
])
def test_a_value_out_of_range_or_of_the_wrong_type_is_an_error_naming_it(setting, value, message):
    with pytest.raises(RagError, match=re.escape(message)):
        load_config(**{setting: value})


def test_a_config_file_named_but_missing_or_not_text_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(RagError, match=r"nope.toml \(RAG_CONFIG\) does not exist"):
        load_config()
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path))
    with pytest.raises(RagError, match="it is a folder"):
        load_config()
    latin = tmp_path / "latin.toml"
    latin.write_bytes("system_prompt = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(RagError, match="cannot be read as UTF-8"):
        load_config(latin)


def test_a_question_may_not_ask_for_more_passages_than_the_limit(tmp_path, embedder):
    from rag import Assistant
    from rag.errors import QuestionError

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry Line Adds Sailings\n\nThe ferry line added three sailings on Tuesday.\n")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    with pytest.raises(QuestionError, match="k=1000000000: ask for 1 to 100 passages"):
        a.retrieve("How many sailings?", k=1_000_000_000)


def test_judge_context_is_one_of_its_values():
    from rag.config import Config
    from rag.errors import RagError

    assert Config().judge_context == "neighbours" and Config(judge_context="own").judge_context == "own"
    with pytest.raises(RagError, match="judge_context='nearby' is not one of neighbours, own"):
        Config(judge_context="nearby")


def test_an_empty_index_dir_is_an_error_not_the_current_folder():
    from rag.config import Config, index_dir_of
    from rag.errors import RagError

    with pytest.raises(RagError, match="index_dir='' names no folder"):
        index_dir_of(Config(), "seeds", "")


def test_the_cli_refuses_an_empty_index_dir_and_writes_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rag.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ask", "How much did it cost?", "--index-dir", ""])
    assert result.exit_code != 0 and "names no folder" in result.output
    assert list(tmp_path.iterdir()) == []
