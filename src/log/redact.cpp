#include "ocpp/log/redact.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace ocpp {
namespace json = boost::json;

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Text embedded in text (JSON in a JSON string in ...) is followed this deep; below that only the
// lexical pass runs, which still masks every secret key it sees.
constexpr int kMaxDepth = 4;

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
constexpr bool is_separator(char c) noexcept { return c == '_' || c == '-'; }
constexpr bool is_ident(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || is_separator(c);
}
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` at `i` spells `needle` (lower case), case-insensitively and skipping '_' / '-' after the first
// letter, so the scan agrees with is_secret_key() on keys like pass_word or Private-Key.
bool spells_at(std::string_view s, std::size_t i, std::string_view needle) noexcept {
  std::size_t k = 0;
  for (; i < s.size() && k < needle.size(); ++i) {
    if (k > 0 && is_separator(s[i])) continue;
    if (lower(s[i]) != needle[k]) return false;
    ++k;
  }
  return k == needle.size();
}

bool ends_with_loose(std::string_view key, std::string_view suffix) noexcept {
  std::size_t i = key.size();
  std::size_t k = suffix.size();
  while (k > 0) {
    while (i > 0 && is_separator(key[i - 1])) --i;
    if (i == 0 || lower(key[i - 1]) != suffix[k - 1]) return false;
    --i;
    --k;
  }
  return true;
}

bool ends_with_authorization(std::string_view key) noexcept { return ends_with_loose(key, "authorization"); }

bool equals_ci(std::string_view a, std::string_view lower_b) noexcept {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower_b[i]) return false;
  return true;
}

// The keys that carry a configuration value next to a secret's name (see redact.hpp).
bool is_config_value_key(std::string_view key) noexcept {
  return equals_ci(key, "value") || equals_ci(key, "attributevalue");
}

// ---- PEM private keys ----------------------------------------------------------------------

std::string mask_pem(std::string_view s) {
  std::string out;
  std::size_t copied = 0;
  std::size_t pos = 0;
  while ((pos = s.find("-----BEGIN", pos)) != npos) {
    const std::size_t label = pos + 10;
    const std::size_t label_end = s.find("-----", label);
    if (label_end == npos) break;
    if (s.substr(label, label_end - label).find("PRIVATE KEY") == npos) {  // certificates may stay
      pos = label_end + 5;
      continue;
    }
    std::size_t stop;
    if (const std::size_t end = s.find("-----END", label_end + 5); end != npos) {
      const std::size_t close = s.find("-----", end + 8);
      stop = close == npos ? s.size() : close + 5;
    } else {
      // A truncated key is masked up to the string that holds it, so JSON around it stays valid.
      stop = s.find('"', label_end + 5);
      if (stop == npos) {
        stop = s.size();
      } else {
        while (stop > label_end + 5 && s[stop - 1] == '\\') --stop;
      }
    }
    out.append(s, copied, pos - copied);
    out += kRedacted;
    copied = pos = stop;
  }
  out.append(s, copied);
  return out;
}

// ---- the lexical pass ------------------------------------------------------------------------

// A quote around a token and how deeply it is escaped: `"k"` is level 0, `\"k\"` level 1 (JSON
// inside a JSON string), `\\\"k\\\"` level 3.
struct Quote {
  char ch = 0;  // 0: not quoted
  std::size_t level = 0;
};

Quote opening_quote(std::string_view s, std::size_t begin) noexcept {
  if (begin == 0 || (s[begin - 1] != '"' && s[begin - 1] != '\'')) return {};
  std::size_t level = 0;
  for (std::size_t p = begin - 1; p > 0 && s[p - 1] == '\\'; --p) ++level;
  return {s[begin - 1], level};
}

// Position after the closing quote of `q` when it starts exactly at `p`, else npos.
std::size_t closing_quote_at(std::string_view s, std::size_t p, Quote q) noexcept {
  if (p + q.level >= s.size()) return npos;
  for (std::size_t k = 0; k < q.level; ++k)
    if (s[p + k] != '\\') return npos;
  return s[p + q.level] == q.ch ? p + q.level + 1 : npos;
}

struct Span {
  std::size_t content_end;  // where the value's text ends
  std::size_t after;        // past its closing delimiter
};

// The end of a string whose content starts at `p`. At level L the closing quote has a run of r
// backslashes with r % (2L + 2) == L (escaped backslashes come in runs of 2L + 2); a quote with
// fewer than L backslashes closes an enclosing string, which ends this one too.
Span find_string_end(std::string_view s, std::size_t p, Quote q) noexcept {
  for (std::size_t i = p; i < s.size(); ++i) {
    if (s[i] != q.ch) continue;
    std::size_t r = 0;
    while (r < i - p && s[i - 1 - r] == '\\') ++r;
    if (r < q.level) return {i - r, i - r};
    if (r % (2 * q.level + 2) == q.level) return {i - q.level, i + 1};
  }
  return {s.size(), s.size()};
}

// Past the bracket that closes the one at `p` (or the end of `s`), skipping strings quoted at
// `level` (see find_string_end()).
std::size_t matching_bracket(std::string_view s, std::size_t p, std::size_t level) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = p; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      std::size_t r = 0;
      while (r < i - p && s[i - 1 - r] == '\\') ++r;
      if (r % (2 * level + 2) == level) in_string = !in_string;
    } else if (in_string) {
      continue;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return s.size();
}

// Length of a leading "Basic " / "Bearer " (the scheme stays readable, the credentials do not).
std::size_t auth_scheme_length(std::string_view v) noexcept {
  static constexpr std::array<std::string_view, 6> schemes{"basic", "bearer", "digest", "token", "negotiate", "ntlm"};
  for (std::string_view scheme : schemes) {
    if (v.size() <= scheme.size() || !equals_ci(v.substr(0, scheme.size()), scheme)) continue;
    std::size_t n = scheme.size();
    if (v[n] != ' ') continue;
    while (n < v.size() && v[n] == ' ') ++n;
    return n;
  }
  return 0;
}

// Where an unquoted value (a JSON scalar or a prose token) stops.
bool ends_token(std::string_view s, std::size_t i) noexcept {
  switch (s[i]) {
    case ' ': case '\t': case '\r': case '\n': case '"': case '\'': case ',': case ';': case '&':
    case ')': case ']': case '}': case '<': case '>':
      return true;
    case '\\':
      // An escaped quote or line break ends it; other escapes (\\, \/, \u) are part of the value.
      return i + 1 >= s.size() || s[i + 1] == '"' || s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == 't';
    default:
      return false;
  }
}

std::size_t token_end(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && !ends_token(s, i)) i += s[i] == '\\' ? 2 : 1;
  return std::min(i, s.size());
}

void append_quote(std::string& out, Quote q) {
  out.append(q.level, '\\');
  out.push_back(q.ch);
}

// Appends the masked form of the value at `v`; returns where the original value ends.
std::size_t mask_value(std::string_view s, std::size_t v, Quote key_quote, bool keep_scheme, std::string& out) {
  const std::size_t n = s.size();
  std::size_t b = v;
  while (b < n && s[b] == '\\') ++b;
  if (b < n && (s[b] == '"' || s[b] == '\'')) {
    const Quote q{s[b], b - v};
    const std::size_t start = b + 1;
    const Span span = find_string_end(s, start, q);
    out.append(s, v, start - v);
    if (keep_scheme) out.append(s.substr(start, auth_scheme_length(s.substr(start, span.content_end - start))));
    out += kRedacted;
    out.append(s, span.content_end, span.after - span.content_end);
    return span.after;
  }
  // A JSON key's non-string value becomes a string, so the JSON stays valid.
  const bool json_key = key_quote.ch == '"';
  if (s[v] == '{' || s[v] == '[') {
    const std::size_t end = matching_bracket(s, v, key_quote.level);
    if (json_key) append_quote(out, key_quote);
    out += kRedacted;
    if (json_key) append_quote(out, key_quote);
    return end;
  }
  std::size_t start = v;
  // "Authorization: Basic xyz": the scheme stays, the token after it goes.
  if (const std::size_t word = token_end(s, v); keep_scheme && word < n && s[word] == ' ') {
    start = v + auth_scheme_length(s.substr(v));
    out.append(s, v, start - v);
  }
  const std::size_t e = token_end(s, start);
  if (e == start) return start;
  if (json_key) append_quote(out, key_quote);
  out += kRedacted;
  if (json_key) append_quote(out, key_quote);
  return e;
}

bool ends_userinfo(char c) noexcept {
  return is_space(c) || c == '/' || c == '?' || c == '#' || c == '@' || c == '"' || c == '\'' || c == '\\' ||
         c == '<' || c == '>';
}

// A key at [i, j): the position after its closing quote and the quote, if it is used as a key
// (followed by ':' or '='), else npos.
std::pair<std::size_t, Quote> key_use(std::string_view s, std::size_t i, std::size_t j) noexcept {
  Quote q = opening_quote(s, i);
  std::size_t k = j;
  if (q.ch) {
    if (const std::size_t after = closing_quote_at(s, j, q); after != npos) {
      k = after;
    } else {
      q = {};  // a quoted phrase that starts with the word: prose
    }
  }
  const bool json_key = q.ch == '"';
  while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || (json_key && is_space(s[k])))) ++k;
  if (k >= s.size() || (s[k] != ':' && s[k] != '=')) return {npos, q};
  if (s.compare(k, 3, "://") == 0) return {npos, q};
  return {k + 1, q};
}

// Masks secret keys' values, Authorization credentials and URL passwords. With
// `config_values`, every "value"/"attributeValue" too (the fallback of the OCPP configuration rule).
void redact_lexical(std::string_view s, std::string& out, bool config_values) {
  const std::size_t n = s.size();
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (c == ':' && s.compare(i, 3, "://") == 0) {
      std::size_t e = i + 3;
      std::size_t colon = npos;
      for (; e < n && !ends_userinfo(s[e]); ++e)
        if (s[e] == ':' && colon == npos) colon = e;
      if (e < n && s[e] == '@' && colon != npos && colon + 1 < e) {
        out.append(s, copied, colon + 1 - copied);
        out += kRedacted;
        copied = e;
      }
      i = e;
      continue;
    }
    if (!is_ident(c) || (i > 0 && is_ident(s[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && is_ident(s[j])) ++j;
    const std::string_view word = s.substr(i, j - i);
    if (!is_secret_key(word) && !(config_values && is_config_value_key(word))) {
      i = j;
      continue;
    }
    auto [p, quote] = key_use(s, i, j);
    if (p == npos) {
      i = j;
      continue;
    }
    const bool json_key = quote.ch == '"';
    while (p < n && (s[p] == ' ' || s[p] == '\t' || (json_key && is_space(s[p])))) ++p;
    if (p >= n) break;
    out.append(s, copied, p - copied);
    copied = i = mask_value(s, p, quote, ends_with_authorization(word), out);
  }
  out.append(s, copied);
}

// ---- OCPP configuration carried as data --------------------------------------------------------

// A secret's name used as a quoted value ("key":"AuthorizationKey", "name":"BasicAuthPassword").
bool has_secret_name_as_value(std::string_view s) noexcept {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (!is_ident(s[i]) || (i > 0 && is_ident(s[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && is_ident(s[j])) ++j;
    if (is_secret_key(s.substr(i, j - i))) {
      const Quote q = opening_quote(s, i);
      if (q.ch == '"' && closing_quote_at(s, j, q) != npos && key_use(s, i, j).first == npos) return true;
    }
    i = j;
  }
  return false;
}

// The outermost balanced [...] / {...} spans of `s`, strings inside them skipped.
std::vector<std::pair<std::size_t, std::size_t>> json_islands(std::string_view s) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::vector<std::size_t> open;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = !open.empty();  // quotes in prose around the JSON mean nothing
    } else if (c == '{' || c == '[') {
      open.push_back(i);
    } else if ((c == '}' || c == ']') && !open.empty()) {
      if ((c == '}') != (s[open.back()] == '{')) {
        open.clear();
        continue;
      }
      const std::size_t begin = open.back();
      open.pop_back();
      if (open.empty()) spans.emplace_back(begin, i + 1);
    }
  }
  return spans;
}

bool redact_value(json::value& v, int depth);
std::string redact_text(std::string_view text, int depth);

bool mask(json::value& v) {
  if (v.is_string() && v.get_string() == kRedacted) return false;
  v = kRedacted;
  return true;
}

bool redact_object(json::object& o, int depth) {
  bool changed = false;
  // OCPP 1.6 ChangeConfiguration.req and GetConfiguration.conf's KeyValue.
  if (const auto* key = o.if_contains("key"); key && key->is_string() && is_secret_key(key->get_string())) {
    if (auto* value = o.if_contains("value")) changed |= mask(*value);
  }
  // OCPP 2.x SetVariableData, GetVariableResult, ReportData.
  if (const auto* var = o.if_contains("variable"); var && var->is_object()) {
    const auto* name = var->get_object().if_contains("name");
    if (name && name->is_string() && is_secret_key(name->get_string())) {
      if (auto* value = o.if_contains("attributeValue")) changed |= mask(*value);
      if (auto* attrs = o.if_contains("variableAttribute"); attrs && attrs->is_array()) {
        for (auto& attr : attrs->get_array())
          if (auto* value = attr.is_object() ? attr.get_object().if_contains("value") : nullptr) changed |= mask(*value);
      }
    }
  }
  for (auto& kv : o) {
    if (!is_secret_key(kv.key())) {
      changed |= redact_value(kv.value(), depth);
    } else if (ends_with_authorization(kv.key()) && kv.value().is_string()) {
      // As in text: "Basic [REDACTED]", the scheme stays readable.
      const std::string_view v = kv.value().get_string();
      std::string masked(v.substr(0, auth_scheme_length(v)));
      masked += kRedacted;
      if (masked != v) {
        kv.value() = masked;
        changed = true;
      }
    } else {
      changed |= mask(kv.value());
    }
  }
  return changed;
}

bool redact_value(json::value& v, int depth) {
  switch (v.kind()) {
    case json::kind::object: return redact_object(v.get_object(), depth);
    case json::kind::array: {
      bool changed = false;
      for (auto& e : v.get_array()) changed |= redact_value(e, depth);
      return changed;
    }
    case json::kind::string: {
      const std::string_view s = v.get_string();
      if (!may_contain_secret(s)) return false;
      std::string r = redact_text(s, depth + 1);
      if (r == s) return false;
      v = r;
      return true;
    }
    default: return false;
  }
}

// Parses the JSON in `s` and applies the structural rules; `unresolved` tells whether a secret's
// name is left outside parseable JSON.
std::string redact_islands(std::string_view s, int depth, bool& unresolved) {
  std::string out;
  std::size_t copied = 0;
  unresolved = false;
  for (const auto& [begin, end] : json_islands(s)) {
    json::error_code ec;
    json::value v = json::parse(s.substr(begin, end - begin), ec);
    if (ec) continue;
    unresolved = unresolved || has_secret_name_as_value(s.substr(copied, begin - copied));
    out.append(s, copied, begin - copied);
    if (redact_value(v, depth)) {
      out += json::serialize(v);
    } else {
      out.append(s, begin, end - begin);
    }
    copied = end;
  }
  unresolved = unresolved || has_secret_name_as_value(s.substr(copied));
  out.append(s, copied);
  return out;
}

std::string redact_text(std::string_view text, int depth) {
  if (!may_contain_secret(text)) return std::string(text);
  std::string s = mask_pem(text);
  bool config_values = false;
  if (has_secret_name_as_value(s)) {
    if (depth < kMaxDepth) {
      s = redact_islands(s, depth, config_values);
    } else {
      config_values = true;
    }
  }
  std::string out;
  out.reserve(s.size());
  redact_lexical(s, out, config_values);
  return out;
}

bool value_may_contain_secret(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::object: return may_contain_secret(v.get_object());
    case json::kind::array:
      for (const auto& e : v.get_array())
        if (value_may_contain_secret(e)) return true;
      return false;
    case json::kind::string: return may_contain_secret(std::string_view(v.get_string()));
    default: return false;
  }
}

}  // namespace

bool is_secret_key(std::string_view key) noexcept {
  static constexpr std::array<std::string_view, 6> suffixes{"password",   "passwd",           "passphrase",
                                                            "privatekey", "authorizationkey", "authorization"};
  for (std::string_view suffix : suffixes)
    if (ends_with_loose(key, suffix)) return true;
  return false;
}

bool may_contain_secret(std::string_view text) noexcept {
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    switch (text[i]) {
      case 'p': case 'P':
        if (spells_at(text, i, "passw") || spells_at(text, i, "passphrase") || spells_at(text, i, "private"))
          return true;
        break;
      case 'a': case 'A':
        if (spells_at(text, i, "authorization")) return true;
        break;
      case ':':
        if (text.compare(i, 3, "://") == 0) return true;
        break;
      default: break;
    }
  }
  return false;
}

bool may_contain_secret(const json::object& fields) noexcept {
  for (const auto& kv : fields)
    if (is_secret_key(kv.key()) || value_may_contain_secret(kv.value())) return true;
  return false;
}

std::string redact(std::string_view text) { return redact_text(text, 0); }

void redact(json::object& fields) { redact_object(fields, 0); }

void redact(json::value& value) { redact_value(value, 0); }

}  // namespace ocpp
