#include "failure.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace ocpp {

std::exception_ptr to_exception(const Failure& f) {
  switch (f.kind) {
    case FailureKind::rpc_error: return std::make_exception_ptr(*f.rpc);
    case FailureKind::validation: return std::make_exception_ptr(*f.validation);
    case FailureKind::timeout: return std::make_exception_ptr(TimeoutError(f.message));
    case FailureKind::connection: return std::make_exception_ptr(ConnectionError(f.message, f.close_code));
    case FailureKind::usage: return std::make_exception_ptr(UsageError(f.message));
    case FailureKind::invalid: return std::make_exception_ptr(Error(f.message));
    case FailureKind::unsupported: return std::make_exception_ptr(std::logic_error(f.message));
    case FailureKind::send_queue_full:
      return std::make_exception_ptr(SendQueueFullError(f.message, f.close_code));
    case FailureKind::cancelled:
      return std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted));
  }
  return std::make_exception_ptr(Error(f.message));
}

}  // namespace ocpp
