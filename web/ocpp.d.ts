// TypeScript declarations of web/ocpp.js, the browser (and node) OCPP-J client. Hand-written; the
// payload types and the action tables come from ocpp-actions.d.ts (codegen/generate_dts.py).
// A client is generic in its protocol(s): `new OcppClient({ protocols: ['ocpp2.0.1'], ... })` is an
// OcppClient<'ocpp2.0.1'>, whose call() completes the actions a charging station sends and whose
// payloads and results are the 2.0.1 types. With several protocols offered, only the actions they
// have in common are callable and payloads are the union of the protocols' types.

import type { OcppActions, OcppSendMessages, OcppProtocol } from './ocpp-actions.js';

export * from './ocpp-actions.js';

/** Actions of protocol P. */
export type OcppAction<P extends OcppProtocol> = keyof OcppActions[P] & string;
// Indexed access, not a conditional type: a conditional type stays deferred while A is being inferred,
// and then a handler's `{ status: 'Accepted' }` widens to string and fails. The intersection only
// tells the compiler that every entry has the member.
/** The request payload of action A in protocol P. */
export type OcppRequest<P extends OcppProtocol, A extends OcppAction<P>> = (OcppActions[P][A] & { request: unknown })['request'];
/** The response payload of action A in protocol P. */
export type OcppResponse<P extends OcppProtocol, A extends OcppAction<P>> = (OcppActions[P][A] & { response: unknown })['response'];
/** Actions a charging station may send (direction ToCsms or Both): what call() accepts. */
export type CallableAction<P extends OcppProtocol> = {
  [A in OcppAction<P>]: OcppActions[P][A] extends { direction: 'ToChargingStation' } ? never : A;
}[OcppAction<P>];
/** Actions the CSMS may send to a station (ToChargingStation or Both): what handle() accepts. */
export type HandledAction<P extends OcppProtocol> = {
  [A in OcppAction<P>]: OcppActions[P][A] extends { direction: 'ToCsms' } ? never : A;
}[OcppAction<P>];
/** SEND messages of protocol P (OCPP 2.1 only). */
export type SendAction<P extends OcppProtocol> = keyof OcppSendMessages[P] & string;
export type SendPayload<P extends OcppProtocol, A extends SendAction<P>> = (OcppSendMessages[P][A] & { request: unknown })['request'];

/** Return it from a handler to send no answer at all (the CSMS's call then times out). */
export declare const NOREPLY: unique symbol;
export type NoReply = typeof NOREPLY;

export type ConnectionState = 'closed' | 'connecting' | 'open' | 'closing';

/** The WebSocket constructor the client uses (browser: globalThis.WebSocket; node 20: `ws`'s). */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): unknown;
}

export interface OcppClientOptions<P extends OcppProtocol> {
  /** ws:// or wss:// URL; the identity is appended as a path segment (URL-encoded). */
  endpoint: string;
  identity: string;
  /** Offered in this order; after the first open only the negotiated one. */
  protocols: readonly P[];
  /** Appended as query parameters (?token=x). */
  query?: Record<string, string>;
  /** Basic Auth password, put into the URL as user:password@ (browser permitting). */
  password?: string;
  /** Validate payloads against the schemas: all protocols (true) or the ones listed. */
  strictMode?: boolean | readonly OcppProtocol[];
  /** Only these actions are validated (empty: all). */
  strictModeMethods?: readonly string[];
  callTimeoutMs?: number;
  callConcurrency?: number;
  maxQueuedCalls?: number;
  /** Consecutive bad frames tolerated; one more closes the connection with 1002. */
  maxBadMessages?: number;
  /** Accept date-times without a UTC offset in strict mode. */
  lenientDateTime?: boolean;
  /** Strict mode refuses actions that have no schema in the protocol. */
  rejectUnknownActions?: boolean;
  /** Largest inbound message in bytes (64 KiB); a bigger one closes the connection with 1009. */
  maxFrameBytes?: number;
  respondWithDetailedErrors?: boolean;
  /** connect() retries while the CSMS is unreachable instead of failing at once. */
  retryInitialConnect?: boolean;
  reconnect?: boolean;
  maxReconnects?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  WebSocket?: WebSocketConstructor;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  messageId?: string;
}

export interface CloseOptions {
  code?: number;
  reason?: string;
  /** Wait for the calls in flight (default true). */
  awaitPending?: boolean;
  /** Close at once, rejecting pending calls. */
  force?: boolean;
}

/** What a handler receives for an inbound CALL of action A. */
export interface HandlerContext<P extends OcppProtocol, A extends OcppAction<P>> {
  action: A;
  params: OcppRequest<P, A>;
  messageId: string;
  protocol: P;
  /** Aborted when the connection closes before the handler has answered. */
  signal: AbortSignal;
}

/**
 * Answers an inbound CALL: the response payload (or a promise of it), or NOREPLY. Throw an RpcError
 * to answer with a CALLERROR of its code; an action without a handler is answered NotImplemented.
 */
export type Handler<P extends OcppProtocol, A extends OcppAction<P>> =
  (ctx: HandlerContext<P, A>) => OcppResponse<P, A> | NoReply | Promise<OcppResponse<P, A> | NoReply>;

export interface WildcardContext<P extends OcppProtocol> {
  action: string;
  params: unknown;
  messageId: string;
  protocol: P;
  signal: AbortSignal;
}
export type WildcardHandler<P extends OcppProtocol> = (ctx: WildcardContext<P>) => unknown;

export type MessageType = 'CALL' | 'CALLRESULT' | 'CALLERROR' | 'CALLRESULTERROR' | 'SEND';

export interface OcppClientEvents<P extends OcppProtocol> {
  open: { protocol: P };
  close: { code: number; reason: string };
  message: {
    direction: 'in' | 'out';
    type: MessageType;
    messageId: string;
    action?: string;
    /** The frame as sent or received. */
    raw: string;
    /** Answers to our calls: time since the CALL was sent. */
    latencyMs?: number;
  };
  /** A frame that is not valid OCPP-J; `reply` is the CALLERROR sent for it, if any. */
  badMessage: { raw: string; error: unknown; reply?: string | null };
  validationFailure: {
    phase: 'inboundCall' | 'outboundCall' | 'handlerResult' | 'inboundResult';
    type: MessageType;
    message: string;
    action: string;
    messageId: string;
    path: string;
    keyword: string;
    code: string;
  };
  /** An inbound ocpp2.1 CALLRESULTERROR. */
  callResultError: { messageId: string; code: string; description: string; details: unknown };
  /** The connection went unexpectedly; a reconnect follows when enabled. */
  disconnect: { code: number; reason: string };
  reconnect: { attempt: number; delayMs: number };
  /** A listener or handler threw (`event` names the listener's event, or 'handler'). */
  error: { error: unknown; event?: string; action?: string };
}
export type OcppClientEvent = keyof OcppClientEvents<OcppProtocol>;

export declare class OcppClient<P extends OcppProtocol = OcppProtocol> {
  constructor(options: OcppClientOptions<P>);
  readonly identity: string;
  /** The negotiated protocol; undefined before the first open. */
  readonly protocol: P | undefined;
  readonly state: ConnectionState;

  /** Resolves when open; rejects with ConnectionError. */
  connect(): Promise<void>;

  /**
   * Sends a CALL and resolves with the CALLRESULT payload. Rejects with RpcError (CALLERROR),
   * TimeoutError, ConnectionError, ValidationError (strict mode; nothing sent) or UsageError.
   */
  call<A extends CallableAction<P>>(action: A, payload: OcppRequest<P, A>, options?: CallOptions): Promise<OcppResponse<P, A>>;

  /** OCPP 2.1 SEND (no answer); throws on failure. */
  send<A extends SendAction<P>>(action: A, payload: SendPayload<P, A>): void;

  handle<A extends HandledAction<P>>(action: A, fn: Handler<P, A>): void;
  handle<Q extends P, A extends HandledAction<Q>>(protocol: Q, action: A, fn: Handler<Q, A>): void;
  /** Wildcard: every action without its own handler. */
  handle(fn: WildcardHandler<P>): void;

  on<E extends OcppClientEvent>(event: E, fn: (ev: OcppClientEvents<P>[E]) => void): void;
  off<E extends OcppClientEvent>(event: E, fn: (ev: OcppClientEvents<P>[E]) => void): void;

  close(options?: CloseOptions): Promise<{ code: number; reason: string }>;
  /** Closes the client and frees what the engine holds for it. */
  destroy(): Promise<void>;
}

/** A CALLERROR: received in answer to a call, or thrown by a handler to send one. */
export declare class RpcError extends Error {
  constructor(code: string, description?: string, details?: unknown);
  readonly code: string;
  readonly description: string;
  readonly details: unknown;
}

/** Strict mode: a payload failed its schema. `code` is the OCPP error code it maps to. */
export declare class ValidationError extends RpcError {
  readonly path: string;
  readonly keyword: string;
}

export declare class TimeoutError extends Error {}

export declare class ConnectionError extends Error {
  /** The WebSocket close code, when the connection closed. */
  readonly closeCode: number | undefined;
}

/** The call cannot be made: wrong direction, unknown action, client closed, ... */
export declare class UsageError extends Error {}

/** Preloads the engine (ocpp-engine.wasm next to ocpp.js by default); every client shares it. */
export declare function loadEngine(url?: string | URL): Promise<{ startupMs: number }>;

export interface ValidationResult {
  path: string;
  keyword: string;
  message: string;
  code: string;
}

/** Microseconds per parse of the CALL `frame` plus strict mode's check of its payload, timed inside the engine. */
export declare function measureParseValidate(protocol: OcppProtocol, frame: string, iterations?: number): number;

/** Validates a payload against the schema of action's request or response: null when valid. */
export declare function validate<P extends OcppProtocol>(
  protocol: P, action: OcppAction<P> | (string & {}), kind: 'request' | 'response', payload: unknown): ValidationResult | null;
