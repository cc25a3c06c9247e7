"""The language server: the only module that registers LSP handlers. Handlers stay thin."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from copilot_lsp import __version__
from copilot_lsp.backends.base import Backend, BackendError, CancelToken
from copilot_lsp.config import Settings, parse_settings
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.documents import Document, DocumentStore, PositionError
from copilot_lsp.features import test_generation
from copilot_lsp.features.completion_service import CompletionService
from copilot_lsp.model_host import ModelHost, ModelSpec
from copilot_lsp.models import concrete_model
from copilot_lsp.rpc_guard import GuardedProtocol, report_protocol_error
from copilot_lsp.syntax import LANGUAGES
from copilot_lsp.usage import UsageLog

log = logging.getLogger(__name__)
STATUS_REQUEST = "copilot/status"
DOCUMENT_TEXT_REQUEST = "copilot/documentText"
"""Debug request: the server's copy of an open document (tests compare it with the editor's)."""
ACCEPTED_COMMAND = "copilot.accepted"
"""Run by the client when the user accepts a suggestion (argument: the suggestion id)."""
REJECTED_COMMAND = "copilot.rejected"
"""Optionally run by the client when the user dismisses a suggestion."""
GENERATE_TESTS_COMMAND = "copilot.generateTests"


class CopilotProtocol(GuardedProtocol, LanguageServerProtocol):
    """Keeps open documents in our own store (exact LSP line breaks and encodings);
    GuardedProtocol answers malformed requests instead of dropping them."""

    _server: CopilotServer

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        item = params.text_document
        self._server.documents.open(item.uri, item.text, item.language_id, item.version)
        self._server.context.open(item.uri, item.text, item.language_id, item.version)
        yield from ()

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        store = self._server.documents
        document = store.get(params.text_document.uri)
        if document is None:
            log.warning("change for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                document.apply_change(
                    change.text,
                    (start.line, start.character),
                    (end.line, end.character),
                    store.encoding,
                )
            else:
                document.apply_change(change.text, None, None, store.encoding)
        document.version = params.text_document.version
        self._server.context.change(document.uri, document.text, document.version)
        yield from ()

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        self._server.documents.close(params.text_document.uri)
        self._server.completions.closed(params.text_document.uri)
        self._server.context.close(params.text_document.uri)
        yield from ()

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args: Any):
        """Over TCP, end the connection rather than raise SystemExit as pygls does: raised
        inside asyncio's connection task, asyncio logs it with a traceback. pygls then
        stops the server as when a client leaves, and ``serve`` returns the exit code."""
        if not isinstance(self.writer, asyncio.StreamWriter):
            yield from super().lsp_exit(*args)  # stdio and WebSocket exit cleanly
            return
        if (handler := self.fm.features.get(lsp.EXIT)) is not None:
            yield handler, args, None
        self.writer.close()


class CopilotServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "copilot-lsp",
            __version__,
            protocol_cls=CopilotProtocol,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            # pygls' pool only reads stdin, one line or body at a time; with the default
            # size, a burst of messages grew it by a thread now and then (a race in
            # ThreadPoolExecutor between handing back a result and marking itself idle).
            max_workers=1,
        )
        self.documents = DocumentStore()
        self.context = ContextEngine()
        """Syntax trees, workspace index and cross-file snippets (copilot_lsp/context)."""
        self.settings = Settings()
        self.model = ModelHost()
        self.completions = CompletionService(self.model, UsageLog(), self.context)
        self.pending_problems: list[str] = []
        """Settings problems found during initialize, shown once the client is ready."""
        self._load_task: asyncio.Task[None] | None = None
        self.shut_down = False
        self.exit_code = 0
        """1 when the client sends `exit` without `shutdown` first (as LSP asks)."""
        self.auth_token: str | None = None
        """Set for network listeners with a token: clients must initialize with it."""
        self.counters: Counter[str] = Counter()
        """Request outcomes for copilot/status: requests, answered, empty, cancelled (status
        adds modelCalls, precomputeCalls, fromCache and typingThrough from the completion
        service)."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        if not report_protocol_error(self.protocol, error):
            super().report_server_error(error, source)

    def tell_user(self, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        log.warning("%s", message)
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def apply_settings(self, raw: Any) -> None:
        parsed = parse_settings(raw, self.settings)
        if parsed.settings != self.settings:
            self.completions.reset()  # no answer made under the old settings is served
        self.settings = parsed.settings
        for problem in parsed.problems:
            self.tell_user(f"copilot-lsp: {problem}")
        self.apply_usage_settings()
        if self.model.needs_load(ModelSpec.of(self.settings)):
            self.start_model_load()

    def apply_usage_settings(self) -> None:
        self.completions.usage.enabled = self.settings.usage_log
        self.completions.usage.include_text = self.settings.usage_log_text

    def watch_workspace_files(self) -> None:
        """Ask the client to report files created, changed or deleted on disk (by git, a
        formatter, another editor), so that cross-file context follows them."""
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace else None
        if not (watched and watched.dynamic_registration):
            return
        extensions = sorted({ext[1:] for spec in LANGUAGES.values() for ext in spec.extensions})
        pattern = f"**/*.{{{','.join(extensions)}}}"
        options = lsp.DidChangeWatchedFilesRegistrationOptions(
            watchers=[lsp.FileSystemWatcher(glob_pattern=pattern)]
        )
        registration = lsp.Registration(
            id=str(uuid.uuid4()),
            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        self.client_register_capability(lsp.RegistrationParams(registrations=[registration]))

    def start_model_load(self) -> None:
        spec = ModelSpec.of(self.settings)
        self.completions.reset()
        self._load_task = asyncio.ensure_future(self._load_model(spec))

    async def _load_model(self, spec: ModelSpec) -> None:
        progress = self.work_done_progress
        supports_progress = bool(
            self.client_capabilities.window and self.client_capabilities.window.work_done_progress
        )
        token = str(uuid.uuid4())
        loop = asyncio.get_running_loop()

        def report(message: str) -> None:
            log.info("%s", message)
            if supports_progress:
                loop.call_soon_threadsafe(
                    progress.report, token, lsp.WorkDoneProgressReport(message=message)
                )

        if supports_progress:
            try:
                await progress.create_async(token)
                progress.begin(token, lsp.WorkDoneProgressBegin(title="copilot-lsp: loading model"))
            except Exception:  # the client refused the token: load without progress
                supports_progress = False
        try:
            await self.model.load(spec, report)
            done = f"model ready ({self.model.load_seconds:.1f} s)"
        except Exception as error:
            done = f"model failed to load: {error}"
            self.tell_user(f"copilot-lsp: {done}", lsp.MessageType.Error)
        if supports_progress:
            progress.end(token, lsp.WorkDoneProgressEnd(message=done))

    def status(self) -> dict[str, Any]:
        return {
            "state": self.model.state,
            "model": concrete_model(self.settings.model, self.settings.threads),
            "backend": self.settings.backend,
            "error": self.model.error,
            "loadSeconds": self.model.load_seconds,
            "lastGeneration": self.completions.last_generation,
            "answers": dict(self.completions.counts),
            "indexedFiles": len(self.context.workspace.files()),
            "version": __version__,
            "counters": {
                **self.counters,
                "modelCalls": self.completions.model_calls,
                "precomputeCalls": self.completions.precompute_calls,
                "fromCache": self.completions.counts.get("cache", 0),
                "typingThrough": self.completions.counts.get("typing", 0),
            },
            "generationsInFlight": self.model.in_flight,
            "threads": threading.active_count(),
        }

    def document_text(self, params: Any) -> dict[str, Any]:
        uri = getattr(params, "uri", None)
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams("expected {uri: string}")
        document = self.document_or_error(uri)
        return {"text": document.text, "version": document.version}

    def document_or_error(self, uri: str) -> Document:
        document = self.documents.get(uri)
        if document is None:
            raise JsonRpcInvalidParams(f"document {uri} is not open")
        return document

    async def inline_completion(
        self, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList:
        self.counters["requests"] += 1
        try:
            answer = await self._inline_completion(params)
        except asyncio.CancelledError:
            self.counters["cancelled"] += 1
            raise
        self.counters["answered" if answer.items else "empty"] += 1
        return answer

    async def _inline_completion(
        self, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList:
        document = self.document_or_error(params.text_document.uri)
        try:
            target = completion_target(
                document,
                params.position,
                params.context.selected_completion_info,
                self.documents.encoding,
            )
        except PositionError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        invoked = params.context.trigger_kind == lsp.InlineCompletionTriggerKind.Invoked
        try:
            result = await self.completions.complete(
                document.uri,
                target.prefix,
                target.suffix,
                invoked,
                self.settings,
                document.language_id,
            )
        except BackendError as error:
            self.tell_user(f"copilot-lsp: completion failed: {error}", lsp.MessageType.Error)
            return lsp.InlineCompletionList(items=[])
        return lsp.InlineCompletionList(
            items=[
                lsp.InlineCompletionItem(
                    insert_text=target.head + suggestion.text,
                    range=target.replace,
                    command=lsp.Command(
                        title="Accepted",
                        command=ACCEPTED_COMMAND,
                        arguments=[suggestion.suggestion_id],
                    ),
                )
                for suggestion in result.suggestions
            ]
        )

    # -- features: test generation ------------------------------------------------------

    def workspace_root(self) -> Path | None:
        try:
            root = self.workspace.root_path
        except RuntimeError:  # not initialized yet
            return None
        return Path(root) if root else None

    async def generate_tests(self, uri: str, position: lsp.Position) -> lsp.WorkspaceEdit:
        document = self.document_or_error(uri)
        fs_path = to_fs_path(uri)
        if not fs_path or not uri.startswith("file:"):
            raise JsonRpcInvalidParams("test generation needs a file on disk")
        encoding = self.documents.encoding
        try:
            offset = document.offset_at(position.line, position.character, encoding)
        except PositionError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        line_start = document.text.rfind("\n", 0, offset) + 1
        if self.model.state != "ready":
            raise JsonRpcInternalError("the model is not loaded yet")
        path, root = Path(fs_path), self.workspace_root()

        def read(file: Path) -> str | None:
            # The editor's buffer (unsaved changes) wins, however the path was spelled.
            open_document = test_generation.open_test_document(self.documents.get, file)
            if open_document is not None:
                return open_document.text
            return test_generation.read_file(file)

        def work(backend: Backend, cancel: CancelToken) -> test_generation.GeneratedTests:
            return test_generation.generate_tests(
                backend,
                path,
                document.text,
                position.line,
                offset - line_start,
                cancel,
                root,
                read,
            )

        try:
            result = await self.model.run(work)
        except test_generation.TestGenerationError as error:
            raise JsonRpcInvalidParams(f"copilot.generateTests: {error}") from None
        except BackendError as error:
            raise JsonRpcInternalError(f"copilot.generateTests: {error}") from None
        test_document = test_generation.open_test_document(self.documents.get, result.test_path)
        version = test_document.version if test_document is not None else None
        target = test_document.uri if test_document is not None else None
        edit = test_generation.to_workspace_edit(result, encoding, version, target)
        workspace = self.client_capabilities.workspace
        if workspace is not None and workspace.apply_edit:
            self.workspace_apply_edit(
                lsp.ApplyWorkspaceEditParams(edit=edit, label=f"Generate {result.test_name}")
            )
        return edit

    def test_code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        document = self.documents.get(params.text_document.uri)
        if document is None or not params.text_document.uri.startswith("file:"):
            return []
        ours = lsp.CodeActionKind.Source.value
        requested = [str(getattr(kind, "value", kind)) for kind in params.context.only or []]
        # Offered when our kind is a requested kind or under one ("source" is under "").
        if requested and not any(
            ours == kind or ours.startswith(f"{kind}.") or not kind for kind in requested
        ):
            return []
        language = test_generation.language_of(Path(to_fs_path(params.text_document.uri) or ""))
        if not language:
            return []
        start = params.range.start
        line_text = document.line_text(start.line) if start.line < document.line_count else ""
        column = min(start.character, len(line_text))
        try:
            symbol = test_generation.symbol_at(document.text, start.line, column, language)
        except ValueError:
            return []
        if symbol is None:
            return []
        title = f"Generate tests for {symbol.container + '.' if symbol.container else ''}"
        return [
            lsp.CodeAction(
                title=title + symbol.name,
                kind=lsp.CodeActionKind.Source,
                command=lsp.Command(
                    title="Generate tests",
                    command=GENERATE_TESTS_COMMAND,
                    arguments=[{"uri": params.text_document.uri, "position": start}],
                ),
            )
        ]


@dataclass(frozen=True)
class CompletionTarget:
    prefix: str
    suffix: str
    replace: lsp.Range
    """What an accepted item replaces."""
    head: str = ""
    """The suggest widget's selected text, which the item must start with."""


def completion_target(
    document: Document,
    position: lsp.Position,
    selected: lsp.SelectedCompletionInfo | None,
    encoding: str,
) -> CompletionTarget:
    """The text around the cursor and the range an item replaces.

    The range is where the cursor really is: a column past the end of its line, or inside
    a surrogate pair, is moved back, so that accepting never splits a character. With an
    item selected in the suggest widget, the answer completes as if it were inserted and
    replaces the same range; a selected range that does not hold the cursor is ignored.
    Raises PositionError for a line outside the document.
    """
    cursor = document.offset_at(position.line, position.character, encoding)
    text = document.text

    def at(offset: int) -> lsp.Position:
        return lsp.Position(*document.position_at(offset, encoding))

    if selected is not None:
        chosen = selected.range
        start = document.offset_at(chosen.start.line, chosen.start.character, encoding, clamp=True)
        end = document.offset_at(chosen.end.line, chosen.end.character, encoding, clamp=True)
        if start <= cursor <= end:
            return CompletionTarget(
                text[:start] + selected.text,
                text[end:],
                lsp.Range(start=at(start), end=at(end)),
                selected.text,
            )
    here = at(cursor)
    return CompletionTarget(text[:cursor], text[cursor:], lsp.Range(start=here, end=here))


def _command_target(args: tuple[Any, ...]) -> tuple[str, lsp.Position]:
    """``[{"uri", "position"}]``, ``[{"textDocument": {"uri"}, "position"}]`` (the
    TextDocumentPositionParams shape) or ``[uri, position]`` -> (uri, position)."""
    target: Any = (
        args[0] if len(args) == 1 else {"uri": args[0], "position": args[1]} if args else None
    )
    if hasattr(target, "_asdict"):
        target = target._asdict()
    if isinstance(target, dict) and "uri" not in target:
        document = target.get("textDocument")
        if hasattr(document, "_asdict"):
            document = document._asdict()
        if isinstance(document, dict):
            target = {**target, "uri": document.get("uri")}
    if not isinstance(target, dict) or not isinstance(target.get("uri"), str):
        raise JsonRpcInvalidParams(f"{GENERATE_TESTS_COMMAND} expects [{{uri, position}}]")
    position = target.get("position")
    if hasattr(position, "_asdict"):
        position = position._asdict()
    if isinstance(position, lsp.Position):
        return target["uri"], position
    if not isinstance(position, dict) or not all(
        isinstance(position.get(key), int) and position[key] >= 0 for key in ("line", "character")
    ):
        raise JsonRpcInvalidParams("position must be {line, character} with whole numbers")
    return target["uri"], lsp.Position(line=position["line"], character=position["character"])


def create_server() -> CopilotServer:
    server = CopilotServer()

    @server.feature(lsp.INITIALIZE)
    def on_initialize(ls: CopilotServer, params: lsp.InitializeParams) -> None:
        # pygls gives the negotiated kind as an enum (UTF-16 when the client names none).
        encoding = ls.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        ls.documents.encoding = lsp.PositionEncodingKind(encoding).value
        parsed = parse_settings(params.initialization_options)
        ls.settings = parsed.settings
        ls.pending_problems = parsed.problems
        ls.apply_usage_settings()

    @server.feature(lsp.INITIALIZED)
    def on_initialized(ls: CopilotServer, params: lsp.InitializedParams) -> None:
        for problem in ls.pending_problems:
            ls.tell_user(f"copilot-lsp: {problem}")
        for folder in ls.workspace.folders.values():
            ls.context.add_workspace_folder(folder.uri)
        if not ls.workspace.folders and ls.workspace.root_uri:
            ls.context.add_workspace_folder(ls.workspace.root_uri)
        ls.watch_workspace_files()
        ls.start_model_load()

    # --- context engine events: the engine does the work ---
    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def on_did_save(ls: CopilotServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.context.save(params.text_document.uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched_files(ls: CopilotServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        deleted = lsp.FileChangeType.Deleted
        ls.context.files_changed((change.uri, change.type == deleted) for change in params.changes)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: CopilotServer, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed:
            ls.context.remove_workspace_folder(folder.uri)
        for folder in params.event.added:
            ls.context.add_workspace_folder(folder.uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: CopilotServer, params: lsp.DidChangeConfigurationParams) -> None:
        ls.apply_settings(params.settings)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def on_inline_completion(
        ls: CopilotServer, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList:
        return await ls.inline_completion(params)

    @server.command(ACCEPTED_COMMAND)
    def on_accepted(ls: CopilotServer, *args: Any) -> None:
        ls.completions.accepted(_suggestion_id(args))

    @server.command(REJECTED_COMMAND)
    def on_rejected(ls: CopilotServer, *args: Any) -> None:
        ls.completions.rejected(_suggestion_id(args))

    @server.command(GENERATE_TESTS_COMMAND)
    async def on_generate_tests(ls: CopilotServer, *args: Any) -> lsp.WorkspaceEdit:
        uri, position = _command_target(args)
        return await ls.generate_tests(uri, position)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.Source]),
    )
    def on_code_action(ls: CopilotServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return ls.test_code_actions(params)

    @server.feature(STATUS_REQUEST)
    def on_status(ls: CopilotServer, params: Any) -> dict[str, Any]:
        return ls.status()

    @server.feature(DOCUMENT_TEXT_REQUEST)
    def on_document_text(ls: CopilotServer, params: Any) -> dict[str, Any]:
        return ls.document_text(params)

    @server.feature(lsp.SHUTDOWN)
    def on_shutdown(ls: CopilotServer, params: Any) -> None:
        ls.completions.shutdown()
        ls.model.close()
        ls.shut_down = True

    @server.feature(lsp.EXIT)
    def on_exit(ls: CopilotServer, params: Any) -> None:
        ls.exit_code = 0 if ls.shut_down else 1

    return server


def _suggestion_id(args: tuple[Any, ...]) -> str:
    """The suggestion id a command was run with (its only argument)."""
    if len(args) == 1 and isinstance(args[0], str) and args[0]:
        return args[0]
    raise JsonRpcInvalidParams("expected the suggestion id (a string) as the only argument")
