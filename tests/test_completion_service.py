"""The request flow: typing-through, cache, superseding, debounce, precompute, usage log."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from copilot_lsp.backends.base import Generation
from copilot_lsp.config import Settings
from copilot_lsp.features import completion_service
from copilot_lsp.features.completion_service import CompletionService, adaptive_delay
from copilot_lsp.prompt.budget import approximate_tokens
from copilot_lsp.usage import UsageLog, read_events
from tests.fakes import BlockingBackend, ScriptedBackend, ThreadRunner

URI = "file:///a.py"
PREFIX = "def area(r):\n    return "
SUFFIX = "\n"
NO_WAIT = Settings(debounce_ms=0, candidates=1, precompute=False)


def service_with(backend, tmp_path: Path) -> tuple[CompletionService, ThreadRunner]:
    runner = ThreadRunner(backend)
    return CompletionService(runner, UsageLog(tmp_path / "usage.jsonl")), runner


async def typing_request_running(backend, tmp_path: Path):
    """A service whose automatic request for PREFIX is generating on ``backend`` now."""
    service, runner = service_with(backend, tmp_path)
    older = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT))
    await asyncio.to_thread(backend.started.wait, 5)
    return service, runner, older


async def test_typing_the_suggestion_is_answered_without_the_model(tmp_path: Path) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, runner = service_with(backend, tmp_path)
    first = await service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT)
    assert first.source == "model" and first.text == "3.14 * r * r"
    typed = await service.complete(URI, PREFIX + "3.1", SUFFIX, False, NO_WAIT)
    assert typed.source == "typing" and typed.text == "4 * r * r"
    assert typed.suggestions[0].suggestion_id == first.suggestions[0].suggestion_id
    assert runner.calls == 1 and len(backend.prompts) == 1


async def test_typing_through_drops_the_bracket_the_editor_closed(tmp_path: Path) -> None:
    service, _ = service_with(ScriptedBackend("max(a, b)\n"), tmp_path)
    await service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT)
    typed = await service.complete(URI, PREFIX + "max(", ")" + SUFFIX, False, NO_WAIT)
    assert typed.source == "typing" and typed.text == "a, b"


async def test_repeated_state_is_a_cache_hit(tmp_path: Path) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, _ = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, typing_through=False)
    await service.complete(URI, PREFIX, SUFFIX, True, settings)
    again = await service.complete(URI, PREFIX, SUFFIX, True, settings)
    assert again.source == "cache" and again.text == "3.14 * r * r"
    assert len(backend.prompts) == 1


async def test_invoked_candidates_are_deduplicated_and_cached_together(tmp_path: Path) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, _ = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, typing_through=False, candidates=3)
    first = await service.complete(URI, PREFIX, SUFFIX, True, settings)
    assert len(backend.prompts) == 3 and [s.text for s in first.suggestions] == ["3.14 * r * r"]
    again = await service.complete(URI, PREFIX, SUFFIX, True, settings)
    assert again.source == "cache" and len(backend.prompts) == 3


async def test_cache_and_typing_through_can_be_switched_off(tmp_path: Path) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, _ = service_with(backend, tmp_path)
    naive = dataclasses.replace(NO_WAIT, cache=False, typing_through=False)
    await service.complete(URI, PREFIX, SUFFIX, True, naive)
    again = await service.complete(URI, PREFIX, SUFFIX, True, naive)
    typed = await service.complete(URI, PREFIX + "3", SUFFIX, True, naive)
    assert again.source == typed.source == "model"
    assert len(backend.prompts) == 3


async def test_the_naive_baseline_keeps_the_cursor_line_in_the_prefix(tmp_path: Path) -> None:
    """Automatic requests start the FIM middle before the cursor for engines that heal
    tokens; the naive baseline asks the plain prefix-suffix-middle prompt."""
    backend = ScriptedBackend("3.14 * r * r\n", heals_tokens=True)
    service, _ = service_with(backend, tmp_path)
    await service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT)
    naive = dataclasses.replace(NO_WAIT, naive_baseline=True)
    await service.complete(URI, PREFIX + "3", SUFFIX, False, naive)
    assert backend.prompts[0].endswith("<|fim_middle|>def area(r):\n    return")
    assert backend.prompts[1].endswith("    return 3<|fim_suffix|>\n<|fim_middle|>")
    assert [options.token_healing for options in backend.options] == [True, False]


async def test_newer_request_supersedes_a_running_one(tmp_path: Path) -> None:
    backend = BlockingBackend("x\n")
    service, _ = service_with(backend, tmp_path)
    older = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, True, NO_WAIT))
    await asyncio.to_thread(backend.started.wait, 5)
    newer = asyncio.ensure_future(service.complete(URI, PREFIX + "r", SUFFIX, True, NO_WAIT))
    assert (await older).source == "superseded"
    assert await asyncio.to_thread(backend.saw_cancel.wait, 5)
    backend.release.set()
    assert (await newer).source == "model"
    assert len(backend.cancelled) == 1  # the older generation was stopped


async def test_automatic_requests_are_coalesced_by_the_debounce(tmp_path: Path) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, runner = service_with(backend, tmp_path)
    settings = Settings(debounce_ms=300, precompute=False)
    first = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, False, settings))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(service.complete(URI, PREFIX + "3", SUFFIX, False, settings))
    assert (await first).source == "superseded"
    assert (await second).source == "model"
    assert runner.calls == 1


async def test_invoked_requests_are_never_debounced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(completion_service.asyncio, "sleep", recording_sleep)
    service, _ = service_with(ScriptedBackend("x\n"), tmp_path)
    await service.complete(URI, PREFIX, SUFFIX, True, Settings(debounce_ms=500))
    assert waits == []
    await service.complete(URI, PREFIX + "a", SUFFIX, False, Settings(debounce_ms=500))
    assert len(waits) == 1 and 0 < waits[0] <= 0.5


def test_adaptive_delay_follows_typing_speed() -> None:
    assert adaptive_delay([], 0.15) == pytest.approx(0.05)  # after a pause: short
    fast = adaptive_delay([0.0, 0.06, 0.12, 0.18], 0.15)
    slow = adaptive_delay([0.0, 0.4, 0.8], 0.15)
    assert fast == pytest.approx(0.09) and slow == pytest.approx(0.15)
    assert adaptive_delay([0.0, 0.05], 0.0) == 0.0  # switched off


async def test_precompute_has_the_next_line_ready_when_the_user_starts_it(
    tmp_path: Path,
) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, runner = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    shown = await service.complete(URI, PREFIX, SUFFIX, False, settings, "python")
    assert service._precompute is not None
    await service._precompute
    assert runner.calls == 2 and service.model_calls == 1 and service.precompute_calls == 1
    # The user types the suggestion through, presses Enter (Python dedents after
    # `return`) and starts the next line: answered at once, and no new precompute.
    typing = await service.complete(URI, PREFIX + "3.14 * r", SUFFIX, False, settings, "python")
    assert typing.source == "typing"
    assert service._precompute is None or service._precompute.done()
    next_line = PREFIX + shown.text + "\n"
    assert backend.prompts[-1].endswith("<|fim_middle|>") and next_line in backend.prompts[-1]
    started = await service.complete(URI, next_line + "3.1", SUFFIX, False, settings, "python")
    assert started.source == "typing" and started.text == "4 * r * r"
    assert runner.calls == 2
    # Right after Enter, before any key, the precomputed line is the answer too.
    at_enter = await service.complete(URI, next_line, SUFFIX, False, settings, "python")
    assert at_enter.source == "typing" and at_enter.text == "3.14 * r * r"
    assert runner.calls == 2
    # An invoked request there asks for alternatives: the model runs.
    invoked = await service.complete(URI, next_line, SUFFIX, True, settings, "python")
    assert invoked.source == "model" and runner.calls == 3


async def test_typing_through_a_precomputed_line_precomputes_the_one_after(
    tmp_path: Path,
) -> None:
    backend = ScriptedBackend("total += 1\n")
    service, runner = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    prefix, suffix = "def f():\n    total = 0\n    ", "\n"
    await service.complete(URI, prefix, suffix, False, settings, "python")
    await service._precompute
    second = prefix + "total += 1\n    "
    typed = await service.complete(URI, second + "tot", suffix, False, settings, "python")
    assert typed.source == "typing" and typed.text == "al += 1"
    assert service._precompute is not None
    await service._precompute
    assert runner.calls == 3
    assert (second + "total += 1\n    ") in backend.prompts[-1]


async def test_a_precompute_into_the_next_lines_keeps_the_prompt_before_the_middle(
    tmp_path: Path,
) -> None:
    """The suggestion is shown on line 7; the next line's precompute is on line 8, where a
    request of its own would start a new middle. It starts the middle where the shown one
    did instead, so the engine's KV cache keeps the prompt being typed in."""
    backend = ScriptedBackend("total += 1\n", heals_tokens=True)
    service, _ = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    prefix = "def f():\n" + "    total = 0\n" * 6 + "    "
    await service.complete(URI, prefix, "\n", False, settings, "python")
    await service._precompute
    shown, precomputed = backend.prompts
    head = shown.split("<|fim_middle|>")[0]
    assert head == "<|fim_prefix|><|fim_suffix|>\n" and precomputed.startswith(head)
    assert precomputed.endswith("<|fim_middle|>" + prefix + "total += 1\n    ")


async def test_no_precompute_after_shutdown(tmp_path: Path) -> None:
    service, runner = service_with(ScriptedBackend("3.14 * r * r\n"), tmp_path)
    service.shutdown()
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    await service.complete(URI, PREFIX, SUFFIX, False, settings)
    assert service._precompute is None and runner.calls == 1


async def test_precompute_is_off_for_the_naive_baseline(tmp_path: Path) -> None:
    service, runner = service_with(ScriptedBackend("3.14 * r * r\n"), tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True, naive_baseline=True)
    await service.complete(URI, PREFIX, SUFFIX, False, settings)
    assert service._precompute is None and runner.calls == 1


async def test_a_real_request_cancels_a_running_precompute(tmp_path: Path) -> None:
    backend = BlockingBackend("x\n")
    service, _ = service_with(backend, tmp_path)
    backend.release.set()
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    await service.complete(URI, PREFIX, SUFFIX, True, settings)
    backend.release.clear()
    backend.started.clear()
    precompute = service._precompute
    assert precompute is not None
    await asyncio.to_thread(backend.started.wait, 5)  # the precompute is generating
    real = asyncio.ensure_future(service.complete(URI, "other = ", SUFFIX, True, settings))
    assert await asyncio.to_thread(backend.saw_cancel.wait, 5)
    assert precompute.cancelled()
    backend.release.set()
    assert (await real).source == "model"
    assert backend.cancelled, "the precompute's generation was stopped"


async def test_usage_log_records_shown_accepted_and_rejected_without_text(tmp_path: Path) -> None:
    service, _ = service_with(ScriptedBackend("3.14 * r * r\n"), tmp_path)
    first = await service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT, "python")
    service.accepted(first.suggestions[0].suggestion_id)
    second = await service.complete(URI, "x = ", SUFFIX, False, NO_WAIT, "python")
    await service.complete(URI, "y = ", SUFFIX, False, NO_WAIT, "python")  # replaces `second`
    events = read_events(tmp_path / "usage.jsonl")
    kinds = [event["event"] for event in events]
    assert kinds.count("completion") == 3 and kinds.count("shown") == 3
    assert {"event": "accepted", "id": first.suggestions[0].suggestion_id}.items() <= next(
        event for event in events if event["event"] == "accepted"
    ).items()
    rejected = [event for event in events if event["event"] == "rejected"]
    assert [event["id"] for event in rejected] == [second.suggestions[0].suggestion_id]
    assert all("text" not in event for event in events)
    assert "3.14" not in (tmp_path / "usage.jsonl").read_text()


async def test_usage_log_keeps_text_only_when_opted_in(tmp_path: Path) -> None:
    service, _ = service_with(ScriptedBackend("3.14 * r * r\n"), tmp_path)
    service.usage.include_text = True
    await service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT)
    shown = [e for e in read_events(tmp_path / "usage.jsonl") if e["event"] == "shown"]
    assert shown[0]["text"] == "3.14 * r * r"


async def test_a_request_during_the_model_load_is_answered_once_it_is_loaded(
    tmp_path: Path,
) -> None:
    backend = ScriptedBackend("3.14 * r * r\n")
    service, runner = service_with(backend, tmp_path)
    runner.state = "loading"
    older = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT))
    waiting = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, False, NO_WAIT))
    await asyncio.sleep(0.2)
    assert not waiting.done() and runner.calls == 0
    runner.state = "ready"
    assert (await older).source == "superseded"  # only the latest request waits
    answer = await waiting
    assert answer.source == "model" and answer.text == "3.14 * r * r"
    runner.state = "failed"
    assert (await service.complete(URI, PREFIX, SUFFIX, True, NO_WAIT)).source == "not-ready"


async def test_typing_requests_get_their_own_smaller_prompt_budget(tmp_path: Path) -> None:
    backend = ScriptedBackend("x\n")
    service, _ = service_with(backend, tmp_path)
    prefix = "".join(f"value_{number} = {number}\n" for number in range(2000)) + "x = "
    settings = dataclasses.replace(NO_WAIT, typing_prompt_tokens=256, prompt_tokens=1024)
    await service.complete(URI, prefix, SUFFIX, False, settings)
    await service.complete(URI, prefix, SUFFIX, True, settings)
    typing, invoked = (approximate_tokens(prompt) for prompt in backend.prompts)
    assert 200 < typing <= 256 + 16
    assert 800 < invoked <= 1024 + 16


async def test_a_cancelled_typing_request_finishes_and_answers_by_typing_through(
    tmp_path: Path,
) -> None:
    backend = BlockingBackend("3.14 * r * r\n")
    service, runner, older = await typing_request_running(backend, tmp_path)
    older.cancel()  # the editor's cancel at the next keystroke
    with pytest.raises(asyncio.CancelledError):
        await older
    backend.release.set()
    while service._documents[URI].running is not None:
        await asyncio.sleep(0.01)
    assert not backend.cancelled, "the generation ran to its end"
    later = await service.complete(URI, PREFIX + "3.1", SUFFIX, False, NO_WAIT)
    assert later.source == "typing" and later.text == "4 * r * r"
    assert runner.calls == 1


async def test_a_typing_request_waits_for_the_generation_of_its_earlier_state(
    tmp_path: Path,
) -> None:
    backend = BlockingBackend("3.14 * r * r\n", written="3.1")
    service, runner, older = await typing_request_running(backend, tmp_path)
    newer = asyncio.ensure_future(service.complete(URI, PREFIX + "3.", SUFFIX, False, NO_WAIT))
    await asyncio.sleep(0.05)
    backend.release.set()
    assert (await older).source == "superseded"
    answer = await newer
    assert answer.source == "typing" and answer.text == "14 * r * r"
    assert runner.calls == 1 and not backend.cancelled


@pytest.mark.parametrize(
    ("written", "typed"),
    [("3.1", "r"), ("", "3.")],
    ids=["the model wrote something else", "the model has written nothing yet"],
)
async def test_a_typing_request_does_not_wait_for_a_generation_that_cannot_answer_it(
    tmp_path: Path, written: str, typed: str
) -> None:
    backend = BlockingBackend("3.14 * r * r\n", written=written)
    service, runner, older = await typing_request_running(backend, tmp_path)
    newer = asyncio.ensure_future(service.complete(URI, PREFIX + typed, SUFFIX, False, NO_WAIT))
    assert (await older).source == "superseded"
    assert await asyncio.to_thread(backend.saw_cancel.wait, 5)
    backend.release.set()
    assert (await newer).source == "model" and runner.calls == 2


async def test_a_block_shows_its_first_line_while_the_model_writes_the_rest(
    tmp_path: Path,
) -> None:
    body = "def area(r):\n    "
    block = "a = r * r\n    return 3.14 * a\n"
    backend = BlockingBackend(block, written="a = r * r\n    ret")
    service, runner = service_with(backend, tmp_path)
    first = await asyncio.wait_for(service.complete(URI, body, "\n", False, NO_WAIT), 5)
    assert first.source == "model" and first.text == "a = r * r"
    assert not backend.release.is_set(), "answered before the block was finished"
    backend.release.set()
    while service._documents[URI].running is not None:
        await asyncio.sleep(0.01)
    after_enter = await service.complete(URI, body + "a = r * r\n    ", "\n", False, NO_WAIT)
    assert after_enter.source == "typing" and after_enter.text == "return 3.14 * a"
    assert runner.calls == 1


async def test_a_one_line_answer_comes_whole_with_its_next_line_precomputed(
    tmp_path: Path,
) -> None:
    # The model thread has written the whole line but not yet returned.
    backend = BlockingBackend("3.14 * r * r\n", written="3.14 * r * r\n")
    service, _ = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    request = asyncio.ensure_future(service.complete(URI, PREFIX, SUFFIX, False, settings))
    await asyncio.to_thread(backend.started.wait, 5)
    await asyncio.sleep(0.1)
    assert not request.done(), "a finished single-line answer is not answered early"
    backend.release.set()
    first = await request
    assert first.source == "model" and first.completion is not None
    while service.precompute_calls == 0:
        await asyncio.sleep(0.01)


async def test_a_request_in_another_document_stops_a_generation_nobody_waits_for(
    tmp_path: Path,
) -> None:
    backend = BlockingBackend("3.14 * r * r\n")
    service, _, older = await typing_request_running(backend, tmp_path)
    older.cancel()  # the editor cancelled it; its generation would go on
    with pytest.raises(asyncio.CancelledError):
        await older
    elsewhere = asyncio.ensure_future(
        service.complete("file:///b.py", "x = ", "\n", False, NO_WAIT)
    )
    assert await asyncio.to_thread(backend.saw_cancel.wait, 5)
    backend.release.set()
    assert (await elsewhere).source == "model"


async def test_the_line_after_a_block_is_precomputed_once_the_block_is_written(
    tmp_path: Path,
) -> None:
    backend = BlockingBackend("a = r * r\n    return 3.14 * a\n", written="a = r * r\n    ret")
    service, _ = service_with(backend, tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    first = await asyncio.wait_for(
        service.complete(URI, "def area(r):\n    ", "\n", False, settings), 5
    )
    assert first.text == "a = r * r" and service.precompute_calls == 0
    backend.release.set()
    async with asyncio.timeout(5):
        while service.precompute_calls == 0:
            await asyncio.sleep(0.01)


async def test_a_generation_from_before_a_reset_is_not_served_afterwards(
    tmp_path: Path,
) -> None:
    """The model or the settings changed while a generation ran (and it ran to its end):
    what it wrote is not served by typing-through."""

    class FinishesAnyway(BlockingBackend):
        def generate(self, prompt, options, cancel, stop_check=None):  # type: ignore[no-untyped-def]
            self.started.set()
            self.release.wait(5)
            return Generation(self.answer, "stop_token", len(prompt), 0, len(self.answer), 0.0, 0.0)

    backend = FinishesAnyway("3.14 * r * r\n")
    service, runner, older = await typing_request_running(backend, tmp_path)
    service.reset()
    backend.release.set()
    assert (await older).source == "superseded"
    later = await service.complete(URI, PREFIX + "3.1", SUFFIX, False, NO_WAIT)
    assert later.source == "model" and runner.calls == 2


async def test_a_reset_cancels_the_running_generation(tmp_path: Path) -> None:
    backend = BlockingBackend("3.14 * r * r\n")
    service, _, older = await typing_request_running(backend, tmp_path)
    service.reset()
    assert await asyncio.to_thread(backend.saw_cancel.wait, 5)
    assert (await older).source == "superseded"


async def test_closing_the_document_stops_its_precompute(tmp_path: Path) -> None:
    service, runner = service_with(ScriptedBackend("3.14 * r * r\n"), tmp_path)
    settings = dataclasses.replace(NO_WAIT, precompute=True)
    await service.complete(URI, PREFIX, SUFFIX, False, settings, "python")
    precompute = service._precompute
    assert precompute is not None and not precompute.done()
    service.closed("file:///other.py")
    assert not precompute.done()
    service.closed(URI)
    await asyncio.gather(precompute, return_exceptions=True)
    assert precompute.cancelled() and runner.calls == 1
