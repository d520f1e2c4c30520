// The one error type of the public API. Every message says what is wrong, where (file, node, input,
// property) and what was expected.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sluice {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// The error an inference ends with when InferRequest::cancel() stopped it.
class InferCancelled : public Error {
 public:
  using Error::Error;
};

// Builds a message from any streamable pieces: throw_error("input '", name, "': expected ", n, " dims").
template <class... Args> [[noreturn]] void throw_error(Args&&... pieces) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(pieces));
  throw Error(out.str());
}

}  // namespace sluice

// Checks a condition; throws sluice::Error with the pieces as message when it does not hold.
#define SLUICE_CHECK(cond, ...)           \
  do {                                    \
    if (!(cond)) {                        \
      ::sluice::throw_error(__VA_ARGS__); \
    }                                     \
  } while (0)
