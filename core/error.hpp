#pragma once
// Errors are exceptions that carry their context (file, key, site...). The CLI turns any of
// them into one clear message and a non-zero exit status.
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace lsmss {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A deck (Lua input) that is malformed, has an unknown key or a value of the wrong type.
class DeckError : public Error {
 public:
  using Error::Error;
};

// A file that cannot be read, or whose content is not what it should be.
class FileError : public Error {
 public:
  using Error::Error;
};

// A feature (backend, plugin) that was not compiled into this build.
class NotCompiledError : public Error {
 public:
  using Error::Error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lsmss
