// The loader of ocpp-engine.wasm, staged in the site in place of emscripten's generated glue
// (5 KB gzipped, most of it for features the engine does not use: a filesystem, stdio, errno,
// environment strings). Same interface as the glue ocpp.js was written against:
// createOcppEngine({ instantiateWasm(imports, receive) }) resolves to a module with HEAPU8 (the
// current view, also after the memory grew), _malloc, _free and every export as _name.
// The wasm is linked with -lexports.js (which stops emscripten minifying them) so that imports and exports keep their
// names; the ocpp_host_* imports are web/engine/library.js's, which the link still checks against.
export default function createOcppEngine(Module = {}) {
  let memory = null;
  let heap = new Uint8Array(0);
  const u8 = () => (heap.buffer === memory.buffer ? heap : (heap = new Uint8Array(memory.buffer)));
  const i32 = () => new Int32Array(memory.buffer);
  const client = (c) => Module.ocppClients.get(c);
  const env = {
    abort() { throw new WebAssembly.RuntimeError('abort'); },
    emscripten_get_now: () => performance.now(),
    // CLOCK_REALTIME (0) from Date, the monotonic clocks (1, 4) from performance.now(); a 32-bit
    // time_t and nanoseconds, as emscripten 3.1's libc lays out struct timespec.
    clock_gettime(id, tp) {
      if (id !== 0 && id !== 1 && id !== 4) return -1;
      const now = id === 0 ? Date.now() : performance.now();
      const view = i32();
      view[tp >> 2] = (now / 1e3) | 0;
      view[(tp + 4) >> 2] = ((now % 1e3) * 1e6) | 0;
      return 0;
    },
    // sbrk's growth: at least the request, else 20 % more than now (emscripten's own policy).
    emscripten_resize_heap(requested) {
      const old = memory.buffer.byteLength;
      const want = Math.max(requested >>> 0, Math.min(old * 1.2, (requested >>> 0) + 96 * 1024 * 1024));
      try {
        memory.grow(Math.ceil((want - old) / 65536));
        return 1;
      } catch {
        return 0;
      }
    },
    getentropy(p, n) {
      crypto.getRandomValues(u8().subarray(p, p + n));
      return 0;
    },
    ocpp_host_write: (c, p, n) => client(c).hostWrite(p, n),
    ocpp_host_close: (c, code, p, n) => client(c).hostClose(code, p, n),
    ocpp_host_terminate: (c) => client(c).hostTerminate(),
    ocpp_host_schedule: (c, ms) => client(c).hostSchedule(ms),
    ocpp_host_post: (c) => client(c).hostPost(),
    ocpp_host_has_handler: (c, p, n) => client(c).hostHasHandler(p, n),
    ocpp_host_handle: (c, token, p, n) => client(c).hostHandle(token, p, n),
    ocpp_host_cancel: (c, token) => client(c).hostCancel(token),
    ocpp_host_call_done: (c, token, p, n) => client(c).hostCallDone(token, p, n),
    ocpp_host_event: (c, p, n) => client(c).hostEvent(p, n),
  };
  // libc's environ constructor asks for the environment: there is none (nothing calls getenv).
  const wasi = {
    environ_sizes_get(count, size) {
      const view = i32();
      view[count >> 2] = 0;
      view[size >> 2] = 0;
      return 0;
    },
    environ_get: () => 0,
  };
  const imports = { env, wasi_snapshot_preview1: wasi };
  return new Promise((resolve, reject) => {
    const receive = (instance) => {
      const exports = instance.exports;
      memory = exports.memory;
      for (const [name, value] of Object.entries(exports)) if (typeof value === 'function') Module['_' + name] = value;
      Object.defineProperty(Module, 'HEAPU8', { get: u8 });
      exports.__wasm_call_ctors();
      resolve(Module);
    };
    try {
      if (Module.instantiateWasm) Module.instantiateWasm(imports, receive);
      else
        WebAssembly.instantiateStreaming(fetch(new URL('./ocpp-engine.wasm', import.meta.url)), imports)
          .then((r) => receive(r.instance), reject);
    } catch (e) {
      reject(e);
    }
  });
}
