// ServerOptions::web_root over real sockets, plain and TLS: the files a browser asks for, what it
// may not reach, and the WebSocket upgrades beside them.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/cert_dir.hpp"
#include "wire_fixture.hpp"

namespace ocpp_test {
namespace {
namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

struct Site : CertDir {
  fs::path root = dir() / "site";
  std::string index = "<!doctype html><title>sim</title>";
  std::string wasm = std::string("\0asm\x01\0\0\0", 8);
  std::string big;  // several TLS records and socket buffers
  static constexpr std::size_t huge_size = 16 * 1024 * 1024;

  Site() : CertDir("ocpp-web-root-test") {
    issue("server", server(ocpp::tls::KeyType::ecdsa_p256));
    fs::create_directories(root / "sub");
    std::mt19937 random(14);
    big.resize(3 * 1024 * 1024 + 17);
    for (auto& c : big) c = static_cast<char>(random());
    write(root / "index.html", index);
    write(root / "ocpp-engine.wasm", wasm);
    write(root / "simulator.js", "export {};\n");
    write(root / "big.bin", big);
    write(root / "sub" / "nested.html", "nested");
    write(dir() / "secret.txt", "outside the web root");
    // More than the kernel buffers between a server and a client that does not read hold.
    write(root / "huge.bin", std::string(huge_size, 'x'));
  }
  static void write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }
};

const Site& site() {
  static Site s;
  return s;
}

struct Answer {
  unsigned status = 0;
  http::fields headers;
  std::string body;
  std::string header(http::field f) const { return std::string(headers[f]); }
};

template <class Stream>
Answer exchange(Stream& stream, http::verb method, const std::string& target) {
  http::request<http::empty_body> req(method, target, 11);
  req.set(http::field::host, "localhost");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  if (method == http::verb::head) parser.skip(true);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  Answer a{res.result_int(), {}, std::move(res.body())};
  for (const auto& field : res) a.headers.set(field.name_string(), field.value());
  return a;
}

class WebRootTest : public WireTest {
 protected:
  std::unique_ptr<Server> web_server(ServerOptions so = {}) {
    so.web_root = site().root;
    auto server = make_server(so);
    server->handle("Heartbeat", heartbeat);
    server->on_security_event([this](const SecurityEvent& e) {
      std::lock_guard lock(m_);
      events_.push_back(std::string(to_string(e.type)) + ": " + e.details);
    });
    return server;
  }
  Answer fetch(std::uint16_t port, const std::string& target, http::verb method = http::verb::get) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    return exchange(s, method, target);
  }
  Answer fetch_tls(std::uint16_t port, const std::string& target, http::verb method = http::verb::get) {
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(site().cert("ca"));
    ctx.set_verify_mode(ssl::verify_peer);
    ssl::stream<asio::ip::tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    s.handshake(ssl::stream_base::client);
    return exchange(s, method, target);
  }
  std::vector<std::string> events() {
    std::lock_guard lock(m_);
    return events_;
  }

 private:
  std::mutex m_;
  std::vector<std::string> events_;
};

TEST_F(WebRootTest, SlashIsTheIndexAndEachFileHasItsTypeLengthAndNoCache) {
  auto server = web_server();
  const auto port = server->listen(0, "127.0.0.1");
  const auto index = fetch(port, "/?url=ws%3A%2F%2Fx&autostart=1");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.body, site().index);
  EXPECT_EQ(index.header(http::field::content_type), "text/html; charset=utf-8");
  EXPECT_EQ(index.header(http::field::content_length), std::to_string(site().index.size()));
  EXPECT_EQ(index.header(http::field::cache_control), "no-cache");
  EXPECT_EQ(fetch(port, "/index.html").body, site().index);

  const auto wasm = fetch(port, "/ocpp-engine.wasm");
  EXPECT_EQ(wasm.status, 200u);
  EXPECT_EQ(wasm.header(http::field::content_type), "application/wasm");
  EXPECT_EQ(wasm.body, site().wasm) << "binary, NUL bytes included";
  EXPECT_EQ(fetch(port, "/simulator.js").header(http::field::content_type), "text/javascript; charset=utf-8");
  EXPECT_TRUE(events().empty());
}

TEST_F(WebRootTest, MissingFilesDirectoriesAndTraversalAttemptsAnswer404WithoutASecurityEvent) {
  auto server = web_server();
  const auto port = server->listen(0, "127.0.0.1");
  for (const char* target : {"/missing.html", "/sub", "/sub/nested.html", "/../secret.txt", "/..%2fsecret.txt",
                             "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "//secret.txt", "/.", "/..",
                             "/sub/..%2f..%2fsecret.txt", "/..\\secret.txt"}) {
    const auto a = fetch(port, target);
    EXPECT_EQ(a.status, 404u) << target;
    EXPECT_EQ(a.body, "Not found") << target;
  }
  EXPECT_TRUE(events().empty()) << events().front();
}

TEST_F(WebRootTest, HeadGivesTheHeadersWithoutTheBodyAndOtherMethodsGet405) {
  auto server = web_server();
  const auto port = server->listen(0, "127.0.0.1");
  const auto head = fetch(port, "/ocpp-engine.wasm", http::verb::head);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header(http::field::content_length), std::to_string(site().wasm.size()));
  EXPECT_EQ(head.header(http::field::content_type), "application/wasm");
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(fetch(port, "/nope.html", http::verb::head).status, 404u);
  for (auto method : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::options}) {
    const auto a = fetch(port, "/index.html", method);
    EXPECT_EQ(a.status, 405u) << http::to_string(method);
    EXPECT_EQ(a.header(http::field::allow), "GET, HEAD");
  }
  EXPECT_TRUE(events().empty());
}

TEST_F(WebRootTest, WebSocketUpgradesOnAnyPathAreUnaffected) {
  auto server = web_server();
  const auto port = server->listen(0, "127.0.0.1");
  auto client = make_client(port);
  get(client->connect(asio::use_future));
  get(client->call("Heartbeat", json::object(), asio::use_future));
  EXPECT_EQ(raw_http(port, upgrade_request("/index.html", "Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            "HTTP/1.1 101 Switching Protocols")
      << "identity index.html";
}

TEST_F(WebRootTest, ALargeFileArrivesWholeOverPlainAndTls) {
  auto server = web_server();
  const auto plain = server->listen(0, "127.0.0.1");
  ListenOptions lo;
  lo.host = "127.0.0.1";
  lo.profile = SecurityProfile::tls_basic_auth;
  lo.tls.certificates = {{site().cert("server"), site().key("server"), ""}};
  const auto tls = server->listen(lo);

  const auto over_plain = fetch(plain, "/big.bin");
  EXPECT_EQ(over_plain.status, 200u);
  EXPECT_EQ(over_plain.header(http::field::content_type), "application/octet-stream");
  EXPECT_TRUE(over_plain.body == site().big) << over_plain.body.size() << " bytes of " << site().big.size();
  const auto over_tls = fetch_tls(tls, "/big.bin");
  EXPECT_EQ(over_tls.status, 200u);
  EXPECT_TRUE(over_tls.body == site().big) << over_tls.body.size() << " bytes of " << site().big.size();
  EXPECT_EQ(fetch_tls(tls, "/").body, site().index);
  EXPECT_EQ(fetch_tls(tls, "/../secret.txt").status, 404u);
  EXPECT_EQ(fetch_tls(tls, "/ocpp-engine.wasm", http::verb::head).header(http::field::content_length),
            std::to_string(site().wasm.size()));
}

// A file answer is bounded by handshake_timeout like any HTTP answer: a client that stops reading
// holds its handshake slot no longer.
TEST_F(WebRootTest, AFileTheClientStopsReadingIsCutAtHandshakeTimeout) {
  ServerOptions so;
  so.health_endpoint = true;  // for the in-flight gauge
  so.handshake_timeout = milliseconds(300);
  auto server = web_server(so);
  const auto port = server->listen(0, "127.0.0.1");
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.open(asio::ip::tcp::v4());
  s.set_option(asio::socket_base::receive_buffer_size(4096));  // before connect: no autotuning
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(std::string("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string received;
  asio::read_until(s, asio::dynamic_buffer(received), "\r\n\r\n");  // the answer has begun
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server->metrics()->handshakes_in_flight() != 0) {  // no event for the slot's release
    ASSERT_LT(std::chrono::steady_clock::now(), limit) << "the file answer outlived handshake_timeout";
    std::this_thread::sleep_for(milliseconds(10));
  }
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(received), ec);
  EXPECT_TRUE(ec) << "closed";
  EXPECT_LT(received.size(), Site::huge_size) << "cut short";
  EXPECT_TRUE(events().empty());
}

TEST_F(WebRootTest, AWebRootThatIsNoDirectoryIsRefusedAtConstruction) {
  ServerOptions so;
  so.web_root = site().root / "index.html";
  EXPECT_THROW(make_server(so), std::invalid_argument);
  so.web_root = site().root / "absent";
  EXPECT_THROW(make_server(so), std::invalid_argument);
}

}  // namespace
}  // namespace ocpp_test
