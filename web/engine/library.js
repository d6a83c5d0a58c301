// The engine's imports (web/engine/host.hpp): each goes to the client ocpp.js registered under
// its number in Module.ocppClients.
mergeInto(LibraryManager.library, {
  ocpp_host_write: function (c, p, n) { Module.ocppClients.get(c).hostWrite(p, n); },
  ocpp_host_close: function (c, code, p, n) { Module.ocppClients.get(c).hostClose(code, p, n); },
  ocpp_host_terminate: function (c) { Module.ocppClients.get(c).hostTerminate(); },
  ocpp_host_schedule: function (c, ms) { Module.ocppClients.get(c).hostSchedule(ms); },
  ocpp_host_post: function (c) { Module.ocppClients.get(c).hostPost(); },
  ocpp_host_has_handler: function (c, p, n) { return Module.ocppClients.get(c).hostHasHandler(p, n); },
  ocpp_host_handle: function (c, token, p, n) { Module.ocppClients.get(c).hostHandle(token, p, n); },
  ocpp_host_cancel: function (c, token) { Module.ocppClients.get(c).hostCancel(token); },
  ocpp_host_call_done: function (c, token, p, n) { Module.ocppClients.get(c).hostCallDone(token, p, n); },
  ocpp_host_event: function (c, p, n) { Module.ocppClients.get(c).hostEvent(p, n); },
});
