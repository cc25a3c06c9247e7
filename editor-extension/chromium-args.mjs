// Chromium flags shared by the browser tests (VS Code in code-server, the playground):
// headless on a CI machine without a GPU or a sandbox, and nothing fetched from the network.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
