// A scriptable CSMS for the browser tests (tests/web/*.test.mjs): ocpp::Server in strict mode,
// serving the web site from --web-root, driven by JSON lines on stdin and reporting on stdout.
//
//   web_csms [--port N] [--lax-port N] [--web-root DIR] [--host H]
//
// Two servers run on one io thread: the strict one on --port (0: any free port), and a second one
// without strict mode on --lax-port, so that a test can make the CSMS send a payload that strict
// mode would have refused (the browser's own strict mode must then answer it). The first stdout
// line is {"event":"ready","port":P,"laxPort":L}. Then, one JSON object per line:
//   {"event":"connected","identity","protocol","offered":[...],"path","lax"}
//   {"event":"message","identity","direction":"in"|"out","type","action","messageId","errorCode","raw"}
//   {"event":"validationFailure","identity","phase","action","messageId","path","keyword","code"}
//   {"event":"badMessage","identity","raw","error","reply"}
//   {"event":"disconnected","identity","code","reason"}
//   {"id":N,"result":...} | {"id":N,"error":{"type","code","description","details","message"}} | {"id":N,"ok":true}
// Commands (stdin):
//   {"id":N,"call":{"identity","action","payload","timeoutMs"?}}      a CSMS->station CALL
//   {"id":N,"respond":{"action","protocol"?,"result"?,"error"?:{"code","description","details"}}}
//       how station->CSMS CALLs of that action are answered from now on (without an entry:
//       NotImplemented); "protocol" narrows it to one protocol.
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "ocpp/ocpp.hpp"

namespace {

namespace json = boost::json;
using namespace ocpp;

std::mutex out_mutex;

void emit(const json::object& line) {
  const std::string text = json::serialize(line);
  std::lock_guard lock(out_mutex);
  std::cout << text << '\n' << std::flush;
}

std::string_view type_name(MessageType type) {
  switch (type) {
    case MessageType::Call: return "CALL";
    case MessageType::CallResult: return "CALLRESULT";
    case MessageType::CallError: return "CALLERROR";
    case MessageType::CallResultError: return "CALLRESULTERROR";
    case MessageType::Send: return "SEND";
  }
  return "?";
}

std::string_view phase_name(ValidationPhase phase) {
  switch (phase) {
    case ValidationPhase::inbound_call: return "inbound_call";
    case ValidationPhase::outbound_call: return "outbound_call";
    case ValidationPhase::handler_result: return "handler_result";
    case ValidationPhase::inbound_result: return "inbound_result";
  }
  return "?";
}

// The answer to a station's CALL, as scripted by a `respond` command.
struct Answer {
  std::optional<json::value> result;
  std::string error_code;
  std::string description;
  json::object details;
};

class Answers {
 public:
  void set(std::string protocol, std::string action, Answer answer) {
    std::lock_guard lock(mutex_);
    answers_[{std::move(protocol), std::move(action)}] = std::move(answer);
  }
  // The protocol's own entry first, then the one for every protocol.
  std::optional<Answer> find(std::string_view protocol, std::string_view action) const {
    std::lock_guard lock(mutex_);
    for (std::string key : {std::string(protocol), std::string()}) {
      auto it = answers_.find({key, std::string(action)});
      if (it != answers_.end()) return it->second;
    }
    return std::nullopt;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Answer> answers_;
};

void report_events(const std::shared_ptr<ServerClient>& client, bool lax) {
  const std::string id = client->identity();
  json::array offered;
  for (const auto& p : client->handshake().offered_protocols) offered.emplace_back(p);
  emit({{"event", "connected"}, {"identity", id}, {"protocol", client->protocol()}, {"offered", std::move(offered)},
        {"path", client->handshake().path}, {"lax", lax}});
  client->on_message([id](const MessageEvent& e) {
    emit({{"event", "message"}, {"identity", id}, {"direction", e.direction == MessageDirection::in ? "in" : "out"},
          {"type", type_name(e.type)}, {"action", e.action}, {"messageId", e.message_id},
          {"errorCode", e.error_code}, {"raw", e.raw}});
  });
  client->on_validation_failure([id, version = protocol_version(client->protocol())](const ValidationFailureEvent& e) {
    emit({{"event", "validationFailure"}, {"identity", id}, {"phase", phase_name(e.phase)}, {"action", e.action},
          {"messageId", e.message_id}, {"path", e.error.path}, {"keyword", e.error.keyword},
          {"code", wire_name(e.code, version)}});
  });
  client->on_bad_message([id](const BadMessageEvent& e) {
    emit({{"event", "badMessage"}, {"identity", id}, {"raw", e.raw}, {"error", e.error}, {"reply", e.reply}});
  });
  client->on_close([id](const CloseResult& r) {
    emit({{"event", "disconnected"}, {"identity", id}, {"code", r.code}, {"reason", r.reason}});
  });
}

json::object describe_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const RpcError& e) {
    return {{"type", dynamic_cast<const ValidationFailure*>(&e) ? "ValidationFailure" : "RpcError"},
            {"code", e.wire_code()}, {"description", e.description()}, {"details", e.details()}, {"message", e.what()}};
  } catch (const TimeoutError& e) {
    return {{"type", "TimeoutError"}, {"message", e.what()}};
  } catch (const ConnectionError& e) {
    return {{"type", "ConnectionError"}, {"closeCode", e.close_code()}, {"message", e.what()}};
  } catch (const std::exception& e) {
    return {{"type", "Error"}, {"message", e.what()}};
  }
}

void run_command(std::vector<Server*> servers, Answers& answers, const json::object& command) {
  const json::value id = command.contains("id") ? command.at("id") : json::value(nullptr);
  if (const auto* call = command.if_contains("call")) {
    const auto& c = call->as_object();
    const std::string identity(c.at("identity").as_string());
    std::shared_ptr<ServerClient> client;
    for (Server* s : servers)
      if ((client = s->get_client(identity))) break;
    if (!client) {
      emit({{"id", id}, {"error", {{"type", "ConnectionError"}, {"message", identity + " is not connected"}}}});
      return;
    }
    CallOptions options;
    if (const auto* t = c.if_contains("timeoutMs")) options.timeout = milliseconds(json::value_to<long long>(*t));
    json::value payload = c.contains("payload") ? c.at("payload") : json::object{};
    client->call(std::string(c.at("action").as_string()), std::move(payload), std::move(options),
                 [id](std::exception_ptr error, json::value result) {
                   if (error) emit({{"id", id}, {"error", describe_error(error)}});
                   else emit({{"id", id}, {"result", std::move(result)}});
                 });
  } else if (const auto* respond = command.if_contains("respond")) {
    const auto& r = respond->as_object();
    Answer answer;
    if (const auto* result = r.if_contains("result")) answer.result = *result;
    if (const auto* error = r.if_contains("error")) {
      const auto& e = error->as_object();
      answer.error_code = e.at("code").as_string();
      if (const auto* d = e.if_contains("description")) answer.description = d->as_string();
      if (const auto* d = e.if_contains("details")) answer.details = d->as_object();
    }
    const auto* protocol = r.if_contains("protocol");
    answers.set(protocol ? std::string(protocol->as_string()) : std::string(), std::string(r.at("action").as_string()),
                std::move(answer));
    emit({{"id", id}, {"ok", true}});
  } else {
    emit({{"id", id}, {"error", {{"type", "UsageError"}, {"message", "unknown command"}}}});
  }
}

std::string flag(int argc, char** argv, std::string_view name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto port = static_cast<std::uint16_t>(std::stoi(flag(argc, argv, "--port", "0")));
  const auto lax_port = static_cast<std::uint16_t>(std::stoi(flag(argc, argv, "--lax-port", "0")));
  const std::string host = flag(argc, argv, "--host", "127.0.0.1");
  const std::string web_root = flag(argc, argv, "--web-root", "");

  IoPool pool(1);
  Answers answers;
  ServerOptions strict;
  strict.strict_mode.enabled = true;
  strict.web_root = web_root;
  ServerOptions lax;
  lax.web_root = web_root;
  Server strict_server(pool.executors(), strict);
  Server lax_server(pool.executors(), lax);
  for (Server* server : {&strict_server, &lax_server}) {
    const bool is_lax = server == &lax_server;
    server->handle_any([&answers](CallContext& ctx) -> HandlerResult {
      auto answer = answers.find(ctx.protocol, ctx.action);
      if (!answer) throw RpcError(ErrorCode::NotImplemented, "web_csms has no answer for " + ctx.action);
      if (!answer->error_code.empty()) throw RpcError(answer->error_code, answer->description, answer->details);
      return answer->result.value_or(json::object{});
    });
    server->on_client([is_lax](const std::shared_ptr<ServerClient>& client) { report_events(client, is_lax); });
  }
  const auto bound = strict_server.listen(port, host);
  const auto lax_bound = lax_server.listen(lax_port, host);
  emit({{"event", "ready"}, {"port", bound}, {"laxPort", lax_bound}});
  pool.start();

  std::vector<Server*> servers{&strict_server, &lax_server};
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    json::object command;
    try {
      command = json::parse(line).as_object();
    } catch (const std::exception& e) {
      emit({{"event", "commandError"}, {"line", line}, {"message", e.what()}});
      continue;
    }
    boost::asio::post(pool.executor(), [servers, &answers, command = std::move(command)] {
      try {
        run_command(servers, answers, command);
      } catch (const std::exception& e) {
        emit({{"event", "commandError"}, {"command", command}, {"message", e.what()}});
      }
    });
  }
  // stdin closed: the test is done with us.
  std::promise<void> closed;
  std::atomic<int> open{2};
  for (Server* server : servers)
    server->close(CloseOptions{close_code::going_away, "web_csms done", false, false}, [&] {
      if (--open == 0) closed.set_value();
    });
  closed.get_future().wait();
  pool.stop();
  pool.join();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "web_csms: " << e.what() << "\n";
  return 1;
}
