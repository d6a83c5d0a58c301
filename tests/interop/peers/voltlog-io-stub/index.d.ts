export interface LogEntry {
  id?: string;
  level: number;
  levelName: string;
  message: string;
  timestamp: number;
  meta: Record<string, unknown>;
  context?: Record<string, unknown>;
}
export interface Transport {
  name: string;
  level?: string;
  write(entry: LogEntry): void | Promise<void>;
}
export type LogMiddleware = (entry: LogEntry, next: (entry: LogEntry) => void) => void;
export interface Logger {
  trace(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  fatal(message: string, meta?: Record<string, unknown>): void;
  child(context: Record<string, unknown>): Logger;
  flush(): Promise<void>;
  close(): Promise<void>;
}
export declare const LogLevel: Record<string, number>;
export declare function createLogger(options?: { level?: string; transports?: Transport[]; middleware?: LogMiddleware[]; context?: Record<string, unknown> }): Logger;
export declare function consoleTransport(options?: { level?: string }): Transport;
export declare function prettyTransport(options?: { level?: string }): Transport;
