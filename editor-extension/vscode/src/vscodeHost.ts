// The Host interface over the real `vscode` API (the only other file importing `vscode`).
import * as vscode from "vscode";
import type { Host } from "./controller";
import { SETTING_KEYS } from "./settings";
import { which } from "./which";

export function createHost(item: vscode.StatusBarItem): Host {
  return {
    settings: () => {
      const config = vscode.workspace.getConfiguration("copilot");
      return Object.fromEntries(SETTING_KEYS.map((key) => [key, config.get(key)]));
    },
    which: (program) => which(program),
    setStatus: (view) => {
      item.text = view.text;
      item.tooltip = view.tooltip;
      item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    },
    showError: (message) => void vscode.window.showErrorMessage(message),
    showInfo: (message) => void vscode.window.setStatusBarMessage(message, 3000),
    activeLocation: () => {
      const editor = vscode.window.activeTextEditor;
      if (editor === undefined) return undefined;
      const { active, start, end } = editor.selection;
      return {
        uri: editor.document.uri.toString(),
        languageId: editor.document.languageId,
        position: { line: active.line, character: active.character },
        selection: {
          start: { line: start.line, character: start.character },
          end: { line: end.line, character: end.character },
        },
      };
    },
    setTimer: (callback, ms) => {
      const handle = setTimeout(callback, ms);
      return { dispose: () => clearTimeout(handle) };
    },
  };
}
