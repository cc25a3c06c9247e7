// A small JSON-RPC 2.0 client over a WebSocket: one message per text frame, as
// `copilot-lsp playground` (and `copilot-lsp serve --ws`) frame them.

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Handler = (params: any) => unknown;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const REQUEST_CANCELLED = -32800;

export class RpcSocket {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly requestHandlers = new Map<string, Handler>();
  private readonly notificationHandlers = new Map<string, Handler>();
  onClose: (() => void) | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => this.receive(String(event.data)));
    socket.addEventListener("close", () => {
      for (const { reject } of this.pending.values()) reject(new Error("connection closed"));
      this.pending.clear();
      this.onClose?.();
    });
  }

  static open(url: string): Promise<RpcSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => resolve(new RpcSocket(socket)), { once: true });
      socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
        once: true,
      });
    });
  }

  request<T>(method: string, params: unknown, cancel?: { onCancel(listener: () => void): void }): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.send({ jsonrpc: "2.0", id, method, params });
    cancel?.onCancel(() => {
      if (this.pending.has(id)) this.notify("$/cancelRequest", { id });
    });
    return reply;
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  onRequest(method: string, handler: Handler): void {
    this.requestHandlers.set(method, handler);
  }

  onNotification(method: string, handler: Handler): void {
    this.notificationHandlers.set(method, handler);
  }

  private send(message: object): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private receive(data: string): void {
    const message = JSON.parse(data);
    if (message.method === undefined) {
      const pending = this.pending.get(message.id);
      if (pending === undefined) return;
      this.pending.delete(message.id);
      if (message.error) pending.reject(new RpcError(message.error.code, message.error.message));
      else pending.resolve(message.result);
      return;
    }
    if (message.id === undefined) {
      this.notificationHandlers.get(message.method)?.(message.params);
      return;
    }
    const handler = this.requestHandlers.get(message.method);
    if (handler === undefined) {
      this.send({
        jsonrpc: "2.0",
        id: message.id,
        error: { code: -32601, message: `unhandled: ${message.method}` },
      });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.params))
      .then(
        (result) => this.send({ jsonrpc: "2.0", id: message.id, result: result ?? null }),
        (error) => this.send({ jsonrpc: "2.0", id: message.id, error: { code: -32603, message: String(error) } }),
      );
  }
}
