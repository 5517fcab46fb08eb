"""The text Transformer: model maths, tokenizers, training lifecycle, sampling, per-character metrics, CLI."""

from __future__ import annotations

import math
import subprocess
import sys
import threading

import pytest
import torch
import torch.nn.functional as F

from atelier.errors import Cancelled, InputError
from atelier.write.model import GPT, GPTConfig
from atelier.write.sample import evaluate_text, filter_logits, load_text_model, write_text
from atelier.write.settings import TextSettings
from atelier.write.tokenizer import BPETokenizer, CharTokenizer, StreamDecoder
from atelier.write.train import save_text_model, train_text

VERSE = (
    "ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n\n"
    "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\nDeny thy father and refuse thy name.\n\n"
)


def tiny(vocab: int = 20, context: int = 16) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab, context, layers=2, heads=2, width=16)).eval()


def quick(**changes) -> TextSettings:
    base = dict(size="tiny", context=16, batch=4, steps=20, eval_every=10, checkpoint_every=10, eval_windows=4, warmup=0.1, bf16=False)
    return TextSettings(**{**base, **changes})


def test_a_future_token_cannot_change_an_earlier_logit():
    model = tiny()
    ids = torch.randint(0, 20, (1, 12), generator=torch.Generator().manual_seed(1))
    changed = ids.clone()
    changed[0, 8:] = (changed[0, 8:] + 5) % 20
    a, b = model(ids), model(changed)
    assert torch.allclose(a[0, :8], b[0, :8], atol=1e-6)
    assert not torch.allclose(a[0, 8:], b[0, 8:], atol=1e-3)


def test_an_untrained_model_predicts_about_uniformly():
    vocab = 65
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab, 32, 4, 4, 128)).eval()
    ids = torch.randint(0, vocab, (4, 32))
    loss = F.cross_entropy(model(ids[:, :-1]).flatten(0, 1), ids[:, 1:].flatten()).item()
    assert abs(loss - math.log(vocab)) < 0.05


def test_the_cache_gives_the_same_logits_as_a_full_pass_and_slides_past_the_context():
    model = tiny(context=8)
    ids = torch.randint(0, 20, (1, 8), generator=torch.Generator().manual_seed(2))
    full = model(ids)
    cache = model.new_cache()
    prefill = model(ids[:, :3], cache)
    steps = [model(ids[:, i : i + 1], cache) for i in range(3, 8)]
    assert torch.allclose(torch.cat([prefill, *steps], 1), full, atol=1e-5)
    # Past the context the cache keeps only the newest tokens (bounded work per token), and the
    # prediction stays close to a full pass over the last 8 (rotary positions are relative; the
    # cached deeper keys still carry a little of the dropped history, so not exactly equal).
    more = torch.randint(0, 20, (1, 20), generator=torch.Generator().manual_seed(3))
    for i in range(20):
        last = model(more[:, i : i + 1], cache)
        assert cache.keys[0].shape[2] <= 7
    window = torch.cat([ids, more], 1)[:, -8:]
    assert torch.allclose(last[0, -1], model(window)[0, -1], atol=1e-2)


def test_top_k_and_top_p_keep_the_right_tokens():
    logits = torch.log(torch.tensor([0.5, 0.25, 0.15, 0.10]))
    assert torch.isinf(filter_logits(logits, top_k=2)).tolist() == [False, False, True, True]
    # 0.5 + 0.25 = 0.75 < 0.8, so the third token is needed to reach 0.8; the fourth is not.
    assert torch.isinf(filter_logits(logits, top_p=0.8)).tolist() == [False, False, False, True]
    assert torch.isinf(filter_logits(logits, top_p=0.5)).tolist() == [False, True, True, True]
    assert torch.isinf(filter_logits(logits, top_p=0.01)).tolist() == [False, True, True, True]
    shuffled = logits[[2, 0, 3, 1]]
    assert torch.isinf(filter_logits(shuffled, top_p=0.8)).tolist() == [False, False, True, False]


def test_char_tokenizer_round_trips_and_marks_unknown_characters():
    tok = CharTokenizer.train("春眠不覺曉 hello")
    assert tok.decode(tok.encode("曉 hello")) == "曉 hello"
    assert tok.encode("z")[0] == 0 and tok.unknown("zeh") == "z"


def test_bpe_streams_multibyte_characters_whole():
    tok = BPETokenizer.train("春眠不覺曉，處處聞啼鳥。" * 20 + "the sea, the sea " * 30, vocab_size=300)
    text = "處處聞啼鳥 the sea"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    stream = StreamDecoder(tok)
    pieces = [stream.push(i) for i in ids] + [stream.flush()]
    assert "".join(pieces) == text and all("\ufffd" not in p for p in pieces)


def _uniform(model: GPT) -> GPT:
    with torch.no_grad():
        model.embed.weight.zero_()  # tied head: every logit 0, every token equally likely
    return model


def test_per_character_metrics_agree_across_tokenizers_on_a_uniform_model(tmp_path):
    text_file = tmp_path / "t.txt"
    text_file.write_text(VERSE * 3)
    char = CharTokenizer.train(VERSE)
    char_model = _uniform(GPT(GPTConfig(char.vocab_size, 32, 1, 2, 16)))
    result = evaluate_text((char_model, char, {}), text_file)
    assert result["nats_per_char"] == pytest.approx(math.log(char.vocab_size), rel=1e-5)
    assert result["bits_per_char"] == pytest.approx(math.log2(char.vocab_size), rel=1e-5)
    assert result["tokens"] == result["chars"] == len(VERSE * 3) - 1

    bpe = BPETokenizer.train(VERSE * 3, vocab_size=300)
    bpe_model = _uniform(GPT(GPTConfig(bpe.vocab_size, 32, 1, 2, 16)))
    result = evaluate_text((bpe_model, bpe, {}), text_file)
    # Every token costs ln(V); per character that is ln(V) x tokens / characters.
    assert result["nats_per_token"] == pytest.approx(math.log(bpe.vocab_size), rel=1e-5)
    assert result["nats_per_char"] == pytest.approx(math.log(bpe.vocab_size) * result["tokens"] / result["chars"], rel=1e-5)
    assert result["tokens"] < result["chars"]


@pytest.mark.slow
def test_a_tiny_model_learns_a_tiny_text_and_writes_it(tmp_path):
    corpus = tmp_path / "verse.txt"
    corpus.write_text(VERSE * 40)
    summary = train_text(corpus, tmp_path / "m.pt", quick(steps=150, eval_every=50, lr=3e-3))
    assert summary["best"]["value"] < 1.0  # from ln(vocab) ~ 3.4: it has learnt the verse
    text = write_text(tmp_path / "m.pt", "ROMEO:\n", length=60, temperature=0.5)
    assert "Romeo" in text or "soft" in text or "light" in text


@pytest.mark.slow
def test_resume_equals_a_straight_run(tmp_path):
    corpus = tmp_path / "verse.txt"
    corpus.write_text(VERSE * 10)
    train_text(corpus, tmp_path / "straight.pt", quick(steps=20))
    stop = threading.Event()
    with pytest.raises(Cancelled, match="--resume"):  # as if Ctrl-C at step 10
        train_text(corpus, tmp_path / "split.pt", quick(steps=20), on_progress=lambda e: e.step == 10 and stop.set(), cancel=stop)
    train_text(corpus, tmp_path / "split.pt", quick(steps=20), resume=True)
    a = torch.load(tmp_path / "straight.pt.train", weights_only=True)["trainer"]["model"]
    b = torch.load(tmp_path / "split.pt.train", weights_only=True)["trainer"]["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_sampling_is_deterministic_with_a_seed_and_trains_on_chinese(tmp_path):
    corpus = tmp_path / "poems.txt"
    corpus.write_text("床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。\n" * 30, encoding="utf-8")
    train_text(corpus, tmp_path / "m.pt", quick(steps=60, lr=3e-3))
    model = load_text_model(tmp_path / "m.pt")
    a = write_text(model, "床前", length=40, seed=3)
    assert a == write_text(model, "床前", length=40, seed=3)
    assert a != write_text(model, "床前", length=40, seed=4)
    assert sum("\u4e00" <= c <= "\u9fff" for c in a) > 20


@pytest.mark.slow
def test_a_time_limit_stops_cleanly_and_keeps_the_best_model(tmp_path):
    corpus = tmp_path / "verse.txt"
    corpus.write_text(VERSE * 10)
    summary = train_text(corpus, tmp_path / "m.pt", quick(steps=100_000, eval_every=1000), time_limit="2s")
    assert summary["stopped"] == "time limit" and summary["steps"] < 100_000
    assert summary["best"]["step"] == summary["steps"]
    _, _, info = load_text_model(tmp_path / "m.pt")
    assert info["step"] == summary["steps"]


def test_an_empty_or_binary_corpus_is_one_clear_line(tmp_path):
    empty, binary = tmp_path / "empty.txt", tmp_path / "photo.txt"
    empty.write_text("  \n")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(InputError, match="empty"):
        train_text(empty, tmp_path / "m.pt", quick())
    with pytest.raises(InputError, match="binary"):
        train_text(binary, tmp_path / "m.pt", quick())
    for corpus in (empty, binary):
        run = subprocess.run(
            [sys.executable, "-m", "atelier", "text", "train", str(corpus), "-o", str(tmp_path / "m.pt")], capture_output=True, text=True
        )
        assert run.returncode == 2 and run.stderr.count("error:") == 1 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines()[-1].startswith("error:")


def test_cli_samples_and_evaluates_a_model_file(tmp_path):
    tok = CharTokenizer.train(VERSE)
    torch.manual_seed(0)
    save_text_model(GPT(GPTConfig(tok.vocab_size, 32, 1, 2, 16)), tok, tmp_path / "m.pt", {"step": 0})
    (tmp_path / "held.txt").write_text(VERSE)
    cli = [sys.executable, "-m", "atelier", "text"]
    run = subprocess.run(
        [*cli, "sample", str(tmp_path / "m.pt"), "--prompt", "ROMEO:", "--length", "30", "--json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    import json

    texts = json.loads(run.stdout)
    assert len(texts) == 1 and texts[0]["text"].startswith("ROMEO:") and len(texts[0]["text"]) == 36
    run = subprocess.run([*cli, "evaluate", str(tmp_path / "m.pt"), str(tmp_path / "held.txt"), "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["nats_per_char"] > 0
    run = subprocess.run(
        [*cli, "sample", str(tmp_path / "m.pt"), "--prompt", "ROMEO:", "--temperature", "0"], capture_output=True, text=True
    )
    assert run.returncode == 2 and "temperature" in run.stderr


def test_size_auto_follows_the_time_budget():
    assert TextSettings().resolved(90).size == "tiny" and TextSettings().resolved(90).context == 128
    assert TextSettings().resolved(3600).size == "small" and TextSettings().resolved(None).context == 256
    assert TextSettings(size="base", context=64).resolved(90) == TextSettings(size="base", context=64)


def test_the_learning_rate_warms_up_then_decays_to_its_floor():
    from atelier.write.train import TextTrainer

    trainer = TextTrainer.__new__(TextTrainer)
    trainer.options, trainer.time_limit, trainer.clock = TextSettings(steps=1000, lr=1e-3, warmup=0.1, min_lr_ratio=0.1), None, 0.0
    rates = [trainer.learning_rate(step) for step in range(1000)]
    assert rates[0] == pytest.approx(1e-5) and max(rates) == pytest.approx(1e-3, rel=1e-3)
    assert rates.index(max(rates)) == 99 and rates[-1] == pytest.approx(1e-4)
    # Under a time limit the schedule follows the clock: half the budget used is mid-decay.
    trainer.time_limit, trainer.clock = 100.0, 55.0
    assert trainer.learning_rate(10) == pytest.approx(1e-4 + 0.5 * 9e-4 * (1 + math.cos(math.pi * 0.5)), rel=1e-3)
