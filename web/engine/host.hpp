#pragma once
// What the engine's browser shell asks of JavaScript (web/ocpp.js). Every function names the
// client by the number ocpp.js gave it; strings are UTF-8 in the wasm memory, valid for the call.
#include <cstddef>
#include <cstdint>

extern "C" {
// A frame for the socket.
void ocpp_host_write(int client, const char* text, std::size_t size);
// Close the socket with this code and reason; ocpp_web_transport_closed() follows.
void ocpp_host_close(int client, int code, const char* reason, std::size_t size);
// Drop the socket without a handshake; ocpp_web_transport_closed() follows.
void ocpp_host_terminate(int client);
// Call ocpp_web_timer() in `ms` milliseconds; a negative value: nothing waits any more.
void ocpp_host_schedule(int client, double ms);
// Call ocpp_web_run_posted() soon, not from inside this call.
void ocpp_host_post(int client);
// Whether a handler is registered for `action` on the current protocol.
int ocpp_host_has_handler(int client, const char* action, std::size_t size);
// Run the handler; it answers with ocpp_web_answer(client, token, ...).
void ocpp_host_handle(int client, int token, const char* call_json, std::size_t size);
// The connection closed while the handler of `token` ran: its answer will be ignored.
void ocpp_host_cancel(int client, int token);
// An outbound call ended: {"result": ...} or {"failure": {...}}.
void ocpp_host_call_done(int client, int token, const char* json, std::size_t size);
// An event for the client's listeners: {"type": "message" | "badMessage" | ..., ...}.
void ocpp_host_event(int client, const char* json, std::size_t size);
}
