'use strict';
// Minimal stand-in for `voltlog-io` (not published on the npm registry).
// ocpp-ws-io 2.3.2 imports exactly { createLogger, consoleTransport,
// prettyTransport } from 'voltlog-io' (and 'voltlog-io/client' in its browser
// build) and only when its `logging` option is not `false`. The logger it
// builds is used through debug/info/warn/error/child. Nothing here ever
// writes to stdout: the interop peer uses stdout as its control channel.

const LEVELS = { TRACE: 10, DEBUG: 20, INFO: 30, WARN: 40, ERROR: 50, FATAL: 60, SILENT: Infinity };

function levelValue(level) {
  if (typeof level === 'number') return level;
  const v = LEVELS[String(level ?? 'INFO').toUpperCase()];
  return v === undefined ? LEVELS.INFO : v;
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(String(value));
  }
}

function writeErr(line) {
  try {
    process.stderr.write(line + '\n');
  } catch {
    // stderr closed: drop the line
  }
}

/** JSON lines on stderr. */
function consoleTransport(options = {}) {
  const min = levelValue(options.level ?? 'TRACE');
  return {
    name: 'console',
    level: options.level,
    write(entry) {
      if (entry.level < min) return;
      writeErr(safeJson({
        level: entry.levelName,
        time: entry.timestamp,
        msg: entry.message,
        ...(entry.context && Object.keys(entry.context).length ? { context: entry.context } : {}),
        ...(entry.meta && Object.keys(entry.meta).length ? { meta: entry.meta } : {}),
      }));
    },
  };
}

/** Human-readable lines on stderr. */
function prettyTransport(options = {}) {
  const min = levelValue(options.level ?? 'TRACE');
  return {
    name: 'pretty',
    level: options.level,
    write(entry) {
      if (entry.level < min) return;
      const ctx = entry.context && Object.keys(entry.context).length ? ' ' + safeJson(entry.context) : '';
      const meta = entry.meta && Object.keys(entry.meta).length ? ' ' + safeJson(entry.meta) : '';
      writeErr(`${new Date(entry.timestamp).toISOString()} ${entry.levelName.padEnd(5)} ${entry.message}${ctx}${meta}`);
    },
  };
}

function runMiddleware(middleware, entry, sink) {
  let i = 0;
  const next = (e) => {
    const mw = middleware[i++];
    if (!mw) return sink(e);
    try {
      return mw(e, next);
    } catch {
      return sink(e);
    }
  };
  return next(entry);
}

function createLogger(options = {}) {
  const min = levelValue(options.level ?? 'INFO');
  const transports = Array.isArray(options.transports) ? options.transports : [consoleTransport()];
  const middleware = Array.isArray(options.middleware) ? options.middleware : [];
  const baseContext = options.context ?? {};

  function make(context) {
    const emit = (levelName, message, meta) => {
      const level = LEVELS[levelName];
      if (level < min) return;
      const entry = {
        id: undefined,
        level,
        levelName,
        message: String(message),
        timestamp: Date.now(),
        meta: meta && typeof meta === 'object' ? { ...meta } : {},
        context: { ...context },
      };
      runMiddleware(middleware, entry, (e) => {
        for (const t of transports) {
          try {
            const r = t && typeof t.write === 'function' ? t.write(e) : undefined;
            if (r && typeof r.catch === 'function') r.catch(() => {});
          } catch {
            // a failing transport must never break the caller
          }
        }
      });
    };
    return {
      trace: (m, meta) => emit('TRACE', m, meta),
      debug: (m, meta) => emit('DEBUG', m, meta),
      info: (m, meta) => emit('INFO', m, meta),
      warn: (m, meta) => emit('WARN', m, meta),
      error: (m, meta) => emit('ERROR', m, meta),
      fatal: (m, meta) => emit('FATAL', m, meta),
      child: (extra) => make({ ...context, ...(extra ?? {}) }),
      flush: async () => {},
      close: async () => {},
    };
  }
  return make(baseContext);
}

module.exports = { createLogger, consoleTransport, prettyTransport, LogLevel: LEVELS };
