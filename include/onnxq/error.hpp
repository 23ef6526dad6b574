#pragma once

#include <stdexcept>
#include <string>

namespace onnxq {

// Process exit codes, documented in the README and in `onnxq --help`.
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,     // a bug in onnxq: anything not classified below
  kUsage = 2,        // bad command line
  kInput = 3,        // missing, unreadable or invalid model or data
  kUnsupported = 4,  // valid input that onnxq does not handle (op, opset, type)
  kOutput = 5,       // the output could not be written
  kThreshold = 6,    // a CI gate failed (size, accuracy)
};

// The one error type of the library. Context ("model.onnx", "node 'conv1'") is prepended
// as the error travels up, so the final message reads outside-in on one line.
class Error : public std::exception {
 public:
  Error(ExitCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ExitCode code() const noexcept { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

  Error& add_context(const std::string& context) {
    message_ = context + ": " + message_;
    return *this;
  }

 private:
  ExitCode code_;
  std::string message_;
};

[[noreturn]] inline void fail(ExitCode code, std::string message) { throw Error(code, std::move(message)); }

// Runs `fn`, prefixing any onnxq::Error it throws with `context`.
template <class Fn>
decltype(auto) with_context(const std::string& context, Fn&& fn) {
  try {
    return fn();
  } catch (Error& e) {
    e.add_context(context);
    throw;
  }
}

}  // namespace onnxq
