/**
 * The event objects of the WHATWG WebSocket API, for code written against a browser's
 * `addEventListener` / `onmessage` interface. Node's own Event class is not used so that
 * the objects carry exactly the fields browsers give (and `target` is the WebSocket).
 */
export class WsEvent {
  readonly type: string;
  target: unknown = null;
  currentTarget: unknown = null;
  readonly timeStamp = Date.now();
  defaultPrevented = false;

  constructor(type: string) {
    this.type = type;
  }

  preventDefault(): void {
    this.defaultPrevented = true;
  }

  stopPropagation(): void {}

  stopImmediatePropagation(): void {}
}

export class WsMessageEvent extends WsEvent {
  readonly data: unknown;
  readonly origin: string;
  readonly lastEventId = '';
  readonly source = null;
  readonly ports: readonly unknown[] = [];

  constructor(data: unknown, origin = '') {
    super('message');
    this.data = data;
    this.origin = origin;
  }
}

export class WsCloseEvent extends WsEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(code: number, reason: string, wasClean: boolean) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class WsErrorEvent extends WsEvent {
  readonly error: unknown;
  readonly message: string;

  constructor(error: unknown) {
    super('error');
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

export type WsEventListener = ((event: any) => void) | { handleEvent(event: any): void };
