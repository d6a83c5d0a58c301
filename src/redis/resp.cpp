#include "redis/resp.hpp"

#include <hiredis/read.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace ocpp::redis {
namespace {

// hiredis calls these as it parses. A child is built in its slot of the parent's elements (sized
// when the array header arrived, so the slot does not move); only the root is allocated, and only
// the root is ever handed to free_object. They return null for hiredis' out-of-memory error rather
// than letting an exception cross its C frames.
void* place(const redisReadTask* task, Reply&& value) noexcept {
  try {
    if (task->parent) {
      Reply& slot = static_cast<Reply*>(task->parent->obj)->elements()[static_cast<std::size_t>(task->idx)];
      slot = std::move(value);
      return &slot;
    }
    return new Reply(std::move(value));
  } catch (...) {
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* data, size_t size) {
  try {
    std::string text(data, size);
    switch (task->type) {
      case REDIS_REPLY_ERROR: return place(task, Reply::error(std::move(text)));
      case REDIS_REPLY_STATUS: return place(task, Reply::status(std::move(text)));
      default: return place(task, Reply::string(std::move(text)));
    }
  } catch (...) {
    return nullptr;
  }
}

void* create_array(const redisReadTask* task, int elements) {
  try {
    return place(task, Reply::array(std::vector<Reply>(static_cast<std::size_t>(elements))));
  } catch (...) {
    return nullptr;
  }
}

void* create_integer(const redisReadTask* task, long long value) { return place(task, Reply::integer(value)); }
void* create_nil(const redisReadTask* task) { return place(task, Reply::nil()); }
void free_object(void* root) { delete static_cast<Reply*>(root); }

redisReplyObjectFunctions functions{create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(&functions)) {
  if (!reader_) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() { redisReaderFree(reader_); }

bool ReplyReader::feed(const char* data, std::size_t size) { return redisReaderFeed(reader_, data, size) == REDIS_OK; }

std::optional<Reply> ReplyReader::next() {
  void* root = nullptr;
  if (redisReaderGetReply(reader_, &root) != REDIS_OK || !root) return std::nullopt;
  std::unique_ptr<Reply> owned(static_cast<Reply*>(root));
  return std::move(*owned);
}

std::string ReplyReader::error() const { return reader_->err ? std::string(reader_->errstr) : std::string(); }

}  // namespace ocpp::redis
